"""Verify an asset: read its C2PA manifest with c2pa's Reader and produce a Verdict.

Orchestration only: reading is c2pa's, judgement is in ``verdict``. Each call makes its own
Reader and Context, so calls may run in parallel threads.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import evidence
from ._internal import c2pa_adapter
from ._internal.c2pa_adapter import MANIFEST_STORE, ManifestReport
from ._internal.renamed import renamed_keyword
from .errors import (
    InputError,
    MalformedAssetError,
    ManifestError,
    RemoteManifestError,
    WatermarkSizeError,
)
from .fingerprint import (
    TEXT_FINGERPRINT_ALG,
    TEXT_SKETCH_BITS,
    image_hash,
    sketch_similarity,
    text_sketch,
)
from .manifest import soft_binding_values
from .media import PIXEL_TYPES, TEXT, cut_short, decode_text, media_type_of, read_input
from .registry import ManifestRegistry, RegisteredManifest
from .text.watermark import TextWatermarkKey, detect_text, load_tokenizer
from .text_manifest import HASH_MATCH as TEXT_HASH_MATCH
from .text_manifest import HASH_MISMATCH as TEXT_HASH_MISMATCH
from .text_manifest import read_text_manifest, strip_wrappers, without_bom
from .trust import TrustPolicy
from .verdict import (
    CUT_SHORT,
    HARD_BINDING,
    AIOrigin,
    Credentials,
    Evidence,
    Match,
    MatchKind,
    Scope,
    Source,
    State,
    Verdict,
    ai_origin,
    credentials_from_report,
    summarize,
    summarize_unreadable_text,
)
from .watermark import (
    ALG,
    DETECT_MIN_SIDE,
    decode_for_detection,
    detect_decoded,
    identifier_from_binding,
    load_for_detection,
)

#: Environment variable: text watermark keys, ``KEYFILE=TOKENIZER.json`` separated by commas.
TEXT_WATERMARKS_ENV = "PROVENANCE_TEXT_WATERMARKS"
#: Fingerprint-only matches below this similarity are not reported.
FINGERPRINT_SIMILARITY = 0.9
#: For text (512-bit MinHash sketch of words, or characters in CJK scripts, and their bigrams;
#: bench/text_fingerprint.py, 200 texts in each of 7 languages): copies with 10 % of units
#: edited scored at least 0.78, unrelated texts at most 0.71 (19,900 pairs per language).
TEXT_SIMILARITY = 0.75
#: The registry pre-selects this many text candidates by the sketch's first 64 bits (at least
#: TEXT_PREFILTER alike) before the full sketches are compared.
TEXT_CANDIDATES, TEXT_PREFILTER = 50, 0.55
#: Why an image was not searched for a watermark (``Verdict.watermark_skipped``): the detector
#: needs a short side of DETECT_MIN_SIDE, so a smaller image cannot carry one.
TOO_SMALL = (
    f"the image is too small to carry the watermark (its short side is under {DETECT_MIN_SIDE} px)"
)


@dataclass(frozen=True)
class _Embedded:
    """What content carries: c2pa's report on its manifest, or only the address of one kept
    online (``remote_url``), or neither."""

    manifest: ManifestReport | None = None
    remote_url: str | None = None


def _read_manifest(data: bytes, media_type: str, policy: TrustPolicy, name: str) -> _Embedded:
    """c2pa's report on the manifest ``data`` carries (or the URL it only points to)."""
    try:
        found = c2pa_adapter.read(media_type, data, name=name, context=policy.context())
    except RemoteManifestError as exc:
        return _Embedded(remote_url=exc.url)
    except MalformedAssetError as exc:
        # c2pa cannot parse a PNG without IEND or a WebP short of its RIFF size: say what the
        # reader can do something about (the JPEG case is the verdict's CUT_SHORT_WORDS).
        if cut_short(data, media_type):
            raise MalformedAssetError(f"{name}: {CUT_SHORT}", hint="") from exc
        raise
    return _Embedded(manifest=found)


