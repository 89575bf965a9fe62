"""Manifest definitions for c2pa's Builder: actions, IPTC digitalSourceType, authorship.

Also the vocabulary the verdict reads back: which source types mean generative AI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ._version import __version__
from .errors import ProvenanceError

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_DATA = "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData"

#: IPTC digital source types (NewsCodes), by short name.
SOURCE_TYPES: dict[str, str] = {
    name: IPTC + name
    for name in (
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicMedia",
        "compositeSynthetic",
        "algorithmicallyEnhanced",
        "digitalCapture",
        "computationalCapture",
        "negativeFilm",
        "positiveFilm",
        "print",
        "humanEdits",
        "minorHumanEdits",
        "compositeCapture",
        "composite",
        "dataDrivenMedia",
        "digitalArt",
        "virtualRecording",
        "screenCapture",
    )
}
SOURCE_TYPES["trainedAlgorithmicData"] = TRAINED_ALGORITHMIC_DATA

#: Source types that declare generative AI (made by a trained model), whole or in part.
AI_SOURCE_TYPES = frozenset(
    {
        SOURCE_TYPES["trainedAlgorithmicMedia"],
        SOURCE_TYPES["compositeWithTrainedAlgorithmicMedia"],
        TRAINED_ALGORITHMIC_DATA,
    }
)
#: Of those, the ones that say only part of the content is AI-made.
PARTIAL_AI_SOURCE_TYPES = frozenset({SOURCE_TYPES["compositeWithTrainedAlgorithmicMedia"]})

#: Reading other writers' manifests, source types are compared by term: http and https IPTC URIs
#: both occur in real files (Adobe Firefly in 2024 wrote https).
AI_TERMS = frozenset(
    {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "trainedAlgorithmicData"}
)
PARTIAL_AI_TERMS = frozenset({"compositeWithTrainedAlgorithmicMedia"})
#: A composite with a synthetic element: algorithmic, possibly but not necessarily a trained model.
SYNTHETIC_TERMS = frozenset({"compositeSynthetic"})
_SOURCE_TYPE_PREFIXES = (
    "cv.iptc.org/newscodes/digitalsourcetype/",
    "c2pa.org/digitalsourcetype/",
)


def source_type_term(uri: str) -> str | None:
    """The term of an IPTC or C2PA digitalSourceType URI (http or https), else None."""
    rest = uri.strip().removeprefix("https://").removeprefix("http://")
    for prefix in _SOURCE_TYPE_PREFIXES:
        if rest.startswith(prefix):
            return rest[len(prefix) :].strip("/") or None
    return None


DEFAULT_SOURCE_TYPE = SOURCE_TYPES["trainedAlgorithmicMedia"]
CLAIM_GENERATOR = {"name": "provenance", "version": __version__}
PARENT_LABEL = "parent"


def resolve_source_type(value: str) -> str:
    """A full digitalSourceType URI from a URI or a short IPTC name (any letter case)."""
    if value in SOURCE_TYPES.values():
        return value
    by_lower = {k.lower(): v for k, v in SOURCE_TYPES.items()}
    full = by_lower.get(value.strip().rsplit("/", 1)[-1].lower())
    if full is None:
        raise ProvenanceError(
            f"unknown digital source type {value!r}",
            hint="use an IPTC term such as trainedAlgorithmicMedia or "
            "compositeWithTrainedAlgorithmicMedia",
        )
    return full


@dataclass(frozen=True)
class ManifestSpec:
    """What a signed manifest declares.

    ``generator`` and ``model`` name the AI tool (the action's softwareAgent, model as its
    version). ``source_type`` None means the default: trainedAlgorithmicMedia, or, when a
    file's own credentials are kept as its parent, what they declare. ``author`` is the only
    personal data, and only when given.
    """

    generator: str | None = None
    model: str | None = None
    source_type: str | None = None
    title: str | None = None
    author: str | None = None


def software_agent(generator: str | None, model: str | None) -> dict[str, str] | None:
    if not generator and not model:
        return None
    agent = {"name": generator or "unnamed AI generator"}
    if model:
        agent["version"] = model
    return agent


def creation_actions(
    spec: ManifestSpec, *, has_parent: bool, extra: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The ``c2pa.actions`` list: created (or opened + edited, when there is a parent)."""
    source_type = resolve_source_type(spec.source_type or DEFAULT_SOURCE_TYPE)
    main: dict[str, Any] = {
        "action": "c2pa.edited" if has_parent else "c2pa.created",
        "digitalSourceType": source_type,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    agent = software_agent(spec.generator, spec.model)
    if agent:
        main["softwareAgent"] = agent
    actions: list[dict[str, Any]] = []
    if has_parent:
        actions.append({"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_LABEL]}})
    actions.append(main)
    actions.extend(extra or [])
    return actions


def manifest_definition(
    spec: ManifestSpec,
    *,
    title: str,
    has_parent: bool = False,
    extra_actions: list[dict[str, Any]] | None = None,
    extra_assertions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The manifest JSON that c2pa's Builder takes."""
    assertions: list[dict[str, Any]] = [
        {
            "label": "c2pa.actions",
            "data": {"actions": creation_actions(spec, has_parent=has_parent, extra=extra_actions)},
        }
    ]
    if spec.author:
        assertions.append(
            {
                "label": "stds.schema-org.CreativeWork",
                "data": {
                    "@context": "https://schema.org",
                    "@type": "CreativeWork",
                    "author": [{"@type": "Person", "name": spec.author}],
                },
            }
        )
    assertions.extend(extra_assertions or [])
    return {
        "claim_generator_info": [CLAIM_GENERATOR],
        "title": spec.title or title,
        "assertions": assertions,
    }


def parent_ingredient(title: str) -> dict[str, Any]:
    return {"title": title, "relationship": "parentOf", "label": PARENT_LABEL}


def soft_binding_values(report: dict[str, Any], alg: str) -> list[str]:
    """The ``alg`` soft-binding values the active manifest of a Reader report declares."""
    active = (report.get("manifests") or {}).get(report.get("active_manifest")) or {}
    return [
        block.get("value")
        for a in active.get("assertions") or []
        if a.get("label", "").startswith("c2pa.soft-binding") and a["data"].get("alg") == alg
        for block in a["data"].get("blocks") or []
    ]


def soft_binding(alg: str, value: str) -> dict[str, Any]:
    """A ``c2pa.soft-binding`` assertion: the watermark's algorithm and payload (base64)."""
    return {
        "label": "c2pa.soft-binding",
        "data": {"alg": alg, "blocks": [{"scope": {}, "value": value}]},
    }
