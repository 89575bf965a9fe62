"""Registration that waits for the file: no store row for a signed file that was never written.

Signing registers the manifest in the store; writing the signed file comes after, and can fail
(the name exists, the directory is read-only, the process is killed). :class:`PendingStore`
stands in for the store while signing: identifiers come from the real store, but records are
held until :meth:`commit`, which the writer calls once the bytes are on disk and just before
they get their name (``atomic_output(before_commit=...)``); :meth:`rollback` removes them again
if naming the file then fails.
"""

from __future__ import annotations

from typing import Any, cast

from .base import ManifestStore, StoredManifest


class PendingStore:
    """Delegates to ``store``, except that :meth:`register` holds the record."""

    def __init__(self, store: ManifestStore) -> None:
        self.store = store
        self.records: list[StoredManifest] = []
        self._committed: list[StoredManifest] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def register(self, record: StoredManifest) -> None:
        self.records.append(record)

    def commit(self) -> None:
        for record in self.records:
            self.store.register(record)
            self._committed.append(record)

    def rollback(self) -> None:
        for record in self._committed:
            self.store.remove(record.manifest_id)
        self._committed.clear()

    def as_store(self) -> ManifestStore:
        """Typed as the store it stands in for."""
        return cast(ManifestStore, self)
