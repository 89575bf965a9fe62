"""Our verifier against real C2PA files written by other implementations.

Expectations come from each file's own project, as listed (with citations) in
tests/data/peers/EXPECTED.md, never from our own output. "anchors" means the peer test
anchors and EKU list that ship beside them (test-anchors.pem, test-allowed-ekus.cfg).
"""

from __future__ import annotations

import pytest

from provenance import MalformedAssetError, ManifestError, TrustPolicy, verify
from provenance.manifest import SOURCE_TYPES

RS = "c2pa-rs/sdk/tests/fixtures/"
MS = "c2pa-extension-validator/test/media/"


@pytest.fixture(scope="module")
def anchors(shared) -> TrustPolicy:
    return TrustPolicy.from_files(
        [shared / "test-anchors.pem"], trust_config=shared / "test-allowed-ekus.cfg"
    )


# (file, state without anchors, state with anchors, failure codes that must be present)
INTEGRITY = [
    # c2pa-rs test_reader.rs: C.jpg is valid; its peers ran without trust, we add anchors.
    (RS + "C.jpg", "Valid", "Trusted", []),
    (RS + "CA.jpg", "Valid", "Trusted", []),
    (RS + "CACA.jpg", "Valid", "Trusted", []),
    # c2pa-rs test_failures.rs: a tampered timestamp is only informational now.
    (RS + "CA_ct.jpg", "Valid", "Trusted", []),
    (RS + "XCA.jpg", "Invalid", "Invalid", ["assertion.dataHash.mismatch"]),
    (RS + "E-sig-CA.jpg", "Invalid", "Invalid", ["claimSignature.mismatch"]),
    # Microsoft's validator expects Trusted with its root and the documentSigning EKU. c2pa's
    # default EKU list reads this signer as signingCredential.invalid (Invalid); we follow the
    # peer: our default EKU list includes documentSigning, so without anchors it is Valid.
    (MS + "cards_trusted.jpg", "Valid", "Trusted", []),
    (MS + "cards_untrusted.jpg", "Valid", "Valid", ["signingCredential.untrusted"]),
    (
        "public-testfiles/image/jpeg/adobe-20220124-E-uri-CA.jpg",
        "Invalid",
        "Invalid",
        ["assertion.hashedURI.mismatch"],
    ),
]


@pytest.mark.parametrize(
    ("name", "plain", "trusted", "codes"),
    INTEGRITY,
    ids=[i[0].rsplit("/", 1)[-1] for i in INTEGRITY],
)
def test_state_and_failure_codes(shared, anchors, name, plain, trusted, codes):
    without = verify(shared / name)
    assert without.credentials.present
    assert without.credentials.state == plain
    if plain != "Invalid":
        assert "signingCredential.untrusted" in without.credentials.failures
    verdict = verify(shared / name, policy=anchors)
    assert verdict.credentials.state == trusted
    for code in codes:
        assert code in verdict.credentials.failures
    if trusted == "Trusted":
        assert verdict.credentials.failures == []
        assert "the signature is trusted" in verdict.summary
    else:
        assert "trusted." not in verdict.summary


def test_tampered_timestamp_is_informational(shared, anchors):
    verdict = verify(shared / RS / "CA_ct.jpg", policy=anchors)
    assert "timeStamp.malformed" in verdict.credentials.informational


def test_signature_mismatch_also_flags_the_timestamp(shared, anchors):
    verdict = verify(shared / RS / "E-sig-CA.jpg", policy=anchors)
    assert "timeStamp.mismatch" in verdict.credentials.informational


