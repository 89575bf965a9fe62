"""The Verdict: what the library, the CLI, the server and the extension all say about an asset.

Its JSON shape (``Verdict.to_dict()``) is the contract between the library and every face of it:
add fields, never rename them. This module also reads AI origin across a manifest chain and
writes the one-sentence summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .manifest import AI_SOURCE_TYPES, PARTIAL_AI_SOURCE_TYPES

TRUSTED, VALID, INVALID = "Trusted", "Valid", "Invalid"

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

#: Codes that describe trust or informational matters rather than damage; an Invalid summary
#: names the first failure not in this set.
UNTRUSTED = "signingCredential.untrusted"
_NOT_DAMAGE = {UNTRUSTED, "signingCredential.ocsp.skipped"}


@dataclass
class SignerInfo:
    issuer: str | None
    common_name: str | None
    alg: str | None = None


@dataclass
class Ingredient:
    """One ingredient of the active manifest (the history readers see at level 3)."""

    title: str | None
    relationship: str | None
    format: str | None
    manifest_id: str | None
    source_types: list[str] = field(default_factory=list)


@dataclass
class Credentials:
    present: bool = False
    state: str | None = None
    failures: list[str] = field(default_factory=list)
    #: Status codes the validator reports as neither success nor failure (e.g. timeStamp.*).
    informational: list[str] = field(default_factory=list)
    signer: SignerInfo | None = None
    signed_at: str | None = None
    generator: str | None = None
    manifest_id: str | None = None
    title: str | None = None
    #: When the creation action says it happened (declared by the signer, not a timestamp).
    created_at: str | None = None
    ingredient_failures: list[str] = field(default_factory=list)
    ingredients: list[Ingredient] = field(default_factory=list)
    #: Set when the asset points to a manifest stored online that was not fetched.
    remote_url: str | None = None
    recovered: bool = False
    #: When recovered: how alike this copy and the registered image are (0-1).
    similarity: float | None = None


@dataclass
class AIOrigin:
    generated: bool | None = None
    scope: str | None = None
    source_types: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


@dataclass
class Match:
    """A stored manifest that may belong to this content, with how alike they are (0-1)."""

    manifest_id: str
    similarity: float
    kind: str  # "watermark" (payload matched, image differs) or "fingerprint"
    signer: str | None = None


@dataclass
class Verdict:
    path: str | None
    media_type: str
    sha256: str
    credentials: Credentials
    ai: AIOrigin
    summary: str = ""
    #: What the watermark detector found (None when it did not run).
    watermark: dict[str, Any] | None = None
    #: Possible matches in the manifest store; never counted as credentials.
    matches: list[Match] = field(default_factory=list)
    #: For text: the language-model watermark test (p-value, z-score, key id), when keys are set.
    text_watermark: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- reading a c2pa manifest store (the Reader's JSON) ------------------------------------------


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


def _source_types(manifest: dict[str, Any]) -> list[str]:
    found = [a["digitalSourceType"] for a in _actions(manifest) if a.get("digitalSourceType")]
    return list(dict.fromkeys(found))


def _chain(store: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The active manifest (depth 0), then its ingredients' manifests, breadth first, once each."""
    manifests = store.get("manifests") or {}
    queue = [(0, store.get("active_manifest"))]
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


def ai_origin(store: dict[str, Any]) -> AIOrigin:
    """What the manifest chain declares about generative AI.

    ``generated`` is True when any manifest in the chain (active or ingredient) declares an AI
    source type. ``scope`` is "whole" when the active manifest declares it for the whole asset,
    "part" for composites and for AI declared only in an ingredient.
    """
    active_types: list[str] = []
    ingredient_types: list[str] = []
    for depth, manifest in _chain(store):
        (active_types if depth == 0 else ingredient_types).extend(_source_types(manifest))
    all_types = list(dict.fromkeys(active_types + ingredient_types))
    ai_active = [t for t in active_types if t in AI_SOURCE_TYPES]
    ai_anywhere = [t for t in all_types if t in AI_SOURCE_TYPES]
    if not ai_anywhere:
        return AIOrigin(generated=False, scope=None, source_types=all_types, evidence=[])
    whole = bool(ai_active) and not any(t in PARTIAL_AI_SOURCE_TYPES for t in ai_active)
    return AIOrigin(
        generated=True,
        scope="whole" if whole else "part",
        source_types=all_types,
        evidence=["c2pa"],
    )


def _ai_agent(store: dict[str, Any]) -> str | None:
    """The softwareAgent of the first action in the chain that declares AI."""
    for _, manifest in _chain(store):
        for action in _actions(manifest):
            if action.get("digitalSourceType") in AI_SOURCE_TYPES:
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


