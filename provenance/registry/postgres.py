"""The PostgreSQL registry: psycopg 3 with a connection pool, for several processes and
machines sharing one registry.

The schema version lives in ``provenance_schema``; migrations run under an advisory lock in
one transaction, so processes starting together migrate once. Same tables and queries as the
SQLite registry (see :mod:`.base`), with the fingerprint bands as stored generated columns.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import RegistryUnavailableError
from .base import ManifestRegistry, default_registry_location, redacted

_BANDS = "".join(f", b{i} integer NOT NULL" for i in range(4))

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE manifests (
            id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            watermark_id   bigint NOT NULL,
            manifest_id    text NOT NULL UNIQUE,
            alg            text NOT NULL,
            binding_value  text NOT NULL,
            media_type     text NOT NULL,
            signer         text,
            created_at     text NOT NULL,
            manifest_store bytea NOT NULL
        )""",
        f"""CREATE TABLE fingerprints (
            id   bigint PRIMARY KEY REFERENCES manifests (id) ON DELETE CASCADE,
            kind smallint NOT NULL,
            fp   bigint NOT NULL{_BANDS}
        )""",
        # With the row id: the newest of a lineage is the index's last entry, no sort.
        "CREATE INDEX manifests_watermark ON manifests (watermark_id, id)",
        "CREATE INDEX manifests_binding ON manifests (alg, binding_value, id)",
        *(
            f"CREATE INDEX fingerprints_b{i} ON fingerprints (kind, b{i}) INCLUDE (fp, id)"
            for i in range(4)
        ),
        """CREATE TABLE verdicts (
            sha256     text NOT NULL,
            media_type text NOT NULL,
            verdict    text NOT NULL,
            expires_at double precision NOT NULL,
            PRIMARY KEY (sha256, media_type)
        )""",
        "CREATE INDEX verdicts_expiry ON verdicts (expires_at)",
    ],
    # The reference (``provenance.evidence``) and the issued watermark identifiers (as SQLite's
    # version 4).
    [
        "ALTER TABLE manifests ADD COLUMN reference bytea",
        """CREATE TABLE issued_ids (
            watermark_id bigint PRIMARY KEY,
            client       text NOT NULL,
            issued_at    text NOT NULL
        )""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)
#: An arbitrary 64-bit key for pg_advisory_xact_lock: "provenance schema".
_MIGRATION_LOCK = 0x70726F76_5F736368


def _placeholders(sql: str) -> str:
    # The shared queries use "?"; psycopg uses "%s" (and "%" must be doubled).
    return re.sub(r"\?", "%s", sql.replace("%", "%%"))


class _Connection:
    """A psycopg connection that takes the shared queries' ``?`` placeholders."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Any = ()) -> psycopg.Cursor:
        return self.conn.execute(_placeholders(sql), args)  # type: ignore[arg-type]


class PostgresRegistry(ManifestRegistry):
    """The registry in a PostgreSQL database named by a ``postgresql://`` URL."""

    def __init__(self, location: str | None = None, *, max_connections: int = 8) -> None:
        self.location = str(location or default_registry_location())
        try:
            self.pool = ConnectionPool(
                self.location,
                min_size=1,
                max_size=max(1, max_connections),
                open=True,
                timeout=30,
                name="provenance-registry",
                # Reads are single statements in autocommit (one round trip); writes open a
                # transaction explicitly (see _transaction).
                kwargs={"autocommit": True},
            )
            self.pool.wait(timeout=10)
            self._migrate()
        except (psycopg.Error, PoolTimeout) as exc:
            with contextlib.suppress(Exception):
                self.pool.close()
            raise RegistryUnavailableError(
                f"cannot open the registry {redacted(self.location)}: {exc}",
                hint="check that PostgreSQL runs and the URL's user, password and database",
            ) from exc

    def _migrate(self) -> None:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS provenance_schema (version integer NOT NULL)")
            row = conn.execute("SELECT version FROM provenance_schema").fetchone()
            version = row[0] if row else 0
            for step in MIGRATIONS[version:]:
                for statement in step:
                    conn.execute(statement)  # type: ignore[arg-type]
            conn.execute("DELETE FROM provenance_schema")
            conn.execute("INSERT INTO provenance_schema VALUES (%s)", (SCHEMA_VERSION,))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_Connection]:
        try:
            with self.pool.connection() as conn, conn.transaction():
                yield _Connection(conn)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            # Busy or unreachable: the registry cannot answer now (503), not a conflict (409).
            raise RegistryUnavailableError(
                f"the registry {self.describe()} cannot answer: {exc}"
            ) from exc

    @contextlib.contextmanager
    def _reading(self) -> Iterator[_Connection]:
        try:
            with self.pool.connection() as conn:
                yield _Connection(conn)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            # Busy or unreachable: the registry cannot answer now (503), not a conflict (409).
            raise RegistryUnavailableError(
                f"the registry {self.describe()} cannot answer: {exc}"
            ) from exc

    _IN_LIST = "{band} = ANY(?)"

    def _list_arg(self, values: list[int]) -> object:
        return values  # psycopg binds a list as an array

    def _is_duplicate(self, exc: Exception) -> bool:
        return isinstance(exc, pg_errors.UniqueViolation)

    def close(self) -> None:
        self.pool.close()
