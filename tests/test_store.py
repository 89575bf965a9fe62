"""The SQLite manifest store: transactional writes, lookups, the async face."""

from __future__ import annotations

import sqlite3

import pytest

from provenance.store import AsyncManifestStore, ManifestStore, StoredManifest, StoreError


def _record(wid: int, manifest_id: str, fingerprint: int | None = 0xF0F0F0F0F0F0F0F0):
    return StoredManifest(
        wid,
        manifest_id,
        "org.provenance.ssw.1",
        f"v{wid}",
        b"\x00jumbf",
        "image/jpeg",
        fingerprint,
        "Acme Ltd",
    )


def test_register_and_find(tmp_path):
    store = ManifestStore(tmp_path / "m.db")
    store.register(_record(7, "urn:c2pa:a"))
    found = store.by_watermark(7)
    assert found is not None and found.manifest_id == "urn:c2pa:a" and found.created_at
    assert found.fingerprint == 0xF0F0F0F0F0F0F0F0  # all 64 bits survive SQLite's signed ints
    assert store.by_binding("org.provenance.ssw.1", "v7") == found
    assert store.by_manifest_id("urn:c2pa:a") == found
    assert store.by_watermark(8) is None


def test_wal_and_no_half_registration(tmp_path):
    path = tmp_path / "m.db"
    store = ManifestStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.register(_record(1, "urn:c2pa:one"))
    with pytest.raises(StoreError, match="already registered"):
        store.register(_record(2, "urn:c2pa:one"))  # same manifest id: the whole row is refused
    assert store.count() == 1 and store.by_watermark(2) is None


def test_new_ids_are_unused(tmp_path):
    store = ManifestStore(tmp_path / "m.db")
    ids = {store.new_watermark_id() for _ in range(50)}
    assert len(ids) == 50 and all(0 <= i < 1 << 40 for i in ids)


def test_nearest_fingerprints(tmp_path):
    store = ManifestStore(tmp_path / "m.db")
    store.register(_record(1, "urn:c2pa:near", 0xFFFF_0000_FFFF_0000))
    store.register(_record(2, "urn:c2pa:far", 0x0000_FFFF_0000_FFFF))
    hits = store.nearest(0xFFFF_0000_FFFF_0001, min_similarity=0.9)
    assert [(r.manifest_id, round(s, 3)) for r, s in hits] == [("urn:c2pa:near", 0.984)]


def test_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open the manifest store"):
        ManifestStore(blocker / "m.db")


async def test_async_face_runs_in_threads(tmp_path):
    store = AsyncManifestStore(ManifestStore(tmp_path / "m.db"))
    await store.register(_record(3, "urn:c2pa:async"))
    found = await store.by_watermark(3)
    assert found is not None and found.manifest_id == "urn:c2pa:async"
    assert await store.by_manifest_id("nope") is None
