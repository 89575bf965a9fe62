"""The manifest store: signed manifests, findable by soft binding or fingerprint.

Knows nothing of C2PA beyond holding its bytes: records in, records out. ``ManifestStore(x)``
opens SQLite for a path (the embedded default) and PostgreSQL for a ``postgresql://`` URL.
"""

from .base import (
    AsyncManifestStore,
    ManifestStore,
    StoredManifest,
    default_store_path,
    existing_store,
    is_postgres_url,
    redacted,
    store_location,
)
from .postgres import PostgresStore
from .sqlite import SQLiteStore

__all__ = [
    "AsyncManifestStore",
    "ManifestStore",
    "PostgresStore",
    "SQLiteStore",
    "StoredManifest",
    "default_store_path",
    "existing_store",
    "is_postgres_url",
    "redacted",
    "store_location",
]
