"""Signed C2PA manifests inside text (A.7/A.8), checked against two independent validators
(encypher-c2pa, c2patxt: test-only dependencies) in both directions."""

from __future__ import annotations

import json
import unicodedata

import c2patxt
import encypher_c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from provenance import ManifestSpec, ProvenanceError, TrustPolicy, init_keys, verify
from provenance.text.manifest import (
    CORRUPTED,
    MULTIPLE,
    encode_wrapper,
    find_wrappers,
    sign_text,
    strip_wrappers,
)

TEXT = (
    "Café culture: this paragraph was written by a language model, and its credentials "
    "travel inside the text itself."
)
SPEC = ManifestSpec(generator="Acme LM", model="7")


@pytest.fixture(scope="module")
def signed(credentials):
    return sign_text(TEXT, credentials, SPEC)


def _verify(text: str, policy: TrustPolicy | None = None):
    return verify(text.encode("utf-8"), media_type="text/plain", policy=policy)


def test_round_trip_trusted_and_ai(signed, trusted):
    assert signed.text.startswith(TEXT) and strip_wrappers(signed.text) == TEXT
    verdict = _verify(signed.text, trusted)
    c = verdict.credentials
    assert c.present and c.state == "Trusted" and c.failures == []
    assert c.manifest_id == signed.manifest_id and c.generator == "Acme LM 7"
    assert verdict.ai.generated is True and verdict.ai.scope == "whole"
    assert verdict.summary.startswith("Generated with an AI tool (Acme LM 7). Signed by Acme Ltd")
    assert _verify(signed.text).credentials.state == "Valid"  # no anchors: not trusted


def test_one_word_edit_is_invalid(signed, trusted):
    edited = signed.text.replace("paragraph", "sentence", 1)
    verdict = _verify(edited, trusted)
    assert verdict.credentials.state == "Invalid"
    assert "assertion.dataHash.mismatch" in verdict.credentials.failures
    assert verdict.ai.generated is True  # the claim is still reported, as unreliable
    assert "invalid" in verdict.summary


def test_stripped_text_has_no_credentials(signed):
    verdict = _verify(strip_wrappers(signed.text))
    assert verdict.credentials.present is False and verdict.ai.generated is None


def test_nfc_and_nfd(credentials, trusted):
    nfd = unicodedata.normalize("NFD", TEXT)
    assert nfd != TEXT
    from_nfd = sign_text(nfd, credentials, SPEC)
    assert from_nfd.text.startswith(TEXT)  # signing normalises to NFC
    assert _verify(from_nfd.text, trusted).credentials.state == "Trusted"
    # A copy that went through NFD on the way still verifies: the binding is over NFC.
    assert _verify(unicodedata.normalize("NFD", from_nfd.text), trusted).credentials.state == (
        "Trusted"
    )


def test_two_wrappers(signed, trusted):
    doubled = signed.text + encode_wrapper(b"\x00" * 40)
    assert len(find_wrappers(doubled)) == 2
    verdict = _verify(doubled, trusted)
    assert verdict.credentials.state == "Invalid" and verdict.credentials.failures == [MULTIPLE]


def test_corrupted_wrapper(signed, trusted, credentials):
    w = find_wrappers(signed.text)[0]
    # Drop one selector from the middle: the declared length no longer matches.
    broken = signed.text[: w.start + 40] + signed.text[w.start + 41 :]
    verdict = _verify(broken, trusted)
    assert verdict.credentials.state == "Invalid" and verdict.credentials.failures == [CORRUPTED]
    with pytest.raises(ProvenanceError, match="already carries"):
        sign_text(signed.text, credentials, SPEC)


def test_independent_validators_accept_our_text(signed, keys):
    encypher = encypher_c2pa.verify(
        signed.text.encode("utf-8"), "text/plain", trust_pem=keys.root.read_text()
    )
    assert encypher["validation_state"] == "Trusted"
    assert encypher["hard_binding"] == "match" and encypher["signature"] == "valid"
    verdict = c2patxt.verify(signed.text)
    assert verdict.state == c2patxt.Provenance.VALID  # c2patxt was given no anchors
    codes = {s.code.value for s in verdict.success}
    assert {"assertion.dataHash.match", "claimSignature.validated"} <= codes
    assert [s.code.value for s in verdict.failure] == ["signingCredential.untrusted"]
    # And they see the edit too.
    edited = signed.text.replace("language", "large language", 1)
    assert c2patxt.verify(edited).state == c2patxt.Provenance.INVALID


def test_we_validate_text_signed_by_c2patxt(tmp_path):
    paths = init_keys(tmp_path / "ed", alg="ed25519", org="Peer Signer")
    key = serialization.load_pem_private_key(paths.key.read_bytes(), password=None)
    chain = tuple(x509.load_pem_x509_certificates(paths.chain.read_bytes()))
    peer = c2patxt.embed(
        TEXT,
        c2patxt.Signer(private_key=key, certificates=chain),
        c2patxt.Disclosure(media_type="text/plain", model_type=c2patxt.ModelType.GENERIC),
    )
    policy = TrustPolicy.from_files([paths.root])
    verdict = _verify(peer, policy)
    assert verdict.credentials.state == "Trusted", verdict.credentials.failures
    assert verdict.ai.generated is True
    tampered = _verify(peer.replace("Café", "Cafe", 1), policy)
    assert tampered.credentials.state == "Invalid"
    assert "assertion.dataHash.mismatch" in tampered.credentials.failures


def test_cli_sign_text(tmp_path, keys, capsys):
    from provenance.cli import main

    src = tmp_path / "note.md"
    src.write_text(TEXT)
    assert main(["sign-text", str(src), "--keys", str(keys.dir), "--generator", "Acme LM"]) == 0
    out = tmp_path / "note.signed.md"
    assert out.exists() and src.read_text() == TEXT
    capsys.readouterr()
    assert main(["verify", str(out), "--trust", str(keys.root), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["media_type"] == "text/plain" and verdict["credentials"]["state"] == "Trusted"


def test_stripped_or_lightly_edited_text_is_a_possible_match(credentials, tmp_path):
    from provenance import ManifestStore, find_matches

    store = ManifestStore(tmp_path / "m.sqlite3")
    paragraph = " ".join([TEXT] * 3) + " It was checked again before publication."
    signed = sign_text(paragraph, credentials, SPEC, store=store)
    edited = strip_wrappers(signed.text).replace("checked", "read", 1)
    verdict = verify(edited.encode(), media_type="text/plain", store=store)
    assert verdict.credentials.present is False and verdict.credentials.recovered is False
    assert [(m.manifest_id, m.kind) for m in verdict.matches] == [
        (signed.manifest_id, "fingerprint")
    ]
    assert verdict.matches[0].similarity >= 0.8
    assert "possible match" in verdict.summary
    other = verify(
        b"An unrelated note about the weather in spring and the price of tea.",
        media_type="text/plain",
        store=store,
    )
    assert other.matches == []
    _, matches = find_matches(edited.encode(), store, media_type="text/plain")
    assert [m.manifest_id for m in matches] == [signed.manifest_id]
