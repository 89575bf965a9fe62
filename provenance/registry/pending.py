"""Registration that waits for the file: no registry row for a signed file that was never written.

Signing registers the manifest in the registry; writing the signed file comes after, and can fail
(the name exists, the directory is read-only, the process is killed). :class:`PendingRegistry`
stands in for the registry while signing: identifiers come from the real registry, but records are
held until :meth:`commit`, which the writer calls once the bytes are on disk and just before
they get their name (``atomic_output(before_commit=...)``); :meth:`rollback` removes them again
if naming the file then fails.
"""

from __future__ import annotations

from typing import Any, cast

from .base import ManifestRegistry, RegisteredManifest


class PendingRegistry:
    """Delegates to ``registry``, except that :meth:`register` holds the record."""

    def __init__(self, registry: ManifestRegistry) -> None:
        self.registry = registry
        self.records: list[RegisteredManifest] = []
        self._committed: list[RegisteredManifest] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.registry, name)

    def register(self, record: RegisteredManifest) -> None:
        self.records.append(record)

    def commit(self) -> None:
        for record in self.records:
            self.registry.register(record)
            self._committed.append(record)

    def rollback(self) -> None:
        for record in self._committed:
            self.registry.remove(record.manifest_id)
        self._committed.clear()

    def as_registry(self) -> ManifestRegistry:
        """Typed as the registry it stands in for."""
        return cast(ManifestRegistry, self)
