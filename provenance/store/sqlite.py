"""The embedded SQLite manifest store (WAL, one transaction per registration).

Each call opens its own connection, so one store object serves many threads (the server runs
these calls in its executor); :class:`AsyncManifestStore` is the asyncio face.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from ..errors import ProvenanceError
from ..fingerprint import similarity

STORE_ENV = "PROVENANCE_STORE"

#: Several manifests may share one watermark identifier (a lineage: signed, re-signed, edited,
#: each keeping the one watermark in the pixels); the newest, the highest rowid, is the one a
#: watermark leads to. The first schema had ``watermark_id`` as the primary key; it is relaxed
#: in place (same columns, ``user_version`` left alone for the versioned store to come).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS manifests (
    watermark_id   INTEGER NOT NULL,         -- the identifier the watermark carries (a lineage)
    manifest_id    TEXT NOT NULL UNIQUE,     -- the active manifest's label
    alg            TEXT NOT NULL,            -- soft-binding algorithm
    binding_value  TEXT NOT NULL,            -- soft-binding value (base64), as in the manifest
    manifest_store BLOB NOT NULL,            -- the C2PA manifest store bytes (no pixels)
    media_type     TEXT NOT NULL,
    fingerprint    INTEGER,                  -- 64-bit perceptual hash, stored signed
    signer         TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX IF NOT EXISTS manifests_watermark ON manifests (watermark_id);
CREATE INDEX IF NOT EXISTS manifests_binding ON manifests (alg, binding_value);
"""

#: The first schema -> the relaxed one: the same rows, in registration order, without the
#: primary key on ``watermark_id``.
_MIGRATE_V1 = """
ALTER TABLE manifests RENAME TO manifests_v1;
DROP INDEX IF EXISTS manifests_binding;
{schema}
INSERT INTO manifests ({columns}) SELECT {columns} FROM manifests_v1 ORDER BY created_at, rowid;
DROP TABLE manifests_v1;
"""


class StoreError(ProvenanceError):
    """The manifest store cannot be opened or written."""


class StoreUnavailableError(StoreError):
    """The store cannot be used at all right now: damaged, locked, or unreadable."""


def _unusable(path: Path, exc: sqlite3.Error) -> StoreUnavailableError:
    """One clear error for a store SQLite cannot use (no traceback, no SQL)."""
    text = str(exc)
    if "malformed" in text or "not a database" in text or type(exc) is sqlite3.DatabaseError:
        return StoreUnavailableError(
            f"the manifest store {path} is damaged ({text})",
            hint=f"restore it from a backup, or salvage it: sqlite3 {path} .recover | sqlite3 NEW",
        )
    return StoreUnavailableError(f"cannot use the manifest store {path} ({text})")


