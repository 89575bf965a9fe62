"""What every registry does, whatever holds it: records in, records out, look-alikes by
fingerprint through the band index, and the server's shared verdict cache.

``ManifestRegistry(location)`` opens the backend the location names: a ``postgresql://`` URL
opens :class:`~.postgres.PostgresRegistry`, anything else is a SQLite file
(:class:`~.sqlite.SQLiteRegistry`, the embedded default). A backend supplies the connection, the
schema and its migrations; the queries here are shared (``?`` placeholders).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from ..errors import InputError, RegistryError
from ..fingerprint import similarity
from .bands import band_values, probes, to_signed, to_unsigned

REGISTRY_ENV = "PROVENANCE_REGISTRY"
#: The variable's earlier name (when the registry was called the manifest store): still read.
STORE_ENV = "PROVENANCE_STORE"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
#: Of every this many verdicts written, one write also drops the expired ones and trims the
#: cache to its size (amortised upkeep; no background task in any process).
_UPKEEP_EVERY = 64


def default_registry_location() -> Path | str:
    """``$PROVENANCE_REGISTRY`` (or its earlier name ``$PROVENANCE_STORE``; a path or a
    ``postgresql://`` URL), else ``manifests.sqlite3`` in the per-user data directory."""
    env = os.environ.get(REGISTRY_ENV) or os.environ.get(STORE_ENV)
    if env:
        return env if is_postgres_url(env) else Path(env)
    return Path(platformdirs.user_data_dir("provenance")) / "manifests.sqlite3"


def registry_location(value: str) -> str | Path:
    """A ``--registry`` value: a ``postgresql://`` URL as given, anything else a path."""
    return value if is_postgres_url(value) else Path(value)


def is_postgres_url(location: str | Path | None) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def redacted(location: str | Path) -> str:
    """The location without a password, for messages and logs."""
    if not is_postgres_url(location):
        return str(location)
    parts = urlsplit(str(location))
    if parts.password is None:
        return str(location)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class RegisteredManifest:
    watermark_id: int
    manifest_id: str
    alg: str
    binding_value: str
    manifest_store: bytes
    media_type: str
    fingerprint: int | None
    signer: str | None
    created_at: str = ""
    #: What the registered image looks like (``evidence.reference``: grey JPEG on the watermark's
    #: base grid); a watermark recovers these credentials only for an image that matches it.
    reference: bytes | None = None


#: Fingerprint kinds: image and text fingerprints are different hashes, never compared.
IMAGE, TEXT = 0, 1

_RECORD = (
    "m.watermark_id, m.manifest_id, m.alg, m.binding_value, m.manifest_store, m.media_type, "
    "f.fp, m.signer, m.created_at, m.reference"
)
_FROM = "manifests m LEFT JOIN fingerprints f ON f.id = m.id"


def _record(row: Sequence[Any]) -> RegisteredManifest:
    values = list(row)
    values[4] = bytes(values[4])  # PostgreSQL hands bytea back as memoryview
    values[6] = to_unsigned(values[6])
    values[9] = None if values[9] is None else bytes(values[9])
    return RegisteredManifest(*values)


def _kind(media_type: str) -> int:
    return TEXT if media_type.startswith("text/") else IMAGE


class ManifestRegistry:
    """Synchronous registry; safe to share between threads.

    ``ManifestRegistry(location)`` picks the backend (see the module doc); the subclasses may also
    be named directly. ``max_connections`` bounds a PostgreSQL registry's connection pool (the
    threads that use it at once); SQLite opens one connection per thread and has no pool.
    """

    location: str | Path

    def __new__(
        cls, location: str | Path | None = None, *, max_connections: int = 8
    ) -> ManifestRegistry:
        if cls is ManifestRegistry:
            from .postgres import PostgresRegistry
            from .sqlite import SQLiteRegistry

            where = location if location is not None else default_registry_location()
            cls = PostgresRegistry if is_postgres_url(str(where)) else SQLiteRegistry
        return super().__new__(cls)

    # -- what a backend supplies ----------------------------------------------------------------

    def _transaction(self) -> contextlib.AbstractContextManager[Any]:
        """A connection in a transaction: committed on success, rolled back on error. Its
        ``execute(sql, args)`` takes ``?`` placeholders and returns a cursor."""
        raise NotImplementedError

    def _reading(self) -> contextlib.AbstractContextManager[Any]:
        """A connection for one read-only statement (no explicit transaction: one round trip)."""
        return self._transaction()

    #: SQL that holds when band column ``{band}`` is in the list bound to its one ``?``.
    _IN_LIST: str

    def _list_arg(self, values: list[int]) -> object:
        """``values`` as the driver binds them for :attr:`_IN_LIST`."""
        raise NotImplementedError

    def _candidates(self, kind: int, band_probes: list[list[int]] | None) -> list[tuple[int, int]]:
        """(row id, signed fingerprint) of ``kind`` whose band i is in ``band_probes[i]`` for
        some i; every fingerprint of that kind when ``band_probes`` is None."""
        with self._reading() as db:
            if band_probes is None:
                rows = db.execute("SELECT id, fp FROM fingerprints WHERE kind = ?", (kind,))
                return list(rows.fetchall())
            sql = " UNION ".join(
                "SELECT id, fp FROM fingerprints WHERE kind = ? AND "
                + self._IN_LIST.format(band=f"b{i}")
                for i in range(len(band_probes))
            )
            args: list[object] = []
            for values in band_probes:
                args += [kind, self._list_arg(values)]
            return list(db.execute(sql, args).fetchall())

    def _is_duplicate(self, exc: Exception) -> bool:
        """Whether ``exc`` is a uniqueness violation."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the connections this registry keeps."""
        raise NotImplementedError

    def __enter__(self) -> ManifestRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        return redacted(self.location)

    # -- manifests ------------------------------------------------------------------------------

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]:
        with self._reading() as db:
            return list(db.execute(sql, tuple(args)).fetchall())

    def _is_free(self, db: Any, candidate: int) -> bool:
        return not db.execute(
            "SELECT 1 FROM manifests WHERE watermark_id = ? "
            "UNION ALL SELECT 1 FROM issued_ids WHERE watermark_id = ?",
            (candidate, candidate),
        ).fetchall()

    def new_watermark_id(self, bits: int = 40) -> int:
        """A random identifier neither registered nor issued (random, so ids reveal no
        sequence)."""
        with self._reading() as db:
            for _ in range(32):
                candidate = secrets.randbits(bits)
                if self._is_free(db, candidate):
                    return candidate
        raise RegistryError("could not find a free watermark identifier")

    def issue_watermark_id(self, client: str, bits: int = 40) -> int:
        """A fresh identifier reserved for ``client``: only that client may start a lineage
        under it (see ``register_manifest``), so nobody can register a copy of someone else's
        image under the identifier its pixels carry."""
        issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with self._transaction() as db:
                for _ in range(32):
                    candidate = secrets.randbits(bits)
                    if self._is_free(db, candidate):
                        db.execute(
                            "INSERT INTO issued_ids (watermark_id, client, issued_at) "
                            "VALUES (?, ?, ?)",
                            (candidate, client, issued),
                        )
                        return candidate
        except RegistryError:
            raise
        except Exception as exc:
            raise RegistryError(f"cannot write to the registry {self.describe()}: {exc}") from exc
        raise RegistryError("could not find a free watermark identifier")

    def issued_to(self, watermark_id: int) -> str | None:
        """The client an identifier was issued to, or None if it never was."""
        rows = self._rows("SELECT client FROM issued_ids WHERE watermark_id = ?", (watermark_id,))
        return str(rows[0][0]) if rows else None

    def register(self, record: RegisteredManifest) -> None:
        """Record a signed manifest (and its fingerprint), all or nothing. Several manifests
        may share one watermark payload (a lineage); look-ups return the newest."""
        created = record.created_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with self._transaction() as db:
                (row_id,) = db.execute(
                    "INSERT INTO manifests (watermark_id, manifest_id, alg, binding_value, "
                    "media_type, signer, created_at, manifest_store, reference) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        record.watermark_id,
                        record.manifest_id,
                        record.alg,
                        record.binding_value,
                        record.media_type,
                        record.signer,
                        created,
                        record.manifest_store,
                        record.reference,
                    ),
                ).fetchone()
                if record.fingerprint is not None:
                    db.execute(
                        "INSERT INTO fingerprints (id, kind, fp, b0, b1, b2, b3) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            row_id,
                            _kind(record.media_type),
                            to_signed(record.fingerprint),
                            *band_values(record.fingerprint),
                        ),
                    )
        except RegistryError:
            raise
        except Exception as exc:
            if self._is_duplicate(exc):
                # Said without the SQL: the constraint text names tables and columns.
                raise RegistryError(
                    f"the manifest {record.manifest_id} is already registered here"
                ) from None
            where = self.describe()
            raise RegistryError(f"cannot write to the registry {where}: {exc}") from exc

    def remove(self, manifest_id: str) -> None:
        """Forget a registration (one whose signed file could not be written)."""
        with self._transaction() as db:
            db.execute("DELETE FROM manifests WHERE manifest_id = ?", (manifest_id,))

    def _newest(self, where: str, args: tuple) -> RegisteredManifest | None:
        rows = self._rows(
            f"SELECT {_RECORD} FROM {_FROM} WHERE {where} ORDER BY m.id DESC LIMIT 1", args
        )
        return _record(rows[0]) if rows else None

    def by_watermark(self, watermark_id: int) -> RegisteredManifest | None:
        """The newest manifest registered under this watermark payload."""
        return self._newest("m.watermark_id = ?", (watermark_id,))

    def by_binding(self, alg: str, value: str) -> RegisteredManifest | None:
        return self._newest("m.alg = ? AND m.binding_value = ?", (alg, value))

    def by_manifest_id(self, manifest_id: str) -> RegisteredManifest | None:
        return self._newest("m.manifest_id = ?", (manifest_id,))

    def nearest(
        self,
        fingerprint: int,
        *,
        min_similarity: float = 0.85,
        limit: int = 5,
        text: bool = False,
    ) -> list[tuple[RegisteredManifest, float]]:
        """Stored manifests whose fingerprint is at least ``min_similarity`` alike, among texts
        (``text``) or among images, best first.

        Candidates come from the band index (see :mod:`.bands`), reading only the fingerprint
        table; the exact similarity is checked on them, and only the best ``limit`` records are
        read whole.
        """
        kind = TEXT if text else IMAGE
        candidates = self._candidates(kind, probes(fingerprint, min_similarity))
        scored = [(i, similarity(fingerprint, to_unsigned(fp) or 0)) for i, fp in candidates]
        best = sorted((s for s in scored if s[1] >= min_similarity), key=lambda s: (-s[1], -s[0]))
        found = []
        for row_id, score in best[:limit]:
            record = self._newest("m.id = ?", (row_id,))
            if record is not None:
                found.append((record, score))
        return found

    def ping(self) -> None:
        """Raise :class:`RegistryError` unless the registry answers a query (readiness checks)."""
        try:
            self._rows("SELECT 1")
        except RegistryError:
            raise
        except Exception as exc:
            raise RegistryError(f"the registry {self.describe()} does not answer: {exc}") from exc

    def count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM manifests")[0][0])

    # -- the server's verdict cache (hash and media type -> verdict JSON, never content) ---------

    def put_verdict(
        self, sha256: str, media_type: str, verdict_json: str, ttl: float, keep: int
    ) -> None:
        """Keep a verdict for ``ttl`` seconds; the cache holds at most about ``keep`` of them."""
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO verdicts (sha256, media_type, verdict, expires_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (sha256, media_type) DO UPDATE SET "
                "verdict = excluded.verdict, expires_at = excluded.expires_at",
                (sha256, media_type, verdict_json, now + ttl),
            )
            if random.randrange(_UPKEEP_EVERY) == 0:
                db.execute("DELETE FROM verdicts WHERE expires_at <= ?", (now,))
                db.execute(
                    "DELETE FROM verdicts WHERE expires_at < (SELECT expires_at FROM verdicts "
                    "ORDER BY expires_at DESC LIMIT 1 OFFSET ?)",
                    (max(0, keep - 1),),
                )

    def get_verdict(self, sha256: str, media_type: str | None = None) -> str | None:
        """The unexpired verdict JSON for this content (and media type, when given; else the
        newest of any)."""
        where, args = "sha256 = ? AND expires_at > ?", [sha256, time.time()]
        if media_type is not None:
            where, args = f"{where} AND media_type = ?", [*args, media_type]
        rows = self._rows(
            f"SELECT verdict FROM verdicts WHERE {where} ORDER BY expires_at DESC LIMIT 1", args
        )
        return str(rows[0][0]) if rows else None


