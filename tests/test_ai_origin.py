"""AI origin in every form real manifests use, read from c2pa Reader JSON (the shapes below are
the Reader's: manifests with assertions, actions and ingredients)."""

from __future__ import annotations

import pytest

from provenance.verdict import (
    AIOrigin,
    Credentials,
    Match,
    MatchKind,
    Source,
    State,
    ai_origin,
    credentials_from_report,
    summarize,
)

IPTC_HTTP = "http://cv.iptc.org/newscodes/digitalsourcetype/"
IPTC_HTTPS = "https://cv.iptc.org/newscodes/digitalsourcetype/"


def _report(*actions: dict, assertions: list | None = None, ingredient: dict | None = None) -> dict:
    active = {
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": list(actions)}}]
        + (assertions or []),
        "signature_info": {"issuer": "Example Co", "common_name": "signer"},
        "ingredients": [],
    }
    manifests = {"urn:active": active}
    if ingredient is not None:
        manifests["urn:parent"] = ingredient
        active["ingredients"] = [
            {"title": "parent.jpg", "relationship": "parentOf", "active_manifest": "urn:parent"}
        ]
    return {"active_manifest": "urn:active", "manifests": manifests}


def _created(source_type: str | None = None, **extra: object) -> dict:
    action = {"action": "c2pa.created", **extra}
    if source_type:
        action["digitalSourceType"] = source_type
    return action


@pytest.mark.parametrize(
    ("source_type", "generated", "scope"),
    [
        (IPTC_HTTP + "trainedAlgorithmicMedia", True, "whole"),
        (IPTC_HTTPS + "trainedAlgorithmicMedia", True, "whole"),  # Adobe Firefly 2024
        (IPTC_HTTPS + "compositeWithTrainedAlgorithmicMedia", True, "part"),
        ("http://c2pa.org/digitalsourcetype/trainedAlgorithmicData", True, "whole"),
        ("https://c2pa.org/digitalsourcetype/trainedAlgorithmicData", True, "whole"),
        # IPTC: made by an algorithm without training data; not generative AI.
        (IPTC_HTTP + "algorithmicMedia", False, None),
        # A synthetic element, not said to be AI: unknown, with a sentence.
        (IPTC_HTTPS + "compositeSynthetic", None, "part"),
        (IPTC_HTTP + "digitalCapture", False, None),
    ],
)
def test_source_types_by_term(source_type: str, generated: bool | None, scope: str | None):
    ai = ai_origin(_report(_created(source_type)))
    assert (ai.generated, ai.scope) == (generated, scope)
    assert ai.source_types == [source_type]


def test_composite_synthetic_summary_says_what_it_is():
    report = _report(_created(IPTC_HTTPS + "compositeSynthetic"))
    text = summarize(credentials_from_report(report, "Valid"), ai_origin(report))
    assert "synthetic" in text and "does not declare" not in text


def test_legacy_forms():
    # 1.x: the source type among the action's parameters; the IPTC photo-metadata assertion.
    in_params = _report(
        {
            "action": "c2pa.created",
            "parameters": {"digitalSourceType": IPTC_HTTP + "trainedAlgorithmicMedia"},
        }
    )
    assert ai_origin(in_params).generated is True
    iptc = _report(
        _created(),
        assertions=[
            {
                "label": "stds.iptc.photo-metadata",
                "data": {"Iptc4xmpExt:DigitalSourceType": IPTC_HTTP + "trainedAlgorithmicMedia"},
            }
        ],
    )
    assert ai_origin(iptc).generated is True and ai_origin(iptc).evidence == ["c2pa"]


def test_ai_named_only_in_free_text_is_reported_with_its_words():
    # Bing Image Creator: c2pa.created with the description "AI Generated Image" and no type.
    report = _report(_created(description="AI Generated Image", softwareAgent="Bing Image Creator"))
    ai = ai_origin(report)
    assert ai.generated is True and ai.evidence == ["c2pa-description"]
    assert ai.description == "AI Generated Image"
    text = summarize(credentials_from_report(report, "Valid"), ai)
    assert '"AI Generated Image"' in text and "does not declare" not in text


def test_words_that_do_not_name_ai_are_not_evidence():
    report = _report(_created(IPTC_HTTP + "digitalCapture", description="Captured with a camera"))
    assert ai_origin(report).generated is False


def test_ai_in_an_ingredient_only_is_part():
    parent = {
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [_created(IPTC_HTTPS + "trainedAlgorithmicMedia")]},
            }
        ]
    }
    ai = ai_origin(_report({"action": "c2pa.edited"}, ingredient=parent))
    assert (ai.generated, ai.scope) == (True, "part")


