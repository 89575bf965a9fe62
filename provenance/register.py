"""Register a manifest that was signed elsewhere, for soft-binding lookup.

A platform or generator hands over the manifest store (``application/c2pa``) and the asset it
signs. The manifest must validate against that asset (its hard binding), carry our soft
binding under an identifier this registry issued to that same client (first come: see
:meth:`ManifestRegistry.issue_watermark_id`), and the asset must carry the same watermark; if that
watermark already leads to credentials, the manifest's chain must hold them instead (see
``lineage``). Only then is it recorded, with the asset's fingerprint and reference
(``evidence``). The asset itself is never stored.

Why the issuance: the watermark key is public, and a stripped copy of someone else's image
still carries their identifier. Without it, anyone with an API key could re-sign that copy and
register it under the identifier first, and every stripped copy would then recover *their*
credentials. An identifier this registry never issued, or issued to another client, is refused.
"""

from __future__ import annotations

import numpy as np

from . import evidence
from ._internal import c2pa_adapter
from ._internal.c2pa_adapter import ManifestReport
from ._internal.renamed import renamed_keyword
from .errors import ManifestError, NotIssuedError, ProvenanceError, RegistryError, Remedy
from .fingerprint import image_hash
from .lineage import lineage_conflict
from .manifest import soft_binding_values
from .media import media_type_of
from .registry import ManifestRegistry, RegisteredManifest
from .trust import TrustPolicy
from .verdict import INVALID
from .watermark import ALG, detect_rgb, identifier_from_binding, load_for_detection, payload_hex


@renamed_keyword("store", "registry")
def register_manifest(
    manifest_store: bytes,
    asset: bytes,
    registry: ManifestRegistry,
    *,
    client: str,
    policy: TrustPolicy | None = None,
    name: str = "asset",
) -> RegisteredManifest:
    """Record ``manifest_store`` (signed for ``asset``) for ``client``, the party that asked for
    the watermark identifier it declares. Raises :class:`ManifestError` when the manifest does
    not validate for the asset or the asset lacks its watermark, :class:`NotIssuedError` when
    the identifier was not issued to ``client``."""
    media_type = media_type_of(asset, name)
    policy = policy or TrustPolicy()
    try:
        read = c2pa_adapter.read(
            media_type, asset, name=name, context=policy.context(), manifest_store=manifest_store
        )
    except ProvenanceError as exc:
        reason = c2pa_adapter.reason(exc)
        raise ManifestError(f"the manifest cannot be read against this asset ({reason})") from exc
    if read is None:
        raise ManifestError("the manifest cannot be read against this asset (no manifest)")
    report = read.report
    if read.state == INVALID:
        failures = (report.get("validation_results") or {}).get("activeManifest", {})
        codes = sorted({f["code"] for f in failures.get("failure") or []})
        raise ManifestError(f"the manifest does not validate for this asset: {', '.join(codes)}")
    values = soft_binding_values(report, ALG)
    identifier = identifier_from_binding(values[0]) if values else None
    if identifier is None:
        raise ManifestError(f"the manifest has no {ALG} soft binding to register")
    # A new lineage needs an identifier issued to this client; an existing one is joined only
    # by a manifest whose chain holds its newest (``lineage``, below).
    if registry.by_watermark(identifier) is None and registry.issued_to(identifier) != client:
        raise NotIssuedError(
            f"the watermark identifier {payload_hex(identifier)} was not issued to this client",
            hint="have an identifier issued to this client first, embed it, then sign",
            remedy=Remedy.ISSUE_WATERMARK_ID,
        )
    luminance = load_for_detection(asset, name)
    found = detect_rgb(luminance)
    if found.identifier != identifier:
        raise ManifestError("the asset does not carry the watermark its manifest declares")
    conflict = lineage_conflict(registry, identifier, report.get("manifests") or {})
    if conflict is not None:
        raise RegistryError(
            f"watermark {payload_hex(identifier)} already leads to other credentials "
            f"({conflict.manifest_id}), which this manifest's chain does not hold",
            hint="sign with the earlier file as the parent ingredient to extend its lineage",
        )
    record = registered_manifest(
        read,
        manifest_store,
        watermark_id=identifier,
        alg=ALG,
        binding_value=values[0],
        media_type=media_type,
        fingerprint=image_hash(np.asarray(luminance)),
        reference=evidence.reference(luminance),
    )
    registry.register(record)
    return record


def registered_manifest(
    report: ManifestReport,
    manifest_store: bytes,
    *,
    watermark_id: int,
    alg: str,
    binding_value: str,
    media_type: str,
    fingerprint: int | None,
    reference: bytes | None = None,
) -> RegisteredManifest:
    """The registry's record of ``manifest_store`` (c2pa's ``report`` on it), found later by its
    soft binding (``alg``, ``binding_value``, ``watermark_id``) or ``fingerprint``.

    The one place a record is made (signing an image, signing a text, registering): its
    manifest id and signer are always read from c2pa's report, never restated by a caller.
    """
    return RegisteredManifest(
        watermark_id=watermark_id,
        manifest_id=report.active_label,
        alg=alg,
        binding_value=binding_value,
        manifest_store=manifest_store,
        media_type=media_type,
        fingerprint=fingerprint,
        signer=report.signer,
        reference=reference,
    )
