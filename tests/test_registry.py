"""The registry of signed manifests, on each backend (SQLite file, real PostgreSQL):
transactional writes, look-ups, lineage, the band index, the verdict cache, migrations, the
async face."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import random
import sqlite3
import threading

import pytest

from provenance.errors import RegistryError, RegistryUnavailableError
from provenance.fingerprint import similarity
from provenance.registry import (
    AsyncManifestRegistry,
    ManifestRegistry,
    PostgresRegistry,
    RegisteredManifest,
    SQLiteRegistry,
)
from provenance.registry.bands import band_values, max_distance, probes


def _record(
    wid: int,
    manifest_id: str,
    fingerprint: int | None = 0xF0F0F0F0F0F0F0F0,
    media_type: str = "image/jpeg",
):
    return RegisteredManifest(
        wid,
        manifest_id,
        "org.provenance.ssw.1",
        f"v{wid}",
        b"\x00jumbf" + manifest_id.encode(),
        media_type,
        fingerprint,
        "Acme Ltd",
    )


@pytest.fixture
def registry(registry_location):
    with ManifestRegistry(registry_location) as opened:
        yield opened


def test_location_picks_the_backend(registry, registry_location):
    expected = SQLiteRegistry if "://" not in str(registry_location) else PostgresRegistry
    assert type(registry) is expected


def test_the_connection_bound_is_taken_whatever_the_backend(registry_location):
    """The server passes its thread count to whichever backend the location names: a
    PostgreSQL pool is bounded by it, SQLite (a connection per thread) takes it and needs none."""
    with ManifestRegistry(registry_location, max_connections=3) as opened:
        if isinstance(opened, PostgresRegistry):
            assert opened.pool.max_size == 3
        else:
            assert isinstance(opened, SQLiteRegistry)


def test_register_and_find(registry):
    registry.register(_record(7, "urn:c2pa:a"))
    found = registry.by_watermark(7)
    assert found is not None and found.manifest_id == "urn:c2pa:a" and found.created_at
    assert found.manifest_store == b"\x00jumbfurn:c2pa:a"
    assert found.fingerprint == 0xF0F0F0F0F0F0F0F0  # all 64 bits survive signed integers
    assert registry.by_binding("org.provenance.ssw.1", "v7") == found
    assert registry.by_manifest_id("urn:c2pa:a") == found
    assert registry.by_watermark(8) is None and registry.by_manifest_id("nope") is None


def test_no_half_registration(registry):
    registry.register(_record(1, "urn:c2pa:one"))
    with pytest.raises(RegistryError, match="already registered"):
        registry.register(_record(2, "urn:c2pa:one"))  # same manifest id: the whole row is refused
    assert registry.count() == 1 and registry.by_watermark(2) is None
    # ... and its fingerprint was not left behind either.
    assert [r.manifest_id for r, _ in registry.nearest(0xF0F0F0F0F0F0F0F0)] == ["urn:c2pa:one"]


def test_a_watermark_leads_to_the_newest_of_its_lineage(registry):
    registry.register(_record(5, "urn:c2pa:signed"))
    registry.register(_record(6, "urn:c2pa:other"))
    registry.register(_record(5, "urn:c2pa:re-signed"))
    registry.register(_record(5, "urn:c2pa:edited"))
    assert registry.by_watermark(5).manifest_id == "urn:c2pa:edited"
    assert registry.by_binding("org.provenance.ssw.1", "v5").manifest_id == "urn:c2pa:edited"
    assert registry.by_watermark(6).manifest_id == "urn:c2pa:other"
    assert registry.by_manifest_id("urn:c2pa:signed") is not None
    # Fingerprint look-ups still return each record itself, not its lineage's newest.
    hits = registry.nearest(0xF0F0F0F0F0F0F0F0, min_similarity=0.9, limit=10)
    assert sorted(r.manifest_id for r, _ in hits) == sorted(
        ["urn:c2pa:signed", "urn:c2pa:other", "urn:c2pa:re-signed", "urn:c2pa:edited"]
    )


def test_new_ids_are_unused(registry):
    registry.register(_record(1, "urn:c2pa:one"))
    ids = {registry.new_watermark_id() for _ in range(50)}
    assert len(ids) == 50 and all(0 <= i < 1 << 40 for i in ids) and 1 not in ids


def test_issued_ids_and_references(registry):
    """Issued watermark identifiers are remembered with their client and never handed out
    again; a record's reference (bytes) survives the round trip, on both backends."""
    issued = registry.issue_watermark_id("client-a")
    assert registry.issued_to(issued) == "client-a" and registry.issued_to(issued + 1) is None
    assert issued not in {registry.new_watermark_id() for _ in range(20)}
    registry.register(
        dataclasses.replace(_record(issued, "urn:c2pa:ref"), reference=b"\xff\xd8ref")
    )
    found = registry.by_watermark(issued)
    assert found is not None and found.reference == b"\xff\xd8ref"
    assert registry.by_watermark(issued) == registry.by_manifest_id("urn:c2pa:ref")