def test_invalid_only_in_an_ingredient_names_it():
    report = _report({"action": "c2pa.opened"}, ingredient={"assertions": []})
    report["manifests"]["urn:active"]["ingredients"][0]["label"] = "c2pa.ingredient.v3"
    report["validation_results"] = {
        "activeManifest": {"success": [], "failure": [], "informational": []},
        "ingredientDeltas": [
            {
                "ingredientAssertionURI": (
                    "self#jumbf=/c2pa/urn:active/c2pa.assertions/c2pa.ingredient.v3"
                ),
                "validationDeltas": {"failure": [{"code": "assertion.dataHash.mismatch"}]},
            }
        ],
    }
    credentials = credentials_from_report(report, "Invalid")
    assert credentials.failures == []
    assert credentials.ingredients[0].failures == ["assertion.dataHash.mismatch"]
    text = summarize(credentials, ai_origin(report))
    assert 'the ingredient "parent.jpg" failed validation (assertion.dataHash.mismatch)' in text
    assert "the validator reported a failure" not in text


def test_recovered_credentials_are_not_embedded():
    c = Credentials(present=False, source=Source.WATERMARK, state=State.VALID, recovered=True)
    assert "recovered from the watermark" in summarize(c, ai_origin(_report(_created())))


@pytest.mark.parametrize(
    ("similarity", "shown", "words"),
    [
        (1.0, 1.0, "recovered from the watermark."),
        (0.95, 0.36, "recovered from the watermark of a crop showing about 36% of the registered"),
        (0.7, 1.0, "Only 70% of it agrees with the registered image, block by block"),
    ],
)
def test_a_recovered_copy_says_how_much_of_the_registered_image_it_is(similarity, shown, words):
    """Red team: a crop, or a copy that agrees only in part (a blend, scattered edits within the
    tolerance), must not read as the registered image itself."""
    c = Credentials(
        present=False,
        source=Source.WATERMARK,
        state=State.VALID,
        recovered=True,
        similarity=similarity,
        shown=shown,
    )
    text = summarize(c, ai_origin(_report(_created())))
    assert words in text
    assert ("crop" in text) == (shown < 0.9) and ("Only" in text) == (similarity < 0.9)


def test_an_ingredient_that_was_invalid_when_used_is_named(tmp_path, photo, credentials, trusted):
    """Real files: a tampered signed image used as the ingredient of a new, intact one. c2pa
    records the parent's failure in the ingredient; the verdict names it."""
    from provenance import ManifestSpec, SignOptions, sign, verify

    from .test_sign_verify import _flip_scan_byte

    parent = tmp_path / "parent.jpg"
    parent.write_bytes(_flip_scan_byte(sign(photo.read_bytes(), credentials).asset or b""))
    assert verify(parent, policy=trusted).credentials.state == "Invalid"
    child = sign(photo.read_bytes(), credentials, SignOptions(ManifestSpec(), ingredient=parent))
    verdict = verify(child.asset or b"", policy=trusted, registry=None)
    c = verdict.credentials
    assert c.failures == [] and "assertion.dataHash.mismatch" in c.ingredient_failures
    assert c.ingredients[0].failures == ["assertion.dataHash.mismatch"]
    assert 'But the ingredient "parent.jpg" failed validation' in verdict.summary


@pytest.mark.parametrize(
    ("region", "kind"),
    [([1, 2, 300, 300], MatchKind.WATERMARK), (None, MatchKind.WATERMARK), (None, None)],
)
def test_a_similarity_reads_the_same_percentage_as_on_the_page(region, kind):
    """The reader's page and the extension's card round a similarity with Math.round; the
    sentence beside them used Python's half-to-even ``:.0%``, so 0.685 read "68%" in the
    summary and "69%" under the compared images."""
    watermark = {"detected": True, "payload": "ab", "region": region} if kind else None
    match = Match("urn:x", 0.685, kind or MatchKind.FINGERPRINT, "Acme")
    text = summarize(Credentials(present=False), AIOrigin(), watermark, [match])
    assert "69%" in text and "68%" not in text, text


def test_a_mirrored_copy_that_is_only_a_possible_match_says_it_is_mirrored():
    """A watermark found in a mirrored copy too edited to recover: the possible match names
    the mirroring (the reader compares it with the registered image), in the verdict's words."""
    watermark = {"detected": True, "payload": "ab", "mirrored_or_turned": "mirrored left to right"}
    match = Match("urn:x", 0.4, MatchKind.WATERMARK, "Acme")
    text = summarize(Credentials(present=False), AIOrigin(), watermark, [match])
    assert "; this image (mirrored left to right) differs from the registered one" in text, text
    upright = summarize(
        Credentials(present=False), AIOrigin(), {**watermark, "mirrored_or_turned": None}, [match]
    )
    assert "; this image differs from the registered one" in upright, upright
    # In a picture inside a larger image (a screenshot of a mirrored copy), likewise.
    framed = {**watermark, "region": [1, 2, 300, 300]}
    text = summarize(Credentials(present=False), AIOrigin(), framed, [match])
    assert "(about 300x300 px at 1,2, mirrored left to right: a screenshot" in text, text