def test_amazon_titan_is_wholly_ai_generated(shared, anchors):
    # c2pa-ts asset-reading.test.ts: valid; the AWS certificate is not among the test anchors.
    verdict = verify(shared / "c2pa-ts/tests/fixtures/amazon-titan-g1.png", policy=anchors)
    assert verdict.credentials.state == "Valid"
    assert verdict.ai.generated is True and verdict.ai.scope == "whole"
    assert SOURCE_TYPES["trainedAlgorithmicMedia"] in verdict.ai.source_types
    assert verdict.credentials.generator == "Titan Image Generator G1"
    signer = verdict.credentials.signer
    assert signer is not None and signer.issuer == "Amazon Web Services, Inc."
    assert verdict.credentials.signed_at == "2024-09-25T08:29:07+00:00"
    assert verdict.summary.startswith("Generated with an AI tool (Titan Image Generator G1).")


def test_photoshop_firefly_composite_is_partly_ai(shared, anchors):
    verdict = verify(shared / RS / "ocsp.jpg", policy=anchors)
    assert verdict.ai.generated is True and verdict.ai.scope == "part"
    assert SOURCE_TYPES["compositeWithTrainedAlgorithmicMedia"] in verdict.ai.source_types
    # The Firefly ingredient itself declares trainedAlgorithmicMedia.
    assert SOURCE_TYPES["trainedAlgorithmicMedia"] in verdict.ai.source_types
    assert "at least one was generated with an AI tool" in verdict.summary


def test_non_ai_file_is_not_called_ai(shared, anchors):
    # C.jpg declares algorithmicMedia: made by an algorithm, not a trained model.
    verdict = verify(shared / RS / "C.jpg", policy=anchors)
    assert verdict.ai.generated is False
    assert SOURCE_TYPES["algorithmicMedia"] in verdict.ai.source_types


def test_remote_manifest_is_not_fetched_by_default(shared):
    verdict = verify(shared / RS / "cloud.jpg")
    assert verdict.credentials.present is False
    assert verdict.credentials.failures == ["manifest.inaccessible"]
    assert (verdict.credentials.remote_url or "").startswith("https://cai-manifests.adobe.com/")


def test_a_remote_manifest_is_an_error_to_inspect(shared):
    # c2pa says so only in its message; the c2pa adapter turns that into an error with the URL,
    # which survives the pipe from a worker process.
    import pickle

    from provenance import RemoteManifestError
    from provenance.inspect import inspect_file

    with pytest.raises(RemoteManifestError) as err:
        inspect_file(shared / RS / "cloud.jpg")
    again = pickle.loads(pickle.dumps(err.value))
    assert again.url == err.value.url and again.url.startswith("https://cai-manifests.adobe.com/")
    assert again.hint == err.value.hint and "online" in (again.hint or "")


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("no_alg.jpg", ManifestError, "unknown algorithm"),
        ("prerelease.jpg", ManifestError, "prerelease"),
        ("tiff_poc.tiff", MalformedAssetError, "too many subfiles"),
        ("nested_moov_1000.mp4", MalformedAssetError, "nested"),
        ("sample3.invalid.wav", MalformedAssetError, "Invalid RIFF"),
    ],
)
def test_hostile_or_malformed_files_give_a_clear_error(shared, name, error, words):
    with pytest.raises(error) as err:
        verify(shared / RS / name)
    assert name in str(err.value) and words in str(err.value)


def test_riff_bomb_reads_as_unsigned_and_cannot_be_signed(shared, credentials, tmp_path):
    # c2pa-rs riff_io.rs: writing into it must fail cleanly; reading finds no manifest.
    assert verify(shared / RS / "riff_bomb_1000.wav").credentials.present is False
    from provenance import sign

    with pytest.raises(MalformedAssetError, match="nesting too deep"):
        sign(shared / RS / "riff_bomb_1000.wav", credentials, output=tmp_path / "o.wav")
    assert not (tmp_path / "o.wav").exists()


def test_no_manifest_files(shared):
    for name in ("no_manifest.jpg", "earth_apollo17.jpg", "libpng-test.png", "test.webp"):
        verdict = verify(shared / RS / name)
        assert verdict.credentials.present is False and verdict.ai.generated is None