def default_store_path() -> Path:
    """``$PROVENANCE_STORE``, else ``manifests.sqlite3`` in the per-user data directory."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("provenance")) / "manifests.sqlite3"


def _to_signed(value: int | None) -> int | None:
    # SQLite integers are signed 64-bit; fingerprints use all 64 bits.
    return None if value is None else value - (1 << 64) if value >= 1 << 63 else value


def _to_unsigned(value: int | None) -> int | None:
    return None if value is None else value + (1 << 64) if value < 0 else value


@dataclass(frozen=True)
class StoredManifest:
    watermark_id: int
    manifest_id: str
    alg: str
    binding_value: str
    manifest_store: bytes
    media_type: str
    fingerprint: int | None
    signer: str | None
    created_at: str = ""


_COLUMNS = (
    "watermark_id, manifest_id, alg, binding_value, manifest_store, media_type, fingerprint, "
    "signer, created_at"
)


def _row(row: tuple) -> StoredManifest:
    values = list(row)
    values[6] = _to_unsigned(values[6])
    return StoredManifest(*values)


class ManifestStore:
    """Synchronous store; safe to share between threads (a connection per call)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else default_store_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
            self._migrate()
        except StoreError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailableError(
                f"cannot open the manifest store {self.path}: {exc}"
            ) from exc

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise _unusable(self.path, exc) from exc
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        except sqlite3.IntegrityError:
            raise  # the caller says which record conflicts
        except sqlite3.Error as exc:
            raise _unusable(self.path, exc) from exc
        finally:
            db.close()

    def _migrate(self) -> None:
        """Create the schema, or relax the first one's key, in one transaction."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            primary = db.execute(
                "SELECT pk FROM pragma_table_info('manifests') WHERE name = 'watermark_id'"
            ).fetchone()
            script = _SCHEMA
            if primary and primary[0]:
                script = _MIGRATE_V1.format(schema=_SCHEMA, columns=_COLUMNS)
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def new_watermark_id(self, bits: int = 40) -> int:
        """A random identifier not yet in the store (random, so ids reveal no sequence)."""
        with self._connect() as db:
            for _ in range(32):
                candidate = secrets.randbits(bits)
                row = db.execute(
                    "SELECT 1 FROM manifests WHERE watermark_id = ?", (candidate,)
                ).fetchone()
                if row is None:
                    return candidate
        raise StoreError("could not find a free watermark identifier")

    def register(self, record: StoredManifest) -> None:
        """Record a signed manifest, all or nothing."""
        try:
            with self._connect() as db:
                db.execute(
                    f"INSERT INTO manifests ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                    "COALESCE(NULLIF(?, ''), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))",
                    (
                        record.watermark_id,
                        record.manifest_id,
                        record.alg,
                        record.binding_value,
                        record.manifest_store,
                        record.media_type,
                        _to_signed(record.fingerprint),
                        record.signer,
                        record.created_at,
                    ),
                )
        except sqlite3.IntegrityError:
            # Said without the SQL: the constraint text names tables and columns.
            raise StoreError(
                f"the manifest {record.manifest_id} is already registered in this store"
            ) from None

    def remove(self, manifest_id: str) -> None:
        """Forget a registration (one whose signed file could not be written)."""
        with self._connect() as db:
            db.execute("DELETE FROM manifests WHERE manifest_id = ?", (manifest_id,))

    def _one(self, where: str, args: tuple) -> StoredManifest | None:
        """The newest matching record (the last registered)."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM manifests WHERE {where} ORDER BY rowid DESC LIMIT 1", args
            ).fetchone()
        return _row(row) if row else None

    def by_watermark(self, watermark_id: int) -> StoredManifest | None:
        """The newest manifest of the watermark's lineage, whose chain holds the older ones."""
        return self._one("watermark_id = ?", (watermark_id,))

    def by_binding(self, alg: str, value: str) -> StoredManifest | None:
        """The newest manifest registered with this soft binding."""
        return self._one("alg = ? AND binding_value = ?", (alg, value))

    def by_manifest_id(self, manifest_id: str) -> StoredManifest | None:
        return self._one("manifest_id = ?", (manifest_id,))

    def nearest(
        self,
        fingerprint: int,
        *,
        min_similarity: float = 0.85,
        limit: int = 5,
        text: bool = False,
    ) -> list[tuple[StoredManifest, float]]:
        """Stored manifests whose fingerprint is at least ``min_similarity`` alike, among texts
        (``text``) or among images: the two fingerprints are different hashes.

        A linear scan over the fingerprints: fine for a local store of up to ~10^6 manifests.
        """
        kind = "media_type LIKE 'text/%'" if text else "media_type NOT LIKE 'text/%'"
        with self._connect() as db:
            rows = db.execute(
                "SELECT manifest_id, fingerprint FROM manifests "
                f"WHERE fingerprint IS NOT NULL AND {kind}"
            ).fetchall()
        scored = [(mid, similarity(fingerprint, _to_unsigned(fp) or 0)) for mid, fp in rows]
        best = sorted((s for s in scored if s[1] >= min_similarity), key=lambda s: -s[1])[:limit]
        found = []
        for mid, score in best:
            record = self.by_manifest_id(mid)
            if record is not None:
                found.append((record, score))
        return found

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM manifests").fetchone()[0])


class AsyncManifestStore:
    """The same store for asyncio code: each call runs in a worker thread."""

    def __init__(self, store: ManifestStore) -> None:
        self.sync = store

    async def register(self, record: StoredManifest) -> None:
        await asyncio.to_thread(self.sync.register, record)

    async def by_watermark(self, watermark_id: int) -> StoredManifest | None:
        return await asyncio.to_thread(self.sync.by_watermark, watermark_id)

    async def by_binding(self, alg: str, value: str) -> StoredManifest | None:
        return await asyncio.to_thread(self.sync.by_binding, alg, value)

    async def by_manifest_id(self, manifest_id: str) -> StoredManifest | None:
        return await asyncio.to_thread(self.sync.by_manifest_id, manifest_id)

    async def nearest(
        self, fingerprint: int, **kwargs: float | bool
    ) -> list[tuple[StoredManifest, float]]:
        return await asyncio.to_thread(self.sync.nearest, fingerprint, **kwargs)  # type: ignore[arg-type]
