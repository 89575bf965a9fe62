"""The registry: signed manifests, findable by soft binding or fingerprint.

Knows nothing of C2PA beyond holding its bytes: records in, records out. ``ManifestRegistry(x)``
opens SQLite for a path (the embedded default) and PostgreSQL for a ``postgresql://`` URL.
"""

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_names
from .base import (
    AsyncManifestRegistry,
    ManifestRegistry,
    RegisteredManifest,
    default_registry_location,
    existing_registry,
    is_postgres_url,
    redacted,
    registry_location,
)
from .sqlite import SQLiteRegistry

if TYPE_CHECKING:
    from .postgres import PostgresRegistry


# psycopg takes about 0.15 s to import, a seventh of every `provenance` command's start:
# loaded only when the PostgreSQL registry is named (ManifestRegistry(url) loads it then too).
__getattr__ = lazy_names(__name__, {"PostgresRegistry": ".postgres"})


__all__ = [
    "AsyncManifestRegistry",
    "ManifestRegistry",
    "PostgresRegistry",
    "RegisteredManifest",
    "SQLiteRegistry",
    "default_registry_location",
    "existing_registry",
    "is_postgres_url",
    "redacted",
    "registry_location",
]
