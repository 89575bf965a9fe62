"""The manifest store: signed manifests, findable by soft binding or fingerprint.

Knows nothing of C2PA beyond holding its bytes: records in, records out.
"""

from .sqlite import (
    AsyncManifestStore,
    ManifestStore,
    StoredManifest,
    StoreError,
    default_store_path,
)

__all__ = [
    "AsyncManifestStore",
    "ManifestStore",
    "StoreError",
    "StoredManifest",
    "default_store_path",
]
