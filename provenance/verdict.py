"""The Verdict: what the library, the CLI, the server and the extension all say about an asset.

Its JSON shape (``Verdict.to_dict()``) is the contract between the library and every face of it:
add fields, never rename them. This module also reads AI origin across a manifest chain and
writes the one-sentence summary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import Enum, StrEnum
from typing import Annotated, Any

from .manifest import AI_TERMS, PARTIAL_AI_TERMS, SYNTHETIC_TERMS, source_type_term

# The words of a verdict. StrEnum members are their values (``State.TRUSTED == "Trusted"``), so
# the JSON is unchanged; ``Verdict.to_dict()`` hands out the plain strings.


class State(StrEnum):
    """How credentials were judged: signed by a trusted signer, intact but not trusted, or
    failing validation."""

    TRUSTED = "Trusted"
    VALID = "Valid"
    INVALID = "Invalid"


class Source(StrEnum):
    """Where the credentials of a verdict came from (``credentials.source``)."""

    EMBEDDED = "embedded"
    WATERMARK = "watermark"
    FINGERPRINT = "fingerprint"


class TrustList(StrEnum):
    """Which trust list made the signer trusted (``credentials.trust_list``): the official
    C2PA list, the legacy interim list, or anchors the user added."""

    C2PA = "c2pa"
    INTERIM = "interim"
    USER = "user"


class Scope(StrEnum):
    """How much of the asset AI made (``ai.scope``)."""

    WHOLE = "whole"
    PART = "part"


class Evidence(StrEnum):
    """``ai.evidence`` values: a digitalSourceType in a manifest, AI named only in a
    manifest's free text (e.g. Bing's "AI Generated Image"), the image watermark, the text
    watermark."""

    C2PA = "c2pa"
    DESCRIPTION = "c2pa-description"
    WATERMARK = "watermark"
    TEXT_WATERMARK = "text-watermark"


class MatchKind(StrEnum):
    """How a stored manifest was found: its watermark payload matched (the image differs), or
    only its fingerprint resembles this content."""

    WATERMARK = "watermark"
    FINGERPRINT = "fingerprint"


class Orientation(StrEnum):
    """How a watermarked copy is mirrored or turned by right angles compared with the image the
    watermark was embedded in (``watermark.mirrored_or_turned``), in a reader's words: every
    face (the summary, the CLI, the extension's card) shows these words as they are."""

    TURNED_LEFT = "turned 90° counter-clockwise"
    UPSIDE_DOWN = "turned 180°"
    TURNED_RIGHT = "turned 90° clockwise"
    MIRRORED = "mirrored left to right"
    MIRRORED_TURNED_LEFT = "mirrored and turned 90° counter-clockwise"
    FLIPPED = "mirrored top to bottom"
    MIRRORED_TURNED_RIGHT = "mirrored and turned 90° clockwise"


#: The detector's orientation (``codec.orient``: mirrored left to right if 4 or more, then
#: turned counter-clockwise by that number modulo 4 right angles) in words; 0 is as marked.
_ORIENTATIONS = dict(enumerate(Orientation, start=1))


def orientation_of(orientation: int) -> Orientation | None:
    """The words for the detector's ``orientation`` (``codec.orient``), None when as marked."""
    return _ORIENTATIONS.get(orientation)


def mirrored_or_turned(watermark: dict[str, Any] | None) -> str | None:
    """How the copy a watermark was found in is mirrored or turned (an :class:`Orientation`'s
    words), None when it is as marked or no watermark was found."""
    return (watermark or {}).get("mirrored_or_turned") or None


@dataclass(frozen=True)
class Doc:
    """A field's description (``Annotated[T, Doc("...")]``), which the OpenAPI schema uses."""

    text: str


# The older module-level names, kept for callers that import them.
TRUSTED, VALID, INVALID = State.TRUSTED, State.VALID, State.INVALID
EMBEDDED, WATERMARK, FINGERPRINT = Source.EMBEDDED, Source.WATERMARK, Source.FINGERPRINT
C2PA_LIST, INTERIM_LIST, USER_LIST = TrustList.C2PA, TrustList.INTERIM, TrustList.USER
EVIDENCE_C2PA, EVIDENCE_DESCRIPTION = Evidence.C2PA, Evidence.DESCRIPTION
TRUST_LIST_WORDS = {
    TrustList.C2PA: "the official C2PA trust list",
    TrustList.INTERIM: "the legacy interim trust list (frozen; it predates the official C2PA list)",
    # Neutral: on the CLI the user added it, on the service the operator did (each face's own
    # field says which).
    TrustList.USER: "a trust anchor added to this verifier's configuration",
}

#: Plain words for the failure codes readers meet most, used in the summary.
FAILURE_WORDS = {
    "assertion.dataHash.mismatch": "the content was changed after it was signed",
    "assertion.bmffHash.mismatch": "the content was changed after it was signed",
    "assertion.boxesHash.mismatch": "the content was changed after it was signed",
    "assertion.hashedURI.mismatch": "part of the manifest was altered after signing",
    "claimSignature.mismatch": "the signature does not match the claim",
    "claimSignature.missing": "the signature is missing",
    "signingCredential.invalid": "the signing certificate is not valid for signing content",
    "signingCredential.expired": "the signing certificate had expired",
    "signingCredential.revoked": "the signing certificate was revoked",
    "claim.missing": "the claim is missing",
    "assertion.missing": "an assertion the claim lists is missing",
    "manifest.text.corruptedWrapper": "the embedded manifest is damaged",
    "manifest.text.multipleWrappers": "the text holds more than one manifest",
}

#: Hard-binding codes: the signed content's bytes no longer hash as signed.
HARD_BINDING = frozenset(
    {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch"}
)
#: A file that ends before its format's end (``media.cut_short``): an incomplete copy (an
#: interrupted download), not an edit; getting a complete one is the remedy. The verdict's
#: words when the hash fails for it, and the error's when c2pa cannot parse it at all (a PNG
#: without IEND, a WebP short of its RIFF size); the extension's verdict.js says the same.
CUT_SHORT = "the file is cut short (an incomplete copy: get a complete one)"
#: Why the content no longer matches its signature when the file is cut short.
CUT_SHORT_WORDS = f"{CUT_SHORT}, which is why the content no longer matches its signature"

#: Codes that describe trust or informational matters rather than damage; an Invalid summary
#: names the first failure not in this set.
UNTRUSTED = "signingCredential.untrusted"
NOT_DAMAGE = {UNTRUSTED, "signingCredential.ocsp.skipped"}


@dataclass(frozen=True)
class SignerInfo:
    """Who signed the active manifest, from its certificate, and the signature algorithm."""

    issuer: str | None
    common_name: str | None
    alg: str | None = None


@dataclass(frozen=True)
class Ingredient:
    """One ingredient of the active manifest (the history readers see at level 3)."""

    title: str | None
    relationship: str | None
    format: str | None
    manifest_id: str | None
    source_types: list[str] = field(default_factory=list)
    failures: Annotated[
        list[str],
        Doc("the validator's failure codes for this ingredient (an Invalid verdict names it)"),
    ] = field(default_factory=list)


@dataclass(frozen=True)
class Credentials:
    """What the Content Credentials of an asset say and how they were judged. Recovered
    credentials (found in the registry) have ``present`` false."""

    present: Annotated[
        bool,
        Doc(
            "a manifest is embedded in the content itself "
            "(false for credentials recovered from the registry)"
        ),
    ] = False
    source: Annotated[
        Source | None,
        Doc(
            "where these credentials came from: embedded in the content, or recovered from the "
            "registry through the watermark or the fingerprint; null when there are none"
        ),
    ] = None
    state: State | None = None
    failures: list[str] = field(default_factory=list)
    informational: Annotated[
        list[str],
        Doc("status codes the validator reports as neither success nor failure (timeStamp.*)"),
    ] = field(default_factory=list)
    signer: SignerInfo | None = None
    signed_at: str | None = None
    generator: str | None = None
    manifest_id: str | None = None
    title: str | None = None
    created_at: Annotated[
        str | None,
        Doc("when the creation action says it happened (declared by the signer, not a timestamp)"),
    ] = None
    ingredient_failures: list[str] = field(default_factory=list)
    ingredients: list[Ingredient] = field(default_factory=list)
    remote_url: Annotated[
        str | None, Doc("set when the asset points to a manifest stored online, not fetched")
    ] = None
    trust_list: Annotated[
        TrustList | None,
        Doc(
            "the list that made the signer trusted (Trusted only): "
            "the official C2PA list, the legacy interim list, or a user anchor"
        ),
    ] = None
    recovered: Annotated[
        bool, Doc("kept for older clients: source is watermark or fingerprint")
    ] = False
    similarity: Annotated[
        float | None,
        Doc("when recovered: how alike this copy and the registered image are (0-1)"),
    ] = None
    shown: Annotated[
        float | None,
        Doc(
            "when recovered from a watermark: the share of the registered image this copy "
            "shows (0-1; a crop shows part of it)"
        ),
    ] = None


@dataclass(frozen=True)
class AIOrigin:
    """What the content's credentials and watermarks say about generative AI."""

    generated: bool | None = None
    scope: Scope | None = None
    source_types: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    claimed: Annotated[
        bool,
        Doc(
            "the AI origin comes from credentials judged Invalid: a claim, not an established fact"
        ),
    ] = False
    description: Annotated[
        str | None,
        Doc(
            "the manifest's own words when AI is named only in "
            "free text (evidence c2pa-description)"
        ),
    ] = None


@dataclass(frozen=True)
class Match:
    """A stored manifest that may belong to this content, with how alike they are (0-1)."""

    manifest_id: str
    similarity: float
    kind: MatchKind
    signer: str | None = None
    edited: Annotated[
        float | None,
        Doc(
            "a watermark match refused because one connected region differs from the "
            "registered image (edited, or other content pasted in): that region's share of "
            "the picture (0-1); null otherwise"
        ),
    ] = None
    added: Annotated[
        float | None,
        Doc(
            "a watermark match refused because this image shows the registered one with other "
            "content around it (a caption bar, a border, padding): the share of this image "
            "outside the registered one (0-1); null otherwise"
        ),
    ] = None


def _value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return [_value(v) for v in value] if isinstance(value, list) else value


def _plain(items: list[tuple[str, Any]]) -> dict[str, Any]:
    # Enum members as their plain values: the dict is JSON-ready for any encoder.
    return {k: _value(v) for k, v in items}


@dataclass(frozen=True)
class Verdict:
    """What the library, the CLI, the server and the extension say about an asset."""

    path: str | None
    media_type: str
    sha256: str
    credentials: Credentials
    ai: AIOrigin
    summary: str = ""
    watermark: Annotated[
        dict[str, Any] | None, Doc("what the watermark detector found (null when it did not run)")
    ] = None
    watermark_skipped: Annotated[
        str | None,
        Doc(
            "why an image without credentials was not searched for a watermark, e.g. too small "
            "to carry one; null when it was searched, or needed no search"
        ),
    ] = None
    matches: Annotated[
        list[Match], Doc("possible matches in the registry; never counted as credentials")
    ] = field(default_factory=list)
    text_watermark: Annotated[
        dict[str, Any] | None,
        Doc("for text: the language-model watermark test (p-value, z-score, key id)"),
    ] = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self, dict_factory=_plain)


# -- reading c2pa's report (the Reader's JSON of a manifest store) ----------------------------


def _actions(manifest: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            yield from (assertion.get("data") or {}).get("actions") or []


def _agent_name(agent: Any) -> str | None:
    if isinstance(agent, str):
        return agent or None
    if isinstance(agent, dict) and agent.get("name"):
        version = agent.get("version")
        return f"{agent['name']} {version}" if version else str(agent["name"])
    return None


def _declared_type(action: dict[str, Any]) -> str | None:
    # 1.x writers sometimes put it among the action's parameters.
    value = action.get("digitalSourceType") or (action.get("parameters") or {}).get(
        "digitalSourceType"
    )
    return str(value) if value else None


def _source_types(manifest: dict[str, Any]) -> list[str]:
    found = [t for t in map(_declared_type, _actions(manifest)) if t]
    for assertion in manifest.get("assertions") or []:
        # Legacy (1.x) IPTC photo-metadata assertion: Iptc4xmpExt:DigitalSourceType.
        if str(assertion.get("label", "")).startswith("stds.iptc"):
            data = assertion.get("data") or {}
            value = data.get("Iptc4xmpExt:DigitalSourceType") or data.get("DigitalSourceType")
            if isinstance(value, str) and value:
                found.append(value)
    return list(dict.fromkeys(found))


#: Free text that names generative AI (Bing Image Creator writes only "AI Generated Image").
_AI_WORDS = re.compile(
    r"\b(?:AI|A\.I\.|artificial intelligence)[- ]generated\b"
    r"|\bgenerated (?:by|with|using) (?:an? )?(?:AI|artificial intelligence|generative)\b"
    r"|\bgenerative AI\b|\btext[- ]to[- ]image\b",
    re.IGNORECASE,
)


def _ai_description(manifest: dict[str, Any]) -> str | None:
    """The first free-text description in a manifest's actions that names generative AI."""
    for action in _actions(manifest):
        params = action.get("parameters") or {}
        for text in (action.get("description"), params.get("description")):
            if isinstance(text, str) and _AI_WORDS.search(text):
                return text.strip()
    return None


def _chain(report: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The active manifest (depth 0), then its ingredients' manifests, breadth first, once each."""
    manifests = report.get("manifests") or {}
    queue = [(0, report.get("active_manifest"))]
    seen: set[str] = set()
    while queue:
        depth, label = queue.pop(0)
        if not label or label in seen or label not in manifests:
            continue
        seen.add(label)
        manifest = manifests[label]
        yield depth, manifest
        queue.extend(
            (depth + 1, i.get("active_manifest")) for i in manifest.get("ingredients") or []
        )


def ai_origin(report: dict[str, Any]) -> AIOrigin:
    """What the manifest chain declares about generative AI.

    ``generated`` is True when any manifest in the chain (active or ingredient) declares an AI
    source type (http or https IPTC URI, or C2PA's trainedAlgorithmicData, compared by term), or
    failing that names AI in an action's free-text description (evidence ``c2pa-description``).
    ``scope`` is "whole" when the active manifest declares it for the whole asset, "part" for
    composites and for AI declared only in an ingredient. ``compositeSynthetic`` alone gives
    ``None`` with scope "part": a synthetic element, not necessarily generative AI.
    ``algorithmicMedia`` is not generative AI (IPTC: no training data).
    """
    active_types: list[str] = []
    ingredient_types: list[str] = []
    description: tuple[int, str] | None = None
    for depth, manifest in _chain(report):
        (active_types if depth == 0 else ingredient_types).extend(_source_types(manifest))
        if description is None:
            text = _ai_description(manifest)
            description = (depth, text) if text else None
    all_types = list(dict.fromkeys(active_types + ingredient_types))
    ai_active = [t for t in active_types if source_type_term(t) in AI_TERMS]
    ai_anywhere = [t for t in all_types if source_type_term(t) in AI_TERMS]
    if ai_anywhere:
        partial = any(source_type_term(t) in PARTIAL_AI_TERMS for t in ai_active)
        return AIOrigin(
            generated=True,
            scope=Scope.WHOLE if ai_active and not partial else Scope.PART,
            source_types=all_types,
            evidence=[EVIDENCE_C2PA],
        )
    if description is not None:
        depth, text = description
        return AIOrigin(
            generated=True,
            scope=Scope.WHOLE if depth == 0 else Scope.PART,
            source_types=all_types,
            evidence=[EVIDENCE_DESCRIPTION],
            description=text,
        )
    if any(source_type_term(t) in SYNTHETIC_TERMS for t in all_types):
        return AIOrigin(generated=None, scope=Scope.PART, source_types=all_types, evidence=[])
    return AIOrigin(generated=False, scope=None, source_types=all_types, evidence=[])


def _ai_agent(report: dict[str, Any]) -> str | None:
    """The softwareAgent of the first action in the chain that declares AI, leaving out
    ingredients that had failed validation when used (and their own ingredients): a tool named
    only by damaged credentials is a claim, not the maker of this content."""
    damaged: set[str] = set()
    for _, manifest in _chain(report):
        if manifest.get("label") in damaged:
            damaged.update(
                i.get("active_manifest") or "" for i in manifest.get("ingredients") or []
            )
            continue
        damaged.update(
            i.get("active_manifest") or ""
            for i in manifest.get("ingredients") or []
            if _recorded_damage(i)
        )
        for action in _actions(manifest):
            if source_type_term(_declared_type(action) or "") in AI_TERMS:
                name = _agent_name(action.get("softwareAgent"))
                if name:
                    return name
    return None


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info") or []
    if info and isinstance(info[0], dict):
        return _agent_name(info[0])
    return manifest.get("claim_generator") or None


def _codes(entries: list[dict[str, Any]] | None) -> list[str]:
    return list(dict.fromkeys(e["code"] for e in entries or [] if e.get("code")))


#: c2pa names the trust anchor entry (our ``trust_uri``) that made a signer trusted:
#: "signing certificate trusted, found in [interim] trust anchors". An allow-listed end-entity
#: certificate is "found in []": only the interim list carries an allowed list.
_FOUND_IN = re.compile(r"found in \[([^\]]*)\]")
_LIST_OF_ANCHOR: dict[str, TrustList] = {
    "c2pa": C2PA_LIST,
    # c2pa 0.91 also accepts a claim signer that chains to a TSA-kind anchor; the official
    # TSA list is part of the official list.
    "c2pa-tsa": C2PA_LIST,
    "interim": INTERIM_LIST,
    "interim-tsa": INTERIM_LIST,
    "": INTERIM_LIST,
    "user": USER_LIST,
}


def trust_list_of(report: dict[str, Any]) -> TrustList | None:
    """Which list made the active manifest's signer trusted (None when it is not trusted)."""
    results = (report.get("validation_results") or {}).get("activeManifest") or {}
    for entry in results.get("success") or []:
        if entry.get("code") == "signingCredential.trusted":
            found = _FOUND_IN.search(str(entry.get("explanation") or ""))
            return _LIST_OF_ANCHOR.get(found.group(1)) if found else None
    return None


def _recorded_damage(ingredient: dict[str, Any]) -> list[str]:
    """Failures recorded in an ingredient when it was used (c2pa keeps the parent's validation
    results in the ingredient assertion): an ingredient that was already invalid. Trust codes are
    left out: they speak of the signing tool's trust settings, not of damage."""
    results = ingredient.get("validation_results") or {}
    entries = (results.get("activeManifest") or {}).get("failure") if results else None
    if entries is None:
        entries = ingredient.get("validation_status")
    return [c for c in _codes(entries) if c not in NOT_DAMAGE]


def credentials_from_report(report: dict[str, Any], state: str | None) -> Credentials:
    """The credentials part of a verdict, from the Reader's JSON and validation state."""
    active = (report.get("manifests") or {}).get(report.get("active_manifest") or "", {})
    results = report.get("validation_results") or {}
    active_results = results.get("activeManifest") or {}
    if results:
        failures = _codes(active_results.get("failure"))
    else:
        failures = _codes(report.get("validation_status"))
    ingredient_failures = [
        code
        for delta in results.get("ingredientDeltas") or []
        for code in _codes((delta.get("validationDeltas") or {}).get("failure"))
    ]
    ingredient_failures += [
        code for i in active.get("ingredients") or [] for code in _recorded_damage(i)
    ]
    sig = active.get("signature_info") or {}
    manifests = report.get("manifests") or {}
    # Each delta names its ingredient assertion by URI, ending in that ingredient's label.
    by_label: dict[str, list[str]] = {}
    for delta in results.get("ingredientDeltas") or []:
        uri = str(delta.get("ingredientAssertionURI") or "")
        codes = _codes((delta.get("validationDeltas") or {}).get("failure"))
        by_label.setdefault(uri.rsplit("/", 1)[-1], []).extend(codes)
    ingredients = [
        Ingredient(
            title=i.get("title"),
            relationship=i.get("relationship"),
            format=i.get("format"),
            manifest_id=i.get("active_manifest"),
            source_types=_source_types(manifests.get(i.get("active_manifest") or "", {})),
            failures=list(
                dict.fromkeys([*by_label.get(str(i.get("label") or ""), []), *_recorded_damage(i)])
            ),
        )
        for i in active.get("ingredients") or []
    ]
    created_at = next((a.get("when") for a in _actions(active) if a.get("when")), None)
    return Credentials(
        present=True,
        source=EMBEDDED,
        # c2pa's validation state is one of the three words (its ValidationState).
        state=State(state or report.get("validation_state") or (INVALID if failures else VALID)),
        failures=failures,
        informational=_codes(active_results.get("informational")),
        signer=SignerInfo(sig.get("issuer"), sig.get("common_name"), sig.get("alg"))
        if sig
        else None,
        signed_at=sig.get("time"),
        # Where AI is declared, only a declared AI tool is named: the claim generator is the
        # tool that signed (e.g. provenance itself), not the AI.
        generator=_ai_agent(report)
        or (None if ai_origin(report).generated else _claim_generator(active)),
        manifest_id=report.get("active_manifest"),
        title=active.get("title"),
        created_at=created_at,
        ingredient_failures=list(dict.fromkeys(ingredient_failures)),
        ingredients=ingredients,
        trust_list=trust_list_of(report),
    )


# -- the summary sentence -----------------------------------------------------------------------


def _failing_ingredient(credentials: Credentials) -> str | None:
    """'the ingredient "A.jpg" failed validation (codes)' for the first ingredient with damage
    (trust codes alone are not named: an untrusted ingredient signer is not a failure)."""
    for ingredient in credentials.ingredients:
        damage = [c for c in ingredient.failures if c not in NOT_DAMAGE]
        if damage:
            name = f'"{ingredient.title}"' if ingredient.title else "(untitled)"
            return f"the ingredient {name} failed validation ({', '.join(damage)})"
    damage = [c for c in credentials.ingredient_failures if c not in NOT_DAMAGE]
    if damage:
        return f"an ingredient failed validation ({', '.join(damage)})"
    return None


def _untrusted_ingredient(credentials: Credentials) -> str | None:
    """'the ingredient "A.jpg"' for the first ingredient whose signer is not trusted (what
    keeps a trusted signer's credentials Valid rather than Trusted)."""
    for ingredient in credentials.ingredients:
        if UNTRUSTED in ingredient.failures:
            return f'the ingredient "{ingredient.title}"' if ingredient.title else "an ingredient"
    return "an ingredient" if UNTRUSTED in credentials.ingredient_failures else None


def _failure_reason(credentials: Credentials, cut_short: bool = False) -> str:
    failures = credentials.failures
    damage = [c for c in failures if c not in NOT_DAMAGE]
    if not damage:
        # Nothing wrong with the active manifest itself: name the failing ingredient.
        ingredient = _failing_ingredient(credentials)
        if ingredient:
            return ingredient
        damage = failures
    if not damage:
        return "the validator reported a failure"
    code = damage[0]
    if cut_short and code in HARD_BINDING:
        return f"{CUT_SHORT_WORDS} ({code})"
    return f"{FAILURE_WORDS[code]} ({code})" if code in FAILURE_WORDS else code


#: A recovered copy showing less than this share of the registered image is called a crop;
#: one with fewer of its blocks agreeing is said to agree only so far.
PART = 0.9


def percent(share: float) -> str:
    """A share (0-1) as a whole percentage, halves rounded up: the reader's page and the
    extension round with JavaScript's Math.round, and Python's ``:.0%`` rounds a half to even
    (0.685 read "68%" in the sentence beside "69%" on the same page)."""
    return f"{math.floor(share * 100 + 0.5)}%"


def summarize(
    credentials: Credentials,
    ai: AIOrigin,
    watermark: dict[str, Any] | None = None,
    matches: list[Match] | None = None,
    text_watermark: dict[str, Any] | None = None,
    text_keys: int | None = None,
    trust_configured: bool = True,
    cut_short: bool = False,
) -> str:
    """One plain sentence (or two) a reader understands.

    For text, ``text_watermark`` is the language-model watermark test and ``text_keys`` the
    number of keys it was run with (None for other media). ``trust_configured``: whether the
    verifier had any trust list or anchor (without one, no signer can be trusted).
    ``cut_short``: the file ends before its format's end (``media.cut_short``), so a hash
    mismatch is worded as an incomplete copy rather than an edit.
    """
    text_hit = text_watermark if text_watermark and text_watermark.get("detected") else None
    found = credentials.source is not None
    if not found and text_hit:
        return (
            "No Content Credentials found, but the text carries a language-model watermark "
            f"(key {text_hit['key_id']}, p = {text_hit['p_value']:.1e}): it was generated "
            "with an AI tool using that key."
        )
    if not found and watermark and watermark.get("detected"):
        lead = "No Content Credentials are embedded, but an invisible watermark was found"
        by_watermark = [m for m in matches or [] if m.kind == MatchKind.WATERMARK]
        turned = mirrored_or_turned(watermark)
        if not by_watermark:
            return f"{lead} (payload {watermark['payload']}); no stored credentials match it."
        m = by_watermark[0]
        this = f"this image ({turned})" if turned else "this image"
        if watermark.get("region"):
            x, y, w, h = watermark["region"]
            how = f", {turned}" if turned else ""
            return (
                # "about": the region is the picture's box taken in a little at each side
                # (canvas.content_box), not its exact edges.
                f"{lead} in a picture inside this image (about {w}x{h} px at {x},{y}{how}: a "
                f"screenshot, a border or a collage) that names stored credentials "
                f"({m.manifest_id}); "
                f"{percent(m.similarity)} of that picture agrees with the registered image, but "
                "the credentials cover the registered image alone, not what surrounds it here, "
                "so they were not applied: a possible match only."
            )
        if m.edited is not None:
            return (
                f"{lead} that names stored credentials ({m.manifest_id}); {this} looks like "
                f"the registered one except for a region of about {percent(m.edited)} of it "
                "that differs (edited after signing, or other content put in), so they were "
                "not applied: they describe the registered image, not this edit; a possible "
                "match only."
            )
        if m.added is not None:
            return (
                f"{lead} that names stored credentials ({m.manifest_id}); {this} shows the "
                f"registered one with other content around it (about {percent(m.added)} of it "
                "lies outside the registered image: a caption bar, a border, padding), and "
                f"{percent(m.similarity)} of the registered part agrees; the credentials cover "
                "the registered image alone, not what was added here, so they were not "
                "applied: a possible match only."
            )
        return (
            f"{lead} that names stored credentials ({m.manifest_id}); {this} differs "
            f"from the registered one (similarity {percent(m.similarity)}), so they were not "
            "applied: a possible match only."
        )
    if not found and matches:
        m = matches[0]
        return (
            "No Content Credentials found. It resembles content registered with credentials "
            f"({m.manifest_id}, similarity {percent(m.similarity)}): a possible match, not proof."
        )
    if not found:
        if credentials.remote_url:
            return (
                "This file points to Content Credentials stored online, which were not fetched "
                "(remote fetching is off); nothing is known yet about how it was made."
            )
        if text_keys:  # with no key configured, no watermark was looked for
            return (
                f"No Content Credentials found and no watermark of the {text_keys} configured "
                "key(s); this says nothing either way about whether it was made with AI."
            )
        return (
            "No Content Credentials found; this says nothing either way about whether it was "
            "made with AI."
        )
    tool = f" ({credentials.generator})" if credentials.generator else ""
    invalid = credentials.state == INVALID
    if ai.generated and EVIDENCE_DESCRIPTION in ai.evidence and EVIDENCE_C2PA not in ai.evidence:
        # AI named in words only: say so, quoting them, rather than a formal declaration.
        claim = (
            f"{'Claims' if invalid else 'Says'} in words that it was made with AI "
            f'("{ai.description}"), without a formal source type{tool}.'
        )
    elif ai.generated and ai.scope == Scope.WHOLE:
        claim = f"{'Claims to be generated' if invalid else 'Generated'} with an AI tool{tool}."
    elif ai.generated:
        claim = (
            f"{'Claims to combine' if invalid else 'Combines'} several pieces of content; "
            f"at least one was generated with an AI tool{tool}."
        )
    elif ai.generated is None and ai.scope == Scope.PART:
        claim = (
            f"{'Claims to combine' if invalid else 'Combines'} several pieces of content, at "
            "least one synthetic (compositeSynthetic); it does not say whether generative AI "
            "was used."
        )
    else:
        claim = "The credentials do not declare any use of generative AI."
    signer = credentials.signer
    who = (signer.issuer or signer.common_name) if signer else None
    who = who or "an unidentified signer"
    if invalid:
        trust = (
            f"The credentials are invalid: {_failure_reason(credentials, cut_short)}; "
            "they cannot be relied on."
        )
    elif credentials.state == TRUSTED:
        listed = TRUST_LIST_WORDS.get(credentials.trust_list) if credentials.trust_list else None
        trust = f"Signed by {who}; the signature is trusted" + (
            f" through {listed}." if listed else "."
        )
    elif not trust_configured:
        trust = f"Signed by {who}; no trust list is configured, so no signer can be trusted."
    elif UNTRUSTED in credentials.failures or not (
        credentials.failures or credentials.ingredient_failures
    ):
        trust = f"Signed by {who}, a signer that is not on the trust list."
    elif credentials.failures:
        # The claim signer is trusted, yet something else (an identity assertion) is not: say
        # so rather than calling the whole trusted.
        codes = ", ".join(credentials.failures)
        trust = f"Signed by {who}, a trusted signer, but not all of the credentials are ({codes})."
    elif untrusted := _untrusted_ingredient(credentials):
        # A trusted signer, yet Valid: say why rather than leave "trusted" beside "Valid".
        trust = (
            f"Signed by {who}, a trusted signer; the credentials are Valid, not Trusted, "
            f"because the signer of {untrusted} is not trusted."
        )
    else:
        trust = f"Signed by {who}, a trusted signer."
    failing = None if invalid else _failing_ingredient(credentials)
    if failing:
        # Intact and signed, yet built on an ingredient that failed: name it.
        trust += f" But {failing}."
    if credentials.source == WATERMARK:
        turned = mirrored_or_turned(watermark)
        # A mirrored or turned copy recovers like any other: say so, or a reader comparing it
        # with the signed thumbnail sees a different picture and no word about why.
        copy = f" of a copy {turned}" if turned else ""
        if credentials.shown is not None and credentials.shown < PART:
            # A crop: the credentials describe the whole registered image, and the reader
            # should not take them for a statement about this part alone, nor the reverse.
            part = f"about {percent(credentials.shown)} of the registered image"
            copy = f"{copy}, cropped to {part}" if turned else f" of a crop showing {part}"
        trust += f" The credentials were recovered from the watermark{copy}."
        if credentials.similarity is not None and credentials.similarity < PART:
            # Within the tolerance, yet not all of it: a blend, an overlay, an edit in
            # scattered places. The credentials describe the registered image, not those parts.
            trust += (
                f" Only {percent(credentials.similarity)} of it agrees with the registered "
                "image, block by block: the rest may have been changed since."
            )
    elif credentials.source == FINGERPRINT:
        trust += " The credentials were recovered through the image's fingerprint."
    elsewhere = [m for m in matches or [] if m.kind == MatchKind.WATERMARK]
    if credentials.source == EMBEDDED and elsewhere:
        # A stripped copy re-signed by someone else: the file's credentials are its own, but
        # the picture was registered under others first, which a reader should weigh.
        m = elsewhere[0]
        by = f", signed by {m.signer}" if m.signer else ""
        # The same signer re-signing without the earlier file as parent is no one else.
        whom = "by the same signer" if m.signer and m.signer == who else "by someone else"
        trust += (
            " But its pixels carry the watermark of other stored credentials "
            f"({m.manifest_id}{by}) that these credentials do not include, and it is the image "
            f"registered under them: the same picture was signed before {whom}."
        )
    if text_hit:
        trust += (
            f" The text also carries a language-model watermark (p = {text_hit['p_value']:.1e})."
        )
    return f"{claim} {trust}"


#: Why a text's C2PA manifest wrapper could not be read, in a reader's words (keys are
#: ``provenance.text_manifest.WrapperProblem`` values).
TEXT_WRAPPER_PROBLEMS = {
    "truncated": (
        "its manifest wrapper is truncated (it declares more data than the text holds), "
        "so they cannot be read"
    ),
    "version": (
        "its manifest wrapper has a version this reader does not know, so they cannot be read"
    ),
    "unreadable": "the manifest in its wrapper cannot be parsed, so they cannot be read",
    "multiple": (
        "it holds more than one manifest wrapper (several signed texts pasted together?), "
        "so no one set of them applies to the whole text"
    ),
}


def summarize_unreadable_text(
    problem: str,
    matches: list[Match] | None = None,
    text_watermark: dict[str, Any] | None = None,
) -> str:
    """The sentence for text whose embedded credentials cannot be read at all: it says so,
    and claims nothing about AI use or a signer that nobody could check."""
    summary = (
        f"The text carries C2PA Content Credentials, but {TEXT_WRAPPER_PROBLEMS[problem]}; "
        "they say nothing either way about how it was made."
    )
    if text_watermark and text_watermark.get("detected"):
        summary += (
            f" It carries a language-model watermark (key {text_watermark['key_id']}, "
            f"p = {text_watermark['p_value']:.1e}): it was generated with an AI tool using "
            "that key."
        )
    elif matches:
        m = matches[0]
        summary += (
            f" It resembles content registered with credentials ({m.manifest_id}, similarity "
            f"{percent(m.similarity)}): a possible match, not proof."
        )
    return summary
