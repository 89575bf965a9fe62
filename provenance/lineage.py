"""One watermark per image: which credentials a watermark already in the pixels may lead to.

A watermark's identifier names a *lineage* in the registry: the manifest it was embedded
for, then every manifest signed later over the same watermarked pixels (re-signed, or edited
with the earlier file as parent). The registry returns the newest. A new manifest joins a lineage
only when its chain holds the lineage's newest manifest, so the newest always holds the older
ones, and no one can bind unrelated credentials to a watermark they did not embed.
"""

from __future__ import annotations

from collections.abc import Collection

from .registry import ManifestRegistry, RegisteredManifest


def lineage_conflict(
    registry: ManifestRegistry | None, watermark_id: int, chain: Collection[str]
) -> RegisteredManifest | None:
    """The newest manifest of ``watermark_id``'s lineage if a manifest whose chain holds the
    manifest labels ``chain`` may *not* join it; None if it may (an empty lineage, or one whose
    newest manifest is in the chain)."""
    newest = registry.by_watermark(watermark_id) if registry is not None else None
    return newest if newest is not None and newest.manifest_id not in chain else None