def _recovered(
    record: RegisteredManifest,
    policy: TrustPolicy,
    label: str,
    alike: float,
    source: Source = Source.WATERMARK,
    shown: float | None = None,
) -> tuple[Credentials, AIOrigin]:
    """Credentials from a stored manifest, judged by its signature (the pixels differ)."""
    found = _read_manifest(record.manifest_store, MANIFEST_STORE, policy, label).manifest
    if found is None:
        raise ManifestError(f"{label}: the stored manifest {record.manifest_id} is unreadable")
    report = found.report
    embedded = credentials_from_report(report, None)
    hard = [c for c in embedded.failures if c in HARD_BINDING]
    failures = [c for c in embedded.failures if c not in HARD_BINDING]
    credentials = replace(
        embedded,
        failures=failures,
        informational=hard + embedded.informational,
        state=_judged_state(report, failures),
        # Not embedded in this content: found elsewhere and applied to it.
        present=False,
        source=source,
        recovered=True,
        similarity=alike,
        shown=None if shown is None else round(shown, 3),
    )
    ai = ai_origin(report)
    if ai.generated:
        ai = replace(ai, evidence=[*ai.evidence, Evidence.WATERMARK])
    return credentials, ai


FINGERPRINT_ALG = "org.provenance.phash.1"


def _same_but_edited(alike: evidence.Likeness) -> bool:
    """Whether ``alike`` is refused only for its edited region (it would count as the
    registered image without it)."""
    return not alike.same and replace(alike, edited=0.0).same


def _same_but_added(alike: evidence.Likeness) -> bool:
    """Whether ``alike`` is refused only for what lies outside the registered image (a
    caption bar, a border: it would count as the registered image without it)."""
    return not alike.same and replace(alike, covered=1.0).same


def _candidates(
    data: bytes,
    registry: ManifestRegistry | None,
    name: str,
    limit: int,
    min_similarity: float,
    alike_too: bool = True,
) -> tuple[dict, list[tuple[Match, RegisteredManifest]], evidence.Likeness]:
    """Detect the watermark; with a registry, the manifests it names, then look-alikes (unless
    the watermark named one and ``alike_too`` is off: no fingerprint search then), and whether
    the image is the one registered under the watermark (or a crop of it).

    A watermark match carries the share of image blocks that agree with the registered
    image's stored reference once the watermark's geometry is undone (1.0 for an unchanged
    image or a crop of it; see ``evidence``), and the evidence itself (its ``same``: whether
    that is enough to call it the registered image).
    """
    luminance = load_for_detection(data, name)
    found = detect_decoded(luminance, data, name)
    if registry is None:  # no evidence to weigh
        return found.to_dict(), [], evidence.NONE
    fingerprint = image_hash(luminance)
    hits: list[tuple[Match, RegisteredManifest]] = []
    record = registry.by_watermark(found.identifier) if found.identifier is not None else None
    alike = evidence.NONE
    if record is not None:
        if record.reference:  # rows stored before references existed have none: never "same"
            # Which colours a brightness/contrast edit clipped (the luminance alone cannot
            # tell), and the luminance the mask is made on, from one decode. Made only here,
            # when the watermark names a registered image: most uploads carry no watermark, and
            # decoding every one's colour planes cost each ~0.5 ms at 1 MP (a third of its
            # luminance decode); a recovery pays one more decode (~1.9 ms) instead.
            decoded = decode_for_detection(data, name)
            alike = evidence.compare(
                decoded.luminance,
                record.reference,
                found.scale,
                found.angle,
                clipped=evidence.clipped_mask(decoded.rgb()),
                orientation=found.orientation,
                region=found.grid_region,
                aspect=found.aspect,
            )
        # Refused for one region that differs alone (the rest agrees): say how large it is.
        edited = round(alike.edited, 3) if _same_but_edited(alike) else None
        # ... or for the content around it (the registered image all there, more beside it).
        added = round(1 - alike.covered, 3) if _same_but_added(alike) else None
        match = Match(
            record.manifest_id,
            round(alike.agreeing, 3),
            MatchKind.WATERMARK,
            record.signer,
            edited,
            added,
        )
        hits.append((match, record))
        if not alike_too:
            return found.to_dict(), hits, alike
    for near, score in registry.nearest(fingerprint, min_similarity=min_similarity, limit=limit):
        if all(m.manifest_id != near.manifest_id for m, _ in hits):
            hits.append(
                (
                    Match(near.manifest_id, round(score, 3), MatchKind.FINGERPRINT, near.signer),
                    near,
                )
            )
    return found.to_dict(), hits[:limit], alike


