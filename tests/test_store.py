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


def test_a_watermark_leads_to_the_newest_of_its_lineage(tmp_path):
    store = ManifestStore(tmp_path / "m.db")
    store.register(_record(5, "urn:c2pa:signed"))
    store.register(_record(6, "urn:c2pa:other"))
    store.register(_record(5, "urn:c2pa:re-signed"))
    store.register(_record(5, "urn:c2pa:edited"))
    assert store.by_watermark(5).manifest_id == "urn:c2pa:edited"
    assert store.by_binding("org.provenance.ssw.1", "v5").manifest_id == "urn:c2pa:edited"
    assert store.by_watermark(6).manifest_id == "urn:c2pa:other"
    # Fingerprint look-ups still return each record itself, not its lineage's newest.
    hits = store.nearest(0xF0F0F0F0F0F0F0F0, min_similarity=0.9, limit=10)
    assert sorted(r.manifest_id for r, _ in hits) == sorted(
        ["urn:c2pa:signed", "urn:c2pa:other", "urn:c2pa:re-signed", "urn:c2pa:edited"]
    )


_V1_SCHEMA = """
CREATE TABLE manifests (
    watermark_id INTEGER PRIMARY KEY, manifest_id TEXT NOT NULL UNIQUE, alg TEXT NOT NULL,
    binding_value TEXT NOT NULL, manifest_store BLOB NOT NULL, media_type TEXT NOT NULL,
    fingerprint INTEGER, signer TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX manifests_binding ON manifests (alg, binding_value);
INSERT INTO manifests VALUES (9, 'urn:c2pa:old', 'org.provenance.ssw.1', 'v9', x'00', 'image/jpeg',
    -1, 'Acme Ltd', '2025-01-01T00:00:00Z');
"""


def test_a_version_1_store_is_migrated_keeping_its_rows(tmp_path):
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as db:
        db.executescript(_V1_SCHEMA)
    store = ManifestStore(path)
    old = store.by_watermark(9)
    assert old is not None and old.manifest_id == "urn:c2pa:old"
    assert old.fingerprint == (1 << 64) - 1 and old.created_at == "2025-01-01T00:00:00Z"
    store.register(_record(9, "urn:c2pa:new"))  # refused by version 1's primary key
    assert store.by_watermark(9).manifest_id == "urn:c2pa:new" and store.count() == 2
    with sqlite3.connect(path) as db:
        columns = db.execute("SELECT name, pk FROM pragma_table_info('manifests')").fetchall()
        assert ("watermark_id", 0) in columns  # no longer the primary key
    ManifestStore(path)  # opening again migrates nothing
    assert store.count() == 2
