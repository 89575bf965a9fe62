"""The manifest store: signed manifests, findable by soft binding or fingerprint.

Knows nothing of C2PA beyond holding its bytes: records in, records out.
"""

from .sqlite import (
    AsyncManifestStore,
    ManifestStore,
    StoredManifest,
    StoreError,
    StoreUnavailableError,
    default_store_path,
)

__all__ = [
    "AsyncManifestStore",
    "ManifestStore",
    "StoreError",
    "StoreUnavailableError",
    "StoredManifest",
    "default_store_path",
]