def credentials_from_store(store: dict[str, Any], state: str | None) -> Credentials:
    """The credentials part of a verdict, from the Reader's JSON and validation state."""
    active = (store.get("manifests") or {}).get(store.get("active_manifest") or "", {})
    results = store.get("validation_results") or {}
    active_results = results.get("activeManifest") or {}
    if results:
        failures = _codes(active_results.get("failure"))
    else:
        failures = _codes(store.get("validation_status"))
    ingredient_failures = [
        code
        for delta in results.get("ingredientDeltas") or []
        for code in _codes((delta.get("validationDeltas") or {}).get("failure"))
    ]
    sig = active.get("signature_info") or {}
    manifests = store.get("manifests") or {}
    ingredients = [
        Ingredient(
            title=i.get("title"),
            relationship=i.get("relationship"),
            format=i.get("format"),
            manifest_id=i.get("active_manifest"),
            source_types=_source_types(manifests.get(i.get("active_manifest") or "", {})),
        )
        for i in active.get("ingredients") or []
    ]
    created_at = next((a.get("when") for a in _actions(active) if a.get("when")), None)
    return Credentials(
        present=True,
        state=state or store.get("validation_state") or (INVALID if failures else VALID),
        failures=failures,
        informational=_codes(active_results.get("informational")),
        signer=SignerInfo(sig.get("issuer"), sig.get("common_name"), sig.get("alg"))
        if sig
        else None,
        signed_at=sig.get("time"),
        generator=_ai_agent(store) or _claim_generator(active),
        manifest_id=store.get("active_manifest"),
        title=active.get("title"),
        created_at=created_at,
        ingredient_failures=list(dict.fromkeys(ingredient_failures)),
        ingredients=ingredients,
    )


# -- the summary sentence -----------------------------------------------------------------------


def _failure_reason(failures: list[str]) -> str:
    damage = [c for c in failures if c not in _NOT_DAMAGE] or failures
    if not damage:
        return "the validator reported a failure"
    code = damage[0]
    return f"{FAILURE_WORDS[code]} ({code})" if code in FAILURE_WORDS else code


def summarize(
    credentials: Credentials,
    ai: AIOrigin,
    watermark: dict[str, Any] | None = None,
    matches: list[Match] | None = None,
    text_watermark: dict[str, Any] | None = None,
    text_keys: int | None = None,
) -> str:
    """One plain sentence (or two) a reader understands.

    For text, ``text_watermark`` is the language-model watermark test and ``text_keys`` the
    number of keys it was run with (None for other media).
    """
    text_hit = text_watermark if text_watermark and text_watermark.get("detected") else None
    if not credentials.present and text_hit:
        return (
            "No Content Credentials found, but the text carries a language-model watermark "
            f"(key {text_hit['key_id']}, p = {text_hit['p_value']:.1e}): it was generated "
            "with an AI tool using that key."
        )
    if not credentials.present and watermark and watermark.get("detected"):
        lead = "No Content Credentials are embedded, but an invisible watermark was found"
        by_watermark = [m for m in matches or [] if m.kind == "watermark"]
        if by_watermark:
            m = by_watermark[0]
            return (
                f"{lead} that names stored credentials ({m.manifest_id}); this image differs "
                f"from the registered one (similarity {m.similarity:.0%}), so they were not "
                "applied: a possible match only."
            )
        return f"{lead} (payload {watermark['payload']}); no stored credentials match it."
    if not credentials.present and matches:
        m = matches[0]
        return (
            "No Content Credentials found. It resembles content registered with credentials "
            f"({m.manifest_id}, similarity {m.similarity:.0%}): a possible match, not proof."
        )
    if not credentials.present:
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
    if ai.generated and ai.scope == "whole":
        claim = f"{'Claims to be generated' if invalid else 'Generated'} with an AI tool{tool}."
    elif ai.generated:
        claim = (
            f"{'Claims to combine' if invalid else 'Combines'} several pieces of content; "
            f"at least one was generated with an AI tool{tool}."
        )
    else:
        claim = "The credentials do not declare any use of generative AI."
    signer = credentials.signer
    who = (signer.issuer or signer.common_name) if signer else None
    who = who or "an unidentified signer"
    if invalid:
        trust = (
            f"The credentials are invalid: {_failure_reason(credentials.failures)}; "
            "they cannot be relied on."
        )
    elif credentials.state == TRUSTED:
        trust = f"Signed by {who}; the signature is trusted."
    elif UNTRUSTED in credentials.failures or not (
        credentials.failures or credentials.ingredient_failures
    ):
        trust = f"Signed by {who}, a signer that is not on the trust list."
    else:
        # The claim signer is trusted, yet something else (an identity assertion, an
        # ingredient) is not: say so rather than calling the whole trusted.
        codes = ", ".join(credentials.failures or credentials.ingredient_failures)
        trust = f"Signed by {who}, a trusted signer, but not all of the credentials are ({codes})."
    if credentials.recovered:
        trust += " The credentials were recovered from the watermark."
    if text_hit:
        trust += (
            f" The text also carries a language-model watermark (p = {text_hit['p_value']:.1e})."
        )
    return f"{claim} {trust}"


#: Why a text's C2PA manifest wrapper could not be read, in a reader's words (keys are
#: ``provenance.text.manifest.WrapperProblem`` values).
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
            f"{m.similarity:.0%}): a possible match, not proof."
        )
    return summary
