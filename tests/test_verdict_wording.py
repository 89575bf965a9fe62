"""The verdict's words on both sides: provenance/verdict.py and the extension's verdict.js (run in
Node on the Reader JSON of the same real files) say the same honest sentence, and the sentence
fits the state beside it."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import c2pa
import pytest

from provenance import SignOptions, TrustPolicy, sign, verify
from provenance.verdict import TRUST_LIST_WORDS, USER_LIST

from .test_resign import _flip_scan_byte
from .test_sign_verify import AI, PHOTOS

EXTENSION = Path(__file__).resolve().parents[1] / "extension"
NODE = shutil.which("node")
VIDEO = "c2pa-rs/sdk/tests/fixtures/video1.mp4"  # c2patool over an ingredient it signed


def _in_browser_code(path: Path, policy: TrustPolicy, media_type: str) -> dict[str, Any]:
    """extension/verdict.js's verdict of the Reader JSON c2pa gives for ``path`` (the browser
    reads the same JSON through c2pa's WASM build)."""
    if NODE is None:
        pytest.skip("node is not installed: the extension's verdict.js cannot run")
    with c2pa.Reader(media_type, io.BytesIO(path.read_bytes()), None, policy.context()) as r:
        report, state = json.loads(r.json()), r.get_validation_state()
    args = {"report": report, "state": state, "sha256": "", "mediaType": media_type}
    args["trustConfigured"] = policy.configured
    return _node("process.stdout.write(JSON.stringify(V.verdictOf(input)));", args)


def test_a_user_anchor_is_worded_for_every_face():
    # The CLI's user added it; on the service its operator did: the sentence must fit both.
    assert "you" not in TRUST_LIST_WORDS[USER_LIST]
    assert TRUST_LIST_WORDS[USER_LIST] == "a trust anchor added to this verifier's configuration"
    source = (EXTENSION / "verdict.js").read_text(encoding="utf-8")
    assert f'user: "{TRUST_LIST_WORDS[USER_LIST]}"' in source


def test_trusted_signer_kept_valid_by_an_ingredient_says_why(shared):
    policy = TrustPolicy.from_files(
        [shared / "test-anchors.pem"], trust_config=shared / "test-allowed-ekus.cfg"
    )
    verdict = verify(shared / VIDEO, policy=policy)
    assert verdict.credentials.state == "Valid"
    expected = (
        "Signed by C2PA Test Signing Cert, a trusted signer; the credentials are Valid, not "
        'Trusted, because the signer of the ingredient "video1.mp4" is not trusted.'
    )
    assert verdict.summary.endswith(expected)
    assert _in_browser_code(shared / VIDEO, policy, "video/mp4")["summary"] == verdict.summary


def test_no_trust_list_is_said_when_there_is_none(shared):
    policy = TrustPolicy.from_files([], default_lists=False)
    assert not policy.configured
    verdict = verify(shared / VIDEO, policy=policy)
    assert verdict.credentials.state == "Valid"
    assert "no trust list is configured" in verdict.summary
    assert "not on the trust list" not in verdict.summary
    mine = _in_browser_code(shared / VIDEO, policy, "video/mp4")
    assert mine["summary"] == verdict.summary


def test_with_lists_an_untrusted_signer_is_not_on_them(shared):
    policy = TrustPolicy.from_files([], default_lists=True)
    verdict = verify(shared / VIDEO, policy=policy)
    assert "a signer that is not on the trust list" in verdict.summary
    assert _in_browser_code(shared / VIDEO, policy, "video/mp4")["summary"] == verdict.summary


def test_in_browser_no_ai_tool_is_named_from_a_damaged_ingredient(
    tmp_path, credentials, trusted, shared
):
    # As tests/test_resign.py for the library: a tampered Firefly parent (ocsp.jpg, EXPECTED.md)
    # must not make the edit read "Generated with ... (Adobe Firefly)" in the browser either.
    parent = tmp_path / "parent.jpg"
    data = (shared / "c2pa-rs/sdk/tests/fixtures/ocsp.jpg").read_bytes()
    parent.write_bytes(_flip_scan_byte(data))
    out = tmp_path / "edit.jpg"
    sign(PHOTOS[0], credentials, SignOptions(ingredient=parent), output=out)
    mine = _in_browser_code(out, trusted, "image/jpeg")
    assert mine["ai"]["generated"] is True
    assert mine["credentials"]["generator"] is None and "Firefly" not in mine["summary"]
    assert mine["summary"] == verify(out, policy=trusted).summary