def test_nearest_fingerprints(registry):
    registry.register(_record(1, "urn:c2pa:near", 0xFFFF_0000_FFFF_0000))
    registry.register(_record(2, "urn:c2pa:far", 0x0000_FFFF_0000_FFFF))
    registry.register(_record(3, "urn:c2pa:text", 0xFFFF_0000_FFFF_0000, "text/plain"))
    registry.register(_record(4, "urn:c2pa:none", None))
    hits = registry.nearest(0xFFFF_0000_FFFF_0001, min_similarity=0.9)
    assert [(r.manifest_id, round(s, 3)) for r, s in hits] == [("urn:c2pa:near", 0.984)]
    texts = registry.nearest(0xFFFF_0000_FFFF_0001, min_similarity=0.9, text=True)
    assert [r.manifest_id for r, _ in texts] == ["urn:c2pa:text"]


@pytest.mark.parametrize("min_similarity", [0.95, 0.9, 0.85, 0.8, 0.7])
def test_band_index_finds_exactly_what_a_scan_finds(registry, min_similarity):
    """Pigeonhole: within the radius, some band is close enough; the index misses nothing and
    adds nothing the exact check would reject (0.7 is past the index: the table is scanned)."""
    rng = random.Random(13)
    query = rng.getrandbits(64)
    stored = {}
    for i in range(300):
        # Mostly near the query (0..16 bits flipped anywhere), some unrelated.
        fp = query
        for bit in rng.sample(range(64), rng.randint(0, 16)):
            fp ^= 1 << bit
        if i % 5 == 0:
            fp = rng.getrandbits(64)
        stored[f"urn:c2pa:{i}"] = fp
        registry.register(_record(i, f"urn:c2pa:{i}", fp))
    expected = sorted(
        (mid for mid, fp in stored.items() if similarity(query, fp) >= min_similarity)
    )
    hits = registry.nearest(query, min_similarity=min_similarity, limit=1000)
    assert sorted(r.manifest_id for r, _ in hits) == expected
    assert len(expected) > 5  # the case is not void
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)


def test_bands_and_probes():
    assert band_values(0x0123_4567_89AB_CDEF) == (0x0123, 0x4567, 0x89AB, 0xCDEF)
    assert max_distance(0.9) == 6 and max_distance(0.85) == 9 and max_distance(1.0) == 0
    assert [len(p) for p in probes(0, 0.9) or []] == [17] * 4  # radius 1
    assert probes(0, 0.7) is None  # radius 4: a scan of the fingerprints instead


def test_verdict_cache_expires_and_keys_on_media_type(registry):
    registry.put_verdict("ab" * 32, "image/*", json.dumps({"v": 1}), ttl=60, keep=100)
    registry.put_verdict("ab" * 32, "text/plain", json.dumps({"v": 2}), ttl=60, keep=100)
    registry.put_verdict("cd" * 32, "image/*", json.dumps({"v": 3}), ttl=-1, keep=100)
    assert json.loads(registry.get_verdict("ab" * 32, "image/*") or "") == {"v": 1}
    assert json.loads(registry.get_verdict("ab" * 32, "text/plain") or "") == {"v": 2}
    assert registry.get_verdict("ab" * 32) is not None  # the report link: any media type
    assert registry.get_verdict("cd" * 32) is None  # expired
    registry.put_verdict("ab" * 32, "image/*", json.dumps({"v": 4}), ttl=60, keep=100)
    assert json.loads(registry.get_verdict("ab" * 32, "image/*") or "") == {"v": 4}


def test_threads_share_one_registry(registry):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                registry.register(_record(n * 100 + i, f"urn:c2pa:{n}-{i}"))
                assert registry.by_watermark(n * 100 + i) is not None
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and registry.count() == 40


async def test_async_face_runs_in_threads(registry):
    # Each call records the thread it ran on: the face exists to keep the loop's thread free.
    ran_on: list[int] = []
    for name in ("register", "by_watermark", "by_manifest_id"):
        method = getattr(registry, name)

        def recorded(*args, _method=method):
            ran_on.append(threading.get_ident())
            return _method(*args)

        setattr(registry, name, recorded)
    face = AsyncManifestRegistry(registry)
    await face.register(_record(3, "urn:c2pa:async"))
    found = await face.by_watermark(3)
    assert found is not None and found.manifest_id == "urn:c2pa:async"
    assert await face.by_manifest_id("nope") is None
    assert len(ran_on) == 3 and threading.get_ident() not in ran_on


# -- SQLite only --------------------------------------------------------------------------------


