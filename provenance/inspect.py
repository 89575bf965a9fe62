"""What a file's manifest store holds, for creators checking what was written (`provenance
inspect`): c2pa's report (plain or detailed), the ingredient tree, the signer's certificate.

Reading is c2pa's Reader, with the same trust as `verify`. c2pa-python 0.38.1 reports the signer
certificate's subject, issuer, serial and validity (its crJSON report) but not the chain's DER
bytes, and this project does not parse COSE itself: ``--certs`` shows what c2pa reports.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._internal import c2pa_adapter
from .errors import InputError, ManifestError, OutputError, Remedy
from .files import write_output
from .media import TEXT, decode_text, media_type_of, read_input
from .registry import ManifestRegistry, default_registry_location, redacted
from .text_manifest import find_wrappers, read_text_manifest
from .trust import TrustPolicy


@dataclass(frozen=True)
class TreeNode:
    """One manifest and the manifests of its ingredients."""

    label: str | None
    title: str | None
    relationship: str | None
    signer: str | None
    children: tuple[TreeNode, ...] = ()

    def lines(self, depth: int = 0) -> list[str]:
        head = f"{'  ' * depth}{'- ' if depth else ''}{self.title or 'untitled'}"
        notes = [n for n in (self.relationship, self.signer and f"signed by {self.signer}") if n]
        own = (
            head
            + (f" ({'; '.join(notes)})" if notes else "")
            + f"  [{self.label or 'no manifest'}]"
        )
        return [own, *(line for child in self.children for line in child.lines(depth + 1))]


@dataclass(frozen=True)
class Inspection:
    """A file's manifest store as c2pa reports it."""

    media_type: str
    report: dict[str, Any]
    detailed: dict[str, Any]
    state: str | None
    certificates: list[dict[str, Any]]
    #: For a text: the text binding checked as `verify` does (``assertion.dataHash.match`` or
    #: ``.mismatch``); c2pa's own report cannot hash a text and always reads mismatch.
    text_binding: str | None = None

    @property
    def active_manifest(self) -> str | None:
        return self.report.get("active_manifest")

    def tree(self) -> TreeNode:
        """The active manifest and, under it, its ingredients' manifests, recursively."""
        manifests = self.report.get("manifests") or {}

        def node(
            label: str | None, title: str | None, rel: str | None, seen: frozenset
        ) -> TreeNode:
            manifest = manifests.get(label or "") or {}
            sig = manifest.get("signature_info") or {}
            kids: tuple[TreeNode, ...] = ()
            if label and label not in seen:
                kids = tuple(
                    node(
                        i.get("active_manifest"),
                        i.get("title"),
                        i.get("relationship"),
                        seen | {label},
                    )
                    for i in manifest.get("ingredients") or []
                )
            return TreeNode(label, title or manifest.get("title"), rel, sig.get("issuer"), kids)

        return node(self.active_manifest, None, None, frozenset())


def _certificates(crjson: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for manifest in crjson.get("manifests") or []:
        signature = manifest.get("signature") or {}
        info = signature.get("certificateInfo")
        if info:
            entry = {"manifest": manifest.get("label"), "algorithm": signature.get("algorithm")}
            entry["signer"] = info
            stamp = signature.get("timeStampInfo")
            if stamp:
                entry["timestamp"] = stamp
            out.append(entry)
    return out


def _text_manifest_store(data: bytes, label: str, policy: TrustPolicy) -> tuple[bytes, str]:
    """The manifest store bytes embedded in a text, and the text binding as `verify` checks it
    (c2pa cannot hash a text, so its own report reads assertion.dataHash.mismatch)."""
    text = unicodedata.normalize("NFC", decode_text(data, label))
    found = read_text_manifest(text, policy)
    if found is None:
        raise ManifestError(f"{label}: no Content Credentials (C2PA manifest) found")
    wrappers = find_wrappers(text)
    if found.report is None or wrappers[0].manifest_store is None:
        codes = ", ".join(found.binding_codes)
        raise ManifestError(f"{label}: the manifest in the text cannot be read ({codes})")
    return wrappers[0].manifest_store, found.binding_codes[0]


def inspect_file(
    source: Path | str | bytes, *, policy: TrustPolicy | None = None, name: str = ""
) -> Inspection:
    """Read a file's manifest store. Raises ManifestError when there is none."""
    data = source if isinstance(source, bytes) else read_input(Path(source))
    label = name or (str(source) if not isinstance(source, bytes) else "content")
    media_type = media_type_of(data, label)
    policy = policy or TrustPolicy.from_env()
    stream, read_as, text_binding = data, media_type, None
    if media_type == TEXT:
        # A text's manifest store travels inside it (C2PA A.7): c2pa reads those bytes.
        stream, text_binding = _text_manifest_store(data, label, policy)
        read_as = "application/c2pa"
    found = c2pa_adapter.read(
        read_as, stream, name=label, context=policy.context(), detailed=True, crjson=True
    )
    if found is None:
        raise ManifestError(f"{label}: no Content Credentials (C2PA manifest) found")
    assert found.detailed is not None and found.crjson is not None  # asked for
    return Inspection(
        media_type,
        found.report,
        found.detailed,
        found.state,
        _certificates(found.crjson),
        text_binding,
    )


def export_manifest_store(
    registry: ManifestRegistry | None,
    manifest_id: str | None,
    output: Path,
    *,
    overwrite: bool = False,
) -> int:
    """Write the manifest store bytes ``registry`` recorded for ``manifest_id`` (what the
    server's POST /v1/manifests wants) to ``output``, atomically; returns their size. They come
    from the registry: c2pa-python offers no way to extract embedded manifest bytes, and this
    project does not parse JUMBF itself."""
    record = registry.by_manifest_id(manifest_id) if registry and manifest_id else None
    if record is None:
        where = redacted(registry.location if registry else default_registry_location())
        raise InputError(
            f"the manifest store bytes of {manifest_id} are not in {where}",
            hint="they are recorded when signing writes a watermark; name the registry it "
            "wrote to, or use the bytes your signing code got from c2pa's Builder.sign",
            remedy=Remedy.NAME_REGISTRY,
        )
    if output.is_dir():
        raise OutputError(f"{output} is a directory", hint="name the file to write")
    write_output(output, record.manifest_store, replace=overwrite)
    return len(record.manifest_store)