def test_a_user_anchor_reads_the_same_in_both(tmp_path, credentials, trusted):
    out = tmp_path / "ai.jpg"
    sign(PHOTOS[0], credentials, SignOptions(AI), output=out)
    verdict = verify(out, policy=trusted)
    assert verdict.credentials.trust_list == USER_LIST
    assert verdict.summary.endswith(f"trusted through {TRUST_LIST_WORDS[USER_LIST]}.")
    assert _in_browser_code(out, trusted, "image/jpeg")["summary"] == verdict.summary


def test_unreadable_text_wrappers_are_worded_alike():
    # Every WrapperProblem, including those the parity test cannot easily make (a version).
    from provenance.text_manifest import WrapperProblem
    from provenance.verdict import summarize_unreadable_text

    if NODE is None:
        pytest.skip("node is not installed: the extension's verdict.js cannot run")
    module = json.dumps((EXTENSION / "verdict.js").as_uri())
    script = (
        f"import {{ summarizeUnreadableText }} from {module};"
        "const ps = JSON.parse(process.argv[1]);"
        "process.stdout.write(JSON.stringify(ps.map(summarizeUnreadableText)));"
    )
    problems = [p.value for p in WrapperProblem]
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script, json.dumps(problems)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == [summarize_unreadable_text(p) for p in problems]


def _signed(tmp_path: Path, credentials, suffix: str) -> bytes:
    from PIL import Image

    source = tmp_path / f"in{suffix}"
    Image.open(PHOTOS[0]).convert("RGB").save(source)
    signed = tmp_path / f"signed{suffix}"
    sign(source, credentials, SignOptions(AI), output=signed)
    return signed.read_bytes()


