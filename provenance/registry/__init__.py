"""The registry: signed manifests, findable by soft binding or fingerprint.

Knows nothing of C2PA beyond holding its bytes: records in, records out. ``ManifestRegistry(x)``
opens SQLite for a path (the embedded default) and PostgreSQL for a ``postgresql://`` URL.
"""

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
from .postgres import PostgresRegistry
from .sqlite import SQLiteRegistry

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