def _visible_text(text: str) -> str:
    """What a reader sees: no wrapper, no byte-order mark, NFC (for fingerprints and the
    language-model watermark)."""
    return unicodedata.normalize("NFC", without_bom(strip_wrappers(text)))


@renamed_keyword("store", "registry")
def find_matches(
    data: bytes,
    registry: ManifestRegistry,
    *,
    name: str = "content",
    limit: int = 10,
    min_similarity: float = FINGERPRINT_SIMILARITY,
    media_type: str | None = None,
) -> tuple[dict | None, list[Match]]:
    """Stored manifests for this content, by its watermark, then by its fingerprint (for the
    Soft Binding Resolution API's ``byContent``). Returns (watermark result, matches).
    Text (``media_type`` text/plain) is matched by its text fingerprint only."""
    if media_type == TEXT:
        visible = _visible_text(decode_text(data, name))
        return None, _text_matches(visible, registry, limit)
    found, hits, _ = _candidates(data, registry, name, limit, min_similarity)
    return found, [m for m, _ in hits]


def _look_in_registry(
    data: bytes, label: str, policy: TrustPolicy, registry: ManifestRegistry | None
) -> tuple[dict | None, list[Match], tuple[Credentials, AIOrigin] | None]:
    """(watermark result, possible matches, recovered credentials) for content without any;
    raises :class:`WatermarkSizeError` for an image too small to carry a watermark.

    A watermark that names a stored manifest recovers it only if the image is the one
    registered, or a crop of it, by the stored evidence (see ``evidence``); otherwise it is a
    possible match. Without a watermark, look-alikes are
    possible matches. A watermark naming nothing stored yields no matches at all.
    """
    # Look-alikes only matter when the watermark names nothing stored.
    found, hits, alike = _candidates(
        data, registry, label, 5, FINGERPRINT_SIMILARITY, alike_too=False
    )
    by_watermark = [(m, r) for m, r in hits if m.kind == MatchKind.WATERMARK]
    if by_watermark:
        match, record = by_watermark[0]
        if alike.same:
            recovered = _recovered(
                record, policy, label, match.similarity, Source(match.kind), alike.shown
            )
            return found, [], recovered
        return found, [match], None
    if found["detected"]:
        return found, [], None
    return found, [m for m, _ in hits], None


def _registered_elsewhere(
    data: bytes, label: str, report: dict[str, Any], registry: ManifestRegistry
) -> tuple[dict | None, list[Match]]:
    """For content with embedded credentials: the watermark in its pixels, and the stored
    manifest it leads to when that manifest is not in this file's chain and the pixels are
    the registered image (``evidence``). A stripped copy re-signed by someone else keeps the
    first signer's watermark: its new credentials are what the file carries, but the reader
    should also learn that the same picture was registered under other credentials."""
    chain = report.get("manifests") or {}
    for value in soft_binding_values(report, ALG):
        identifier = identifier_from_binding(value)
        newest = registry.by_watermark(identifier) if identifier is not None else None
        if newest is not None and newest.manifest_id in chain:
            # The file's own credentials are the registered ones (the registry checked that
            # their asset carries the watermark): nothing older to report, no detection paid
            # (~13 ms at 1 MP, against ~2 ms for the rest of such a verify).
            return None, []
    try:
        found, hits, alike = _candidates(
            data, registry, label, 1, FINGERPRINT_SIMILARITY, alike_too=False
        )
    except WatermarkSizeError:
        return None, []
    earlier = [
        m
        for m, record in hits
        if m.kind == MatchKind.WATERMARK and alike.same and record.manifest_id not in chain
    ]
    return (found if earlier else None), earlier


@dataclass(frozen=True)
class TextDetector:
    """A text watermark key and the tokenizer of the model that generates with it."""

    key: TextWatermarkKey
    tokenizer: Any

    @classmethod
    def from_env(cls, specs: Sequence[str] = ()) -> list[TextDetector]:
        """Detectors for ``$PROVENANCE_TEXT_WATERMARKS`` (comma-separated specs), then
        ``specs`` (flags): how `verify` and `serve` both read them."""
        env = [v.strip() for v in os.environ.get(TEXT_WATERMARKS_ENV, "").split(",") if v.strip()]
        return [cls.from_spec(spec) for spec in dict.fromkeys([*env, *specs])]

    @classmethod
    def from_spec(cls, spec: str) -> TextDetector:
        """``KEYFILE=TOKENIZER.json`` (the CLI's and the server's form)."""
        key_path, sep, tokenizer_path = spec.partition("=")
        if not sep or not key_path or not tokenizer_path:
            raise InputError(f"{spec!r}: give the text watermark as KEYFILE=TOKENIZER.json")
        return cls(TextWatermarkKey.from_file(key_path), load_tokenizer(tokenizer_path))