def test_sqlite_wal(tmp_path):
    path = tmp_path / "m.db"
    ManifestRegistry(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_processes_opening_a_new_file_together_all_open_it(tmp_path):
    """Server workers start together on a new registry file: switching it to WAL needs the
    file to itself, and SQLite refuses at once ("database is locked") rather than waiting, so
    a worker used to die at start-up now and then. Six processes, twenty new files."""
    context = multiprocessing.get_context("fork")
    for round_ in range(20):
        path = tmp_path / f"m{round_}.db"
        barrier = context.Barrier(6)
        results = context.Queue()
        processes = [
            context.Process(target=_open_after, args=(path, barrier, results)) for _ in range(6)
        ]
        for p in processes:
            p.start()
        outcomes = [results.get(timeout=60) for _ in processes]
        for p in processes:
            p.join()
        assert outcomes == ["opened"] * 6, outcomes


def _open_after(path, barrier, results) -> None:
    barrier.wait()
    try:
        ManifestRegistry(path).close()
        results.put("opened")
    except Exception as exc:  # the test reports it
        results.put(repr(exc))


def test_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RegistryError, match="cannot open the registry"):
        ManifestRegistry(blocker / "m.db")


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

#: Version 2 as main wrote it (one table, several manifests per watermark).
_V2_SCHEMA = """
CREATE TABLE manifests (
    watermark_id INTEGER NOT NULL, manifest_id TEXT NOT NULL UNIQUE, alg TEXT NOT NULL,
    binding_value TEXT NOT NULL, manifest_store BLOB NOT NULL, media_type TEXT NOT NULL,
    fingerprint INTEGER, signer TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX manifests_watermark ON manifests (watermark_id);
CREATE INDEX manifests_binding ON manifests (alg, binding_value);
INSERT INTO manifests VALUES (9, 'urn:c2pa:first', 'org.provenance.ssw.1', 'v9', x'00',
    'image/jpeg', -1, 'Acme Ltd', '2025-01-01T00:00:00Z');
INSERT INTO manifests VALUES (9, 'urn:c2pa:second', 'org.provenance.ssw.1', 'v9', x'01',
    'image/jpeg', NULL, 'Acme Ltd', '2025-01-01T00:00:00Z');
"""


def test_a_version_1_registry_is_migrated_keeping_its_rows(tmp_path):
    from provenance.registry.sqlite import SCHEMA_VERSION

    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as db:
        db.executescript(_V1_SCHEMA)
    registry = ManifestRegistry(path)
    old = registry.by_watermark(9)
    assert old is not None and old.manifest_id == "urn:c2pa:old"
    assert old.fingerprint == (1 << 64) - 1 and old.created_at == "2025-01-01T00:00:00Z"
    registry.register(_record(9, "urn:c2pa:new"))  # refused by version 1's primary key
    new = registry.by_watermark(9)
    assert new is not None and new.manifest_id == "urn:c2pa:new" and registry.count() == 2
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = db.execute("SELECT name, pk FROM pragma_table_info('manifests')").fetchall()
        assert ("watermark_id", 0) in columns  # no longer the primary key
    ManifestRegistry(path)  # opening again migrates nothing
    assert registry.count() == 2


@pytest.mark.parametrize("user_version", [2, 0], ids=["versioned", "relaxed in place"])
def test_a_version_2_registry_is_migrated_keeping_its_lineage_order(tmp_path, user_version):
    """Main's one-table lineage registry, as written with ``user_version`` 2 and as relaxed in
    place from the first schema (``user_version`` left at 0)."""
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as db:
        db.executescript(_V2_SCHEMA + f"PRAGMA user_version = {user_version};")
    registry = ManifestRegistry(path)
    newest = registry.by_watermark(9)
    assert newest is not None and newest.manifest_id == "urn:c2pa:second"  # registered last
    assert [r.manifest_id for r, _ in registry.nearest((1 << 64) - 1)] == ["urn:c2pa:first"]
    assert newest.fingerprint is None


def test_look_ups_never_read_the_manifest_bytes(tmp_path):
    """The band index covers the look-up: SQLite's plan reads only fingerprint indexes."""
    registry = ManifestRegistry(tmp_path / "m.db")
    registry.register(_record(1, "urn:c2pa:a"))
    with sqlite3.connect(tmp_path / "m.db") as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT id, fp FROM fingerprints WHERE kind = 0 AND b0 IN "
            "(SELECT value FROM json_each('[1,2]'))"
        ).fetchall()
    text = " ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX fingerprints_b0" in text and "manifests" not in text, text


# -- PostgreSQL only ----------------------------------------------------------------------------


def test_postgres_processes_migrate_once(postgres_url):
    """Two registries opening one empty database at once: one migrates, the other waits for it."""
    errors: list[BaseException] = []
    opened: list[ManifestRegistry] = []

    def open_one() -> None:
        try:
            opened.append(ManifestRegistry(postgres_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    opened[0].register(_record(1, "urn:c2pa:pg"))
    assert opened[1].by_watermark(1) is not None
    for s in opened:
        s.close()


def test_postgres_unreachable_is_a_clear_error():
    from .server import free_port

    url = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/none?connect_timeout=2"
    with pytest.raises(RegistryError, match="cannot open the registry") as caught:
        PostgresRegistry(url)
    assert "secret" not in str(caught.value)  # the password is never printed
    # Unreachable is "unavailable" (the server's 503), not a conflict (409).
    assert isinstance(caught.value, RegistryUnavailableError)