def test_a_signed_jpeg_cut_short_is_called_an_incomplete_copy(tmp_path, credentials, trusted):
    """A truncated download fails its hash like an edit would; the verdict says it is an
    incomplete copy (still Invalid: the signature does not cover these bytes)."""
    from provenance.media import cut_short

    data = _signed(tmp_path, credentials, ".jpg")
    assert not cut_short(data, "image/jpeg")
    assert "cut short" not in verify(data, policy=trusted).summary
    cut = data[: len(data) * 9 // 10]
    assert cut_short(cut, "image/jpeg")
    verdict = verify(cut, policy=trusted)
    assert verdict.credentials.state == "Invalid"
    assert "the file is cut short (an incomplete copy: get a complete one)" in verdict.summary
    assert "no longer matches its signature (assertion.dataHash.mismatch)" in verdict.summary
    assert "changed after it was signed" not in verdict.summary


def test_a_signed_png_cut_short_is_refused_as_one(tmp_path, credentials, trusted):
    """c2pa cannot parse a PNG cut short (even one only without IEND): the error says so."""
    from provenance.errors import MalformedAssetError
    from provenance.media import cut_short

    data = _signed(tmp_path, credentials, ".png")
    assert not cut_short(data, "image/png")
    for cut in (data[:-12], data[: len(data) * 9 // 10]):
        assert cut_short(cut, "image/png")
        with pytest.raises(MalformedAssetError) as caught:
            verify(cut, policy=trusted)
        assert "cut short" in str(caught.value)


def test_cut_short_reads_the_structure_only():
    from provenance.media import cut_short

    jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x02" + b"\x12\xff\x00\x34"
    assert cut_short(jpeg, "image/jpeg")
    assert not cut_short(jpeg + b"\xff\xd9", "image/jpeg")
    assert not cut_short(jpeg + b"\xff\xd9trailing", "image/jpeg")
    assert cut_short(b"\xff\xd8\xff\xe0\x01\x00ab", "image/jpeg")  # inside a header segment
    assert not cut_short(b"hello", "image/jpeg")
    assert cut_short(b"RIFF\xff\x00\x00\x00WEBPVP8 ", "image/webp")


def _node(script: str, given: Any = None) -> Any:
    """What ``script`` (an ES module with verdict.js as ``V``, ``given`` as ``input``) writes
    as JSON."""
    if NODE is None:
        pytest.skip("node is not installed: the extension's verdict.js cannot run")
    module = json.dumps((EXTENSION / "verdict.js").as_uri())
    head = f"import * as V from {module}; import {{ readFileSync }} from 'node:fs';"
    head += "const input = JSON.parse(readFileSync(0, 'utf8'));"
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", head + script],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_the_word_tables_are_the_same_on_both_sides():
    """verdict.js keeps its own copy of the library's word tables (the browser has no Python):
    any word changed on one side alone fails here, not only on the files a test happens to
    reach. Its unreadable-file words are the library's errors' (message, hint), without c2pa's
    reason."""
    from provenance._internal import c2pa_adapter
    from provenance.errors import MalformedAssetError
    from provenance.verdict import (
        CUT_SHORT,
        CUT_SHORT_WORDS,
        FAILURE_WORDS,
        HARD_BINDING,
        TEXT_WRAPPER_PROBLEMS,
    )

    mine = _node(
        "process.stdout.write(JSON.stringify({failure: V.FAILURE_WORDS, trust: V.TRUST_LIST_WORDS,"
        " text: V.TEXT_WRAPPER_PROBLEMS, cut: V.CUT_SHORT, cutWords: V.CUT_SHORT_WORDS,"
        " hard: [...V.HARD_BINDING], unreadable: V.UNREADABLE}))"
    )
    assert mine["failure"] == FAILURE_WORDS
    assert mine["trust"] == {str(k): v for k, v in TRUST_LIST_WORDS.items()}
    assert mine["text"] == {str(k): v for k, v in TEXT_WRAPPER_PROBLEMS.items()}
    assert (mine["cut"], mine["cutWords"]) == (CUT_SHORT, CUT_SHORT_WORDS)
    assert sorted(mine["hard"]) == sorted(HARD_BINDING)
    damaged = c2pa_adapter._mapped(
        Exception("asset could not be parsed: x"), "n", c2pa_adapter._Step.READ
    )
    manifest = c2pa_adapter._mapped(Exception("bad"), "n", c2pa_adapter._Step.READ)
    assert isinstance(damaged, MalformedAssetError)
    assert mine["unreadable"] == {
        "cut-short": [CUT_SHORT, None],
        "damaged": [damaged.message.removeprefix("n: ").split(" (")[0], damaged.hint],
        "manifest": [manifest.message.removeprefix("n: ").split(" (")[0], manifest.hint],
    }


#: Structures for cut_short (provenance/media.py) and cutShort (verdict.js), both ways.
_CUT_CASES = [
    (b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x02\x12\xff\x00\x34", "image/jpeg"),
    (b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x02\x12\xff\x00\x34\xff\xd9", "image/jpeg"),
    (b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x02\x12\xff\x00\x34\xff\xd9tail", "image/jpeg"),
    (b"\xff\xd8\xff\xe0\x01\x00ab", "image/jpeg"),
    (b"\xff\xd8\xff\xe0\x00\x04ab\xff\xff\xff\xda\x00\x02\xff\xd9", "image/jpeg"),
    (b"\xff\xd8\xff\xe0\x00\x04ab\x00\x00\x00\x00", "image/jpeg"),
    (b"hello", "image/jpeg"),
    (b"RIFF\xff\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"RIFF\x04\x00\x00\x00WEBP", "image/webp"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND\xae\x42\x60\x82", "image/png"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x01IHDR\x00\xae\x42\x60\x82", "image/png"),
    (b"\x89PNG\r\n\x1a\n", "image/jpeg"),
]


def test_cut_short_is_the_same_structure_test_on_both_sides(tmp_path, credentials):
    from provenance.media import cut_short

    cases = list(_CUT_CASES)
    for suffix, media_type in (
        (".jpg", "image/jpeg"),
        (".png", "image/png"),
        (".webp", "image/webp"),
    ):
        data = _signed(tmp_path, credentials, suffix)
        cases += [
            (data, media_type),
            (data[:-12], media_type),
            (data[: len(data) // 2], media_type),
        ]
    expected = [cut_short(data, media_type) for data, media_type in cases]
    assert True in expected and False in expected
    mine = _node(
        "process.stdout.write(JSON.stringify(input.map(([b, t]) =>"
        " V.cutShort(new Uint8Array(Buffer.from(b, 'base64')), t))))",
        [[base64.b64encode(d).decode(), t] for d, t in cases],
    )
    assert mine == expected