def _judged_state(report: dict[str, Any], failures: list[str]) -> State:
    """Trusted / Valid / Invalid from the remaining failures and whether c2pa trusted the
    signer (for manifests judged without their original asset bytes)."""
    results = (report.get("validation_results") or {}).get("activeManifest") or {}
    success = results.get("success") or []
    trusted = any(e.get("code") == "signingCredential.trusted" for e in success)
    if not set(failures) <= {"signingCredential.untrusted"}:
        return State.INVALID
    return State.TRUSTED if trusted else State.VALID


def _text_matches(text: str, registry: ManifestRegistry | None, limit: int = 5) -> list[Match]:
    """Registered texts like this one: candidates by the stored 64-bit fingerprint, then
    judged by the full sketch kept as their binding value."""
    sketch = text_sketch(text) if registry is not None else None
    if registry is None or sketch is None:
        return []
    prefix = sketch >> (TEXT_SKETCH_BITS - 64)
    candidates = registry.nearest(
        prefix, min_similarity=TEXT_PREFILTER, limit=TEXT_CANDIDATES, text=True
    )
    scored = []
    for record, _ in candidates:
        if record.alg != TEXT_FINGERPRINT_ALG or len(record.binding_value) != TEXT_SKETCH_BITS // 4:
            continue  # an older fingerprint, or not one of ours: not comparable
        try:
            score = sketch_similarity(sketch, int(record.binding_value, 16))
        except ValueError:
            continue
        if score >= TEXT_SIMILARITY:
            scored.append(
                Match(record.manifest_id, round(score, 3), MatchKind.FINGERPRINT, record.signer)
            )
    return sorted(scored, key=lambda m: -m.similarity)[:limit]


def _verify_text(
    data: bytes,
    label: str,
    policy: TrustPolicy,
    detectors: Sequence[TextDetector],
    registry: ManifestRegistry | None,
) -> tuple[Credentials, AIOrigin, dict[str, Any] | None, str, list[Match]]:
    text = decode_text(data, label)
    found = read_text_manifest(text, policy)
    if found is None:
        credentials, ai = Credentials(), AIOrigin()
    elif found.report is None:
        credentials = Credentials(
            present=True, source=Source.EMBEDDED, state=State.INVALID, failures=found.binding_codes
        )
        ai = AIOrigin()
    else:
        embedded = credentials_from_report(found.report, found.state)
        # c2pa could not hash the text and says so; our own binding check replaces that code.
        failures = [c for c in embedded.failures if c != TEXT_HASH_MISMATCH]
        failures += [c for c in found.binding_codes if c != TEXT_HASH_MATCH]
        credentials = replace(
            embedded, failures=failures, state=_judged_state(found.report, failures)
        )
        ai = ai_origin(found.report)
    visible = _visible_text(text)
    unreadable = found is not None and found.problem is not None
    matches = _text_matches(visible, registry) if unreadable or not credentials.present else []
    results = [detect_text(visible, d.tokenizer, d.key) for d in detectors]
    hit = next((r for r in results if r.detected), None)
    best = hit or min(results, key=lambda r: r.p_value, default=None)
    mark = best.to_dict() if best else None
    if hit is not None:
        ai = replace(
            ai,
            generated=True,
            scope=ai.scope or Scope.WHOLE,
            evidence=[*ai.evidence, Evidence.TEXT_WATERMARK],
        )
    if found is not None and found.problem is not None:  # i.e. unreadable
        summary = summarize_unreadable_text(found.problem.value, matches, mark)
    else:
        summary = summarize(
            credentials,
            ai,
            None,
            matches,
            text_watermark=mark,
            text_keys=len(detectors),
            trust_configured=policy.configured,
        )
        if found is not None and found.renormalised:
            summary += (
                " Only the text's Unicode normalisation differs from what was signed (its NFC "
                "form verifies): the characters are the same, the bytes are not."
            )
    return credentials, ai, mark, summary, matches


