"""Sign real photos with keys from `keys init` and read them back with c2pa's Reader."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from provenance import (
    InputError,
    ManifestSpec,
    OutputError,
    ProvenanceError,
    SignOptions,
    Thumbnail,
    TrustPolicy,
    UnsupportedMediaError,
    sign,
    verify,
)
from provenance.cli.verify import render_verdict
from provenance.manifest import SOURCE_TYPES

from .conftest import PHOTOS

AI = ManifestSpec(generator="Acme Diffusion", model="2")


def _signed(tmp_path: Path, photo: Path, credentials, spec: ManifestSpec = AI, **opts) -> Path:
    out = tmp_path / f"signed{photo.suffix}"
    sign(photo, credentials, SignOptions(spec, **opts), output=out)
    return out


def _flip_scan_byte(jpeg: bytes) -> bytes:
    """Change one byte of entropy-coded pixel data (after the last SOS), keeping markers intact."""
    sos = jpeg.rindex(b"\xff\xda")
    data = bytearray(jpeg)
    i = sos + (len(jpeg) - sos) // 2
    while 0xFF in (data[i - 1], data[i], data[i + 1]) or data[i] ^ 0x01 == 0xFF:
        i += 1
    data[i] ^= 0x01
    return bytes(data)


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.name)
def test_trusted_with_root_as_anchor(tmp_path, credentials, trusted, photo):
    verdict = verify(_signed(tmp_path, photo, credentials), policy=trusted)
    c = verdict.credentials
    assert c.present and c.state == "Trusted" and c.failures == []
    assert c.signer is not None and c.signer.issuer == "Acme Ltd"
    assert c.generator == "Acme Diffusion 2"
    assert c.manifest_id and c.manifest_id.startswith("urn:c2pa:")
    assert verdict.ai.generated is True and verdict.ai.scope == "whole"
    assert verdict.ai.source_types == [SOURCE_TYPES["trainedAlgorithmicMedia"]]
    assert verdict.ai.evidence == ["c2pa"]
    assert verdict.summary == (
        "Generated with an AI tool (Acme Diffusion 2). "
        "Signed by Acme Ltd; the signature is trusted through a trust anchor added to this "
        "verifier's configuration."
    )


def test_valid_but_untrusted_without_anchor(tmp_path, credentials, photo):
    verdict = verify(_signed(tmp_path, photo, credentials))
    assert verdict.credentials.state == "Valid"
    assert verdict.credentials.failures == ["signingCredential.untrusted"]
    assert "not on the trust list" in verdict.summary and "trusted." not in verdict.summary


def test_other_root_does_not_make_it_trusted(tmp_path, credentials, photo, shared):
    policy = TrustPolicy.from_files([shared / "test-anchors.pem"])
    assert verify(_signed(tmp_path, photo, credentials), policy=policy).credentials.state == "Valid"


def test_changed_pixels_are_invalid_and_ai_claim_still_reported(
    tmp_path, credentials, trusted, photo
):
    signed = _signed(tmp_path, photo, credentials)
    tampered = _flip_scan_byte(signed.read_bytes())
    verdict = verify(tampered, policy=trusted)
    assert verdict.credentials.state == "Invalid"
    assert "assertion.dataHash.mismatch" in verdict.credentials.failures
    # The declaration is reported, marked as unreliable, never dropped or called trusted.
    assert verdict.ai.generated is True
    assert "invalid" in verdict.summary and "trusted" not in verdict.summary
    assert verdict.summary.startswith("Claims to be generated with an AI tool")
    assert verdict.ai.claimed is True  # the JSON says it too, for the card and reader's page
    assert "AI-generated claimed" in render_verdict(verdict)


def test_pillow_resave_strips_credentials(tmp_path, credentials, trusted, photo):
    signed = _signed(tmp_path, photo, credentials)
    buf = io.BytesIO()
    Image.open(signed).save(buf, format="JPEG", quality=90)
    verdict = verify(buf.getvalue(), policy=trusted)
    assert verdict.credentials.present is False and verdict.credentials.state is None
    assert verdict.ai.generated is None and verdict.ai.scope is None
    assert "No Content Credentials" in verdict.summary


def test_composite_source_type_is_partial(tmp_path, credentials, trusted, photo):
    spec = ManifestSpec(generator="Acme Fill", source_type="compositeWithTrainedAlgorithmicMedia")
    verdict = verify(_signed(tmp_path, photo, credentials, spec), policy=trusted)
    assert verdict.ai.generated is True and verdict.ai.scope == "part"
    assert "at least one was generated with an AI tool (Acme Fill)" in verdict.summary


def test_non_ai_source_type_is_not_generated(tmp_path, credentials, trusted, photo):
    spec = ManifestSpec(source_type="digitalCapture")
    verdict = verify(_signed(tmp_path, photo, credentials, spec), policy=trusted)
    assert verdict.ai.generated is False
    assert "do not declare any use of generative AI" in verdict.summary


def test_ai_only_in_ingredient_is_partial(tmp_path, credentials, trusted, photo):
    parent = _signed(tmp_path, photo, credentials)
    edited = tmp_path / "edited.jpg"
    spec = ManifestSpec(generator="Photo Editor", source_type="digitalCapture")
    sign(SAMPLE_OTHER, credentials, SignOptions(spec, ingredient=parent), output=edited)
    verdict = verify(edited, policy=trusted)
    assert verdict.credentials.state == "Trusted"
    assert verdict.ai.generated is True and verdict.ai.scope == "part"
    assert [i.relationship for i in verdict.credentials.ingredients] == ["parentOf"]
    assert verdict.credentials.ingredients[0].source_types == [
        SOURCE_TYPES["trainedAlgorithmicMedia"]
    ]


SAMPLE_OTHER = PHOTOS[1]


def test_no_personal_data_unless_asked(tmp_path, credentials, photo):
    import c2pa

    plain = _signed(tmp_path, photo, credentials)
    with c2pa.Reader(str(plain)) as r:
        assert "Jane Doe" not in r.json() and "CreativeWork" not in r.json()
    authored = tmp_path / "a.jpg"
    sign(photo, credentials, SignOptions(ManifestSpec(author="Jane Doe")), output=authored)
    with c2pa.Reader(str(authored)) as r:
        assert "Jane Doe" in r.json()


@pytest.mark.parametrize(
    ("fmt", "suffix", "mode"),
    [
        ("PNG", ".png", "RGB"),
        ("WEBP", ".webp", "RGB"),
        ("TIFF", ".tif", "RGB"),
        ("GIF", ".gif", "P"),
        ("AVIF", ".avif", "RGB"),
    ],
)
def test_other_formats(tmp_path, credentials, trusted, photo, fmt, suffix, mode):
    src = tmp_path / f"in{suffix}"
    Image.open(photo).convert(mode).save(src, format=fmt)
    out = tmp_path / f"out{suffix}"
    result = sign(src, credentials, SignOptions(AI), output=out)
    verdict = verify(out, policy=trusted)
    assert verdict.media_type == result.media_type
    assert verdict.credentials.state == "Trusted", verdict.credentials.failures
    assert verdict.ai.generated is True


def test_label_is_drawn_before_signing(tmp_path, credentials, trusted, photo):
    out = _signed(tmp_path, photo, credentials, label="AI-generated")
    before = np.asarray(Image.open(photo).convert("L"), dtype=int)
    after = np.asarray(Image.open(out).convert("L"), dtype=int)
    h, w = after.shape
    diff = np.abs(after - before)
    corner = diff[int(h * 0.85) :, : w // 2]
    # A dark box with white text: many pixels change a lot in the corner, ...
    assert (corner > 60).sum() > 200
    # ... and elsewhere only JPEG re-encoding noise.
    assert diff[: h // 2].max() < 20
    white_text = after[int(h * 0.85) :, : w // 2] > 240
    assert white_text.sum() > 50
    assert verify(out, policy=trusted).credentials.state == "Trusted"


def test_thumbnail_choice_changes_manifest_size(tmp_path, credentials, photo):
    sizes = {}
    for t in Thumbnail:
        r = sign(photo.read_bytes(), credentials, SignOptions(AI, thumbnail=t))
        sizes[t] = r.manifest_size
    assert sizes[Thumbnail.NONE] < sizes[Thumbnail.SMALL] < sizes[Thumbnail.FULL]


def test_never_overwrites_an_existing_output(tmp_path, credentials, photo):
    out = tmp_path / "exists.jpg"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists"):
        sign(photo, credentials, output=out)
    assert out.read_bytes() == b"keep me"
    with pytest.raises(OutputError, match="is the input"):
        sign(out, credentials, output=out)


def test_failed_signing_leaves_no_file(tmp_path, credentials):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    out = tmp_path / "out.jpg"
    with pytest.raises(InputError):
        sign(bad, credentials, output=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jpg"]


def test_unsupported_input_is_a_clear_error(tmp_path, credentials):
    txt = tmp_path / "notes.bin"
    txt.write_bytes(b"just some bytes that are no image")
    with pytest.raises(UnsupportedMediaError, match=r"notes\.bin"):
        verify(txt)
    with pytest.raises(UnsupportedMediaError):
        sign(txt, credentials, output=tmp_path / "x.bin")


def test_verdict_json_shape(tmp_path, credentials, trusted, photo):
    d = json.loads(
        json.dumps(verify(_signed(tmp_path, photo, credentials), policy=trusted).to_dict())
    )
    assert {"path", "media_type", "credentials", "ai", "summary"} <= d.keys()
    assert {"present", "state", "failures", "signer", "signed_at", "generator", "manifest_id"} <= d[
        "credentials"
    ].keys()
    assert {"issuer", "common_name"} <= d["credentials"]["signer"].keys()
    assert {"generated", "scope", "source_types", "evidence"} <= d["ai"].keys()
    assert d["credentials"]["signed_at"] is None  # no timestamp authority offline


def test_unreachable_timestamp_authority_is_a_clear_error(tmp_path, credentials, photo):
    out = tmp_path / "out.jpg"
    with pytest.raises(ProvenanceError) as err:
        sign(photo, credentials, SignOptions(AI, tsa_url="http://127.0.0.1:9/tsa"), output=out)
    assert "astronaut.jpg" in str(err.value)  # names the file
    assert "signing failed" in str(err.value) or "timestamp" in str(err.value).lower()
    assert not out.exists()


def test_claim_thumbnail_is_made_from_the_pixels_in_hand(tmp_path, credentials, photo):
    import c2pa

    signed = sign(photo.read_bytes(), credentials, SignOptions(AI)).asset or b""
    with c2pa.Reader("image/jpeg", io.BytesIO(signed)) as reader:
        report = json.loads(reader.json())
        manifest = report["manifests"][report["active_manifest"]]
        thumb = io.BytesIO()
        reader.resource_to_stream(manifest["thumbnail"]["identifier"], thumb)
    with Image.open(io.BytesIO(thumb.getvalue())) as image:
        assert image.format == "JPEG" and max(image.size) == 256