def existing_registry(location: str | Path | None = None) -> ManifestRegistry | None:
    """The registry to look in: the one named, else the default one if it exists (a
    ``postgresql://`` URL always does). Looking never creates a SQLite registry: a mistyped
    location would make an empty one, with its directories."""
    if location is not None:
        if not is_postgres_url(str(location)) and not Path(location).is_file():
            raise InputError(
                f"{location}: no registry there",
                hint="give the registry that signing wrote to",
            )
        return ManifestRegistry(location)
    default = default_registry_location()
    return ManifestRegistry(default) if isinstance(default, str) or default.exists() else None


class AsyncManifestRegistry:
    """The same registry for asyncio code: each call runs in a worker thread."""

    def __init__(self, registry: ManifestRegistry) -> None:
        self.sync = registry

    async def register(self, record: RegisteredManifest) -> None:
        await asyncio.to_thread(self.sync.register, record)

    async def by_watermark(self, watermark_id: int) -> RegisteredManifest | None:
        return await asyncio.to_thread(self.sync.by_watermark, watermark_id)

    async def by_binding(self, alg: str, value: str) -> RegisteredManifest | None:
        return await asyncio.to_thread(self.sync.by_binding, alg, value)

    async def by_manifest_id(self, manifest_id: str) -> RegisteredManifest | None:
        return await asyncio.to_thread(self.sync.by_manifest_id, manifest_id)

    async def nearest(
        self, fingerprint: int, **kwargs: float | bool
    ) -> list[tuple[RegisteredManifest, float]]:
        return await asyncio.to_thread(self.sync.nearest, fingerprint, **kwargs)  # type: ignore[arg-type]
