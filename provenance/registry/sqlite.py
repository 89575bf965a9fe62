"""The embedded SQLite registry (WAL, one transaction per registration).

Each thread keeps its own connection, so one registry object serves many threads (the server runs
registry calls in its executor). The schema version is SQLite's ``user_version``; a registry written
by an older version is migrated when opened, in one transaction.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import RegistryUnavailableError
from .base import ManifestRegistry, default_registry_location

#: Version 1: the original single table (fingerprint beside the manifest bytes, one manifest per
#: watermark). Kept verbatim so that a registry of that age migrates through the same steps.
_V1 = [
    """CREATE TABLE IF NOT EXISTS manifests (
        watermark_id   INTEGER PRIMARY KEY,
        manifest_id    TEXT NOT NULL UNIQUE,
        alg            TEXT NOT NULL,
        binding_value  TEXT NOT NULL,
        manifest_store BLOB NOT NULL,
        media_type     TEXT NOT NULL,
        fingerprint    INTEGER,
        signer         TEXT,
        created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    )""",
    "CREATE INDEX IF NOT EXISTS manifests_binding ON manifests (alg, binding_value)",
]

#: Plain columns, written with the fingerprint (SQLite does not treat an index over generated
#: columns as covering, and the look-up must read the index alone).
#: Version 2: several manifests may share one watermark identifier (a lineage: signed,
#: re-signed, edited, each keeping the one watermark in the pixels); the newest, the highest
#: rowid, is the one a watermark leads to. Still one table.
_V2 = [
    "ALTER TABLE manifests RENAME TO manifests_v1",
    "DROP INDEX IF EXISTS manifests_binding",
    "DROP INDEX IF EXISTS manifests_watermark",  # a registry main relaxed in place has it
    _V1[0].replace("watermark_id   INTEGER PRIMARY KEY", "watermark_id   INTEGER NOT NULL"),
    "CREATE INDEX IF NOT EXISTS manifests_watermark ON manifests (watermark_id)",
    _V1[1],
    "INSERT INTO manifests SELECT * FROM manifests_v1 ORDER BY created_at, rowid",
    "DROP TABLE manifests_v1",
]

_BANDS = "".join(f", b{i} INTEGER NOT NULL" for i in range(4))
_BAND_EXPRS = ", ".join(f"(o.fingerprint >> {48 - 16 * i}) & 65535" for i in range(4))

#: Version 3: the fingerprints in their own table with four indexed 16-bit bands (look-ups never
#: read manifest bytes), a row id of its own (registration order: the newest is the highest),
#: and the server's verdict cache.
_V3 = [
    "DROP INDEX IF EXISTS manifests_watermark",
    "DROP INDEX IF EXISTS manifests_binding",
    "ALTER TABLE manifests RENAME TO manifests_v2",
    """CREATE TABLE manifests (
        id             INTEGER PRIMARY KEY,
        watermark_id   INTEGER NOT NULL,
        manifest_id    TEXT NOT NULL UNIQUE,
        alg            TEXT NOT NULL,
        binding_value  TEXT NOT NULL,
        media_type     TEXT NOT NULL,
        signer         TEXT,
        created_at     TEXT NOT NULL,
        manifest_store BLOB NOT NULL
    )""",
    f"""CREATE TABLE fingerprints (
        id   INTEGER PRIMARY KEY REFERENCES manifests (id) ON DELETE CASCADE,
        kind INTEGER NOT NULL,
        fp   INTEGER NOT NULL{_BANDS}
    )""",
    "INSERT INTO manifests (watermark_id, manifest_id, alg, binding_value, media_type, signer, "
    "created_at, manifest_store) SELECT watermark_id, manifest_id, alg, binding_value, "
    "media_type, signer, created_at, manifest_store FROM manifests_v2 ORDER BY rowid",
    "INSERT INTO fingerprints (id, kind, fp, b0, b1, b2, b3) SELECT m.id, "
    f"CASE WHEN m.media_type LIKE 'text/%' THEN 1 ELSE 0 END, o.fingerprint, {_BAND_EXPRS} "
    "FROM manifests m JOIN manifests_v2 o ON o.manifest_id = m.manifest_id "
    "WHERE o.fingerprint IS NOT NULL",
    "DROP TABLE manifests_v2",
    "CREATE INDEX manifests_watermark ON manifests (watermark_id)",
    "CREATE INDEX manifests_binding ON manifests (alg, binding_value)",
    *(f"CREATE INDEX fingerprints_b{i} ON fingerprints (kind, b{i}, fp)" for i in range(4)),
    """CREATE TABLE verdicts (
        sha256     TEXT NOT NULL,
        media_type TEXT NOT NULL,
        verdict    TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (sha256, media_type)
    ) WITHOUT ROWID""",
    "CREATE INDEX verdicts_expiry ON verdicts (expires_at)",
]

#: Version 4: each manifest's reference (what the registered image looks like, for the
#: evidence that a watermarked image is that image: ``provenance.evidence``; NULL for rows
#: stored before: their watermark gives a possible match only), and the watermark identifiers
#: issued to clients for registrations (see ``ManifestRegistry.issue_watermark_id``).
_V4 = [
    "ALTER TABLE manifests ADD COLUMN reference BLOB",
    """CREATE TABLE issued_ids (
        watermark_id INTEGER PRIMARY KEY,
        client       TEXT NOT NULL,
        issued_at    TEXT NOT NULL
    )""",
]

MIGRATIONS: list[list[str]] = [_V1, _V2, _V3, _V4]
SCHEMA_VERSION = len(MIGRATIONS)


def _unusable(path: Path, exc: sqlite3.Error) -> RegistryUnavailableError:
    """One clear error for a registry SQLite cannot use (no traceback, no SQL)."""
    text = str(exc)
    if "malformed" in text or "not a database" in text or type(exc) is sqlite3.DatabaseError:
        return RegistryUnavailableError(
            f"the registry {path} is damaged ({text})",
            hint=f"restore it from a backup, or salvage it: sqlite3 {path} .recover | sqlite3 NEW",
        )
    return RegistryUnavailableError(f"cannot use the registry {path} ({text})")


#: How long opening waits for other processes opening the same new file (the connection's
#: busy timeout, which SQLite does not apply to a journal-mode change).
OPEN_WAIT = 30.0


def _write_ahead_log(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself, and SQLite
    answers "database is locked" at once, without its busy wait, while another process opens
    or migrates it (server workers starting together on a new file): so wait here, briefly
    and boundedly, as the busy timeout would."""
    deadline = time.monotonic() + OPEN_WAIT
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SQLiteRegistry(ManifestRegistry):
    """The registry in one SQLite file."""

    def __init__(self, location: Path | str | None = None, *, max_connections: int = 8) -> None:
        """``max_connections`` is taken for :class:`ManifestRegistry`'s sake and not needed:
        each thread has its own connection."""
        self.location = self.path = (
            Path(location) if location else Path(default_registry_location())
        )
        self._local = threading.local()
        # One writer at a time in this process: SQLite has one write lock, and threads that
        # collide on it back off by sleeping (up to 100 ms a try); queueing here costs nothing.
        self._writing = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise RegistryUnavailableError(f"cannot open the registry {self.path}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # Autocommit mode: transactions are begun explicitly (see _transaction).
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA foreign_keys = ON")
            # WAL: a commit is durable against a process crash; synchronous=NORMAL spares an
            # fsync per commit (an OS crash may lose the last commits, never corrupt the file).
            db.execute("PRAGMA synchronous = NORMAL")
            self._local.db = db
        return db

    def _migrate(self) -> None:
        db = self._connection()
        _write_ahead_log(db)
        db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if (
                version == 0
                and db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'manifests'"
                ).fetchone()
            ):
                version = 1  # written before versions were recorded
            for step in MIGRATIONS[version:]:
                for statement in step:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            db = self._connection()
            with self._writing:
                db.execute("BEGIN IMMEDIATE")  # take the write lock now, not half-way through
                try:
                    yield db
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):  # a damaged file may refuse it
                        db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.IntegrityError:
            raise  # the caller says which record conflicts
        except sqlite3.Error as exc:
            raise _unusable(self.path, exc) from exc

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._connection()  # autocommit: the statement is its own transaction
        except sqlite3.Error as exc:
            raise _unusable(self.path, exc) from exc

    # SQLite has no array type: the list goes as one JSON text, one bound parameter however
    # many values it holds.
    _IN_LIST = "{band} IN (SELECT value FROM json_each(?))"

    def _list_arg(self, values: list[int]) -> object:
        return json.dumps(values)

    def _is_duplicate(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
