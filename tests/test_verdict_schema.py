"""The OpenAPI Verdict schema is generated from the Verdict dataclasses; real verdicts (the peer
files, a recovered image, signed text) must validate against it, and it must be strict enough to
reject a wrong one."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from extension_api.openapi import openapi_document
from provenance import (
    ManifestSpec,
    ProvenanceError,
    SignOptions,
    State,
    TrustPolicy,
    sign,
    verify,
)
from provenance.registry import ManifestRegistry
from provenance.text_manifest import sign_text

from .conftest import PHOTOS

PEERS = Path(__file__).parent / "data" / "peers"


def _verdict_schema() -> dict[str, Any]:
    return openapi_document()["components"]["schemas"]["Verdict"]


def _closed(schema: Any) -> Any:
    """The schema with every object closed (no properties beyond those listed), so a field
    written by ``to_dict()`` but missing from the schema fails too."""
    if isinstance(schema, dict):
        out = {k: _closed(v) for k, v in schema.items()}
        if "properties" in schema:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


VALIDATOR = jsonschema.Draft202012Validator(_closed(_verdict_schema()))


def _check(verdict_dict: dict[str, Any]) -> None:
    # Through JSON, as a client sees it.
    VALIDATOR.validate(json.loads(json.dumps(verdict_dict)))


def test_the_schema_itself_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(_verdict_schema())


def test_peer_file_verdicts_match_the_schema():
    policy = TrustPolicy.from_env()
    states = set()
    checked = 0
    for path in sorted(p for p in PEERS.rglob("*") if p.is_file()):
        if path.suffix in {".md", ".pem", ".cfg"}:
            continue
        try:
            verdict = verify(path, policy=policy)
        except ProvenanceError:
            continue  # unreadable peer files are tested elsewhere
        _check(verdict.to_dict())
        states.add(verdict.credentials.state)
        checked += 1
    assert checked >= 30
    # The peer files cover every judged state (EXPECTED.md lists Trusted, Valid and Invalid).
    assert {State.TRUSTED, State.VALID, State.INVALID} <= states


def test_recovered_and_text_verdicts_match_the_schema(credentials, trusted, tmp_path):
    registry = ManifestRegistry(tmp_path / "m.sqlite3")
    options = SignOptions(ManifestSpec(generator="Acme Diffusion", model="2"))
    signed = sign(PHOTOS[0].read_bytes(), credentials, options, registry=registry)
    image = Image.open(io.BytesIO(signed.asset or b"")).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    recovered = verify(out.getvalue(), policy=trusted, registry=registry)
    assert recovered.credentials.source == "watermark"  # the path under test
    _check(recovered.to_dict())
    text = sign_text("A paragraph with credentials inside.", credentials, options.manifest)
    for content in (text.text, text.text.replace("paragraph", "sentence")):
        _check(verify(content.encode(), media_type="text/plain", policy=trusted).to_dict())


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("credentials", "state"), "trusted"),  # the enum is case-sensitive
        (("credentials", "source"), "store"),
        (("ai", "scope"), "all"),
        (("ai", "evidence"), ["c2pa", "rumour"]),
        (("credentials", "present"), None),  # not nullable
        (("credentials", "failures"), "x"),  # an array
        (("watermark", "confidence"), "high"),  # the detector's result has a shape too
    ],
)
def test_a_wrong_verdict_is_rejected(where, value, photo):
    verdict = verify(photo).to_dict()
    bad = copy.deepcopy(verdict)
    bad[where[0]][where[1]] = value
    _check(verdict)
    with pytest.raises(jsonschema.ValidationError):
        _check(bad)


def test_a_field_unknown_to_the_schema_is_rejected(photo):
    verdict = verify(photo).to_dict()
    verdict["credentials"]["renamed_field"] = 1
    with pytest.raises(jsonschema.ValidationError):
        _check(verdict)
    del verdict["credentials"]["renamed_field"]
    del verdict["credentials"]["state"]  # every field is always written
    with pytest.raises(jsonschema.ValidationError):
        _check(verdict)


def test_field_docs_become_descriptions():
    credentials = _verdict_schema()["properties"]["credentials"]["properties"]
    assert "recovered from the registry" in credentials["present"]["description"]
    assert credentials["trust_list"]["enum"] == ["c2pa", "interim", "user", None]