def _settle(credentials: Credentials, ai: AIOrigin) -> tuple[Credentials, AIOrigin]:
    """Fields that follow from the final state: the trust list only for Trusted credentials;
    an AI origin read from Invalid credentials is only claimed."""
    if credentials.state != State.TRUSTED and credentials.trust_list is not None:
        credentials = replace(credentials, trust_list=None)
    claimed = (
        credentials.state == State.INVALID
        and ai.generated is True
        and Evidence.TEXT_WATERMARK not in ai.evidence  # a detected text watermark is not a claim
    )
    return credentials, replace(ai, claimed=claimed)


@renamed_keyword("store", "registry")
def verify(
    source: Path | str | bytes,
    *,
    policy: TrustPolicy | None = None,
    media_type: str | None = None,
    name: str | None = None,
    registry: ManifestRegistry | None = None,
    watermark: bool = True,
    sha256: str | None = None,
    text_detectors: Sequence[TextDetector] = (),
) -> Verdict:
    """Verify a file (path) or content (bytes) and return its Verdict.

    Without embedded credentials, an image is searched for the watermark; with a ``registry``,
    a watermark that names a stored manifest (on an image that still looks like the one
    registered) recovers those credentials, and a fingerprint-only resemblance is reported as
    a possible match. ``sha256``: the content's digest, when the caller has already computed
    it. Raises :class:`InputError` (and subclasses) when the input cannot be read or is not a
    supported type, :class:`ManifestError` when a manifest is present but unreadable.
    """
    if isinstance(source, bytes):
        data, path = source, None
    else:
        path = str(source)
        data = read_input(Path(source))
    if not data:
        raise InputError(f"{name or path or 'input'}: the content is empty")
    label = name or path or "content"
    media_type = media_type or media_type_of(data, label)
    digest = sha256 or hashlib.sha256(data).hexdigest()
    # The default trust: the bundled lists and $PROVENANCE_TRUST, as for the CLI and server.
    policy = policy or TrustPolicy.from_env()
    if media_type == TEXT:
        credentials, ai, text_mark, summary, matches = _verify_text(
            data, label, policy, text_detectors, registry
        )
        credentials, ai = _settle(credentials, ai)
        return Verdict(
            path=path,
            media_type=TEXT,
            sha256=digest,
            credentials=credentials,
            ai=ai,
            summary=summary,
            text_watermark=text_mark,
            matches=matches,
        )
    embedded = _read_manifest(data, media_type, policy, label)
    found: dict | None = None
    skipped: str | None = None
    matches = []
    if embedded.manifest is not None:
        report = embedded.manifest.report
        credentials = credentials_from_report(report, embedded.manifest.state)
        ai = ai_origin(report)
        if registry is not None and watermark and media_type in PIXEL_TYPES:
            found, matches = _registered_elsewhere(data, label, report, registry)
    else:
        remote_url = embedded.remote_url
        credentials = Credentials(
            present=False,
            remote_url=remote_url,
            failures=["manifest.inaccessible"] if remote_url else [],
        )
        ai = AIOrigin()
        if watermark and media_type in PIXEL_TYPES:
            try:
                found, matches, recovered = _look_in_registry(data, label, policy, registry)
            except WatermarkSizeError:
                skipped, recovered = TOO_SMALL, None
            if recovered is not None:
                credentials, ai = recovered
    credentials, ai = _settle(credentials, ai)
    return Verdict(
        path=path,
        media_type=media_type,
        sha256=digest,
        credentials=credentials,
        ai=ai,
        summary=summarize(
            credentials,
            ai,
            found,
            matches,
            trust_configured=policy.configured,
            # Looked for only when the hash fails: one pass over the bytes, and only then.
            cut_short=bool(HARD_BINDING.intersection(credentials.failures))
            and cut_short(data, media_type),
        ),
        watermark=found,
        watermark_skipped=skipped,
        matches=matches,
    )


def manifest_thumbnail(manifest_store: bytes) -> tuple[str, bytes] | None:
    """The active manifest's claim thumbnail (media type, bytes), if it has one: what the
    signed original looked like, for a reader comparing it with a recovered copy."""
    return c2pa_adapter.read_thumbnail(manifest_store)
