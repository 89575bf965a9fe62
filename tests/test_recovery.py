"""Durable credentials: sign (watermark first), strip, re-encode, verify recovers them."""

from __future__ import annotations

import io
import json

import c2pa
import pytest
from PIL import Image

from provenance import MalformedAssetError, ManifestSpec, SignOptions, sign, verify
from provenance.registry import ManifestRegistry
from provenance.watermark import ALG, binding_value, parse_payload

from .conftest import PHOTOS

AI = SignOptions(ManifestSpec(generator="Acme Diffusion", model="2"))


def _upload(data: bytes, quality: int = 75, scale: float = 1.0) -> bytes:
    """What an upload pipeline does: decode, drop metadata, maybe resize, re-encode."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if scale != 1.0:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.name)
def test_stripped_jpeg75_copy_recovers_the_manifest(photo, credentials, trusted, registry):
    signed = sign(photo.read_bytes(), credentials, AI, registry=registry)
    assert signed.watermark is not None
    uploaded = _upload(signed.asset or b"")
    assert c2pa.Reader.try_create("image/jpeg", io.BytesIO(uploaded)) is None  # truly stripped
    verdict = verify(uploaded, policy=trusted, registry=registry)
    c = verdict.credentials
    # Recovered, not embedded: `present` means embedded, `source` says where they came from.
    assert c.recovered is True and c.present is False and c.source == "watermark"
    assert c.manifest_id == signed.manifest_id
    assert c.state == "Trusted" and c.failures == []
    assert "assertion.dataHash.mismatch" in c.informational  # expected: pixels re-encoded
    assert c.signer is not None and c.signer.issuer == "Acme Ltd"
    assert verdict.ai.generated is True and verdict.ai.scope == "whole"
    assert verdict.ai.evidence == ["c2pa", "watermark"]
    assert verdict.watermark is not None and verdict.watermark["payload"] == signed.watermark
    assert verdict.summary.endswith("The credentials were recovered from the watermark.")
    assert verdict.summary.startswith("Generated with an AI tool (Acme Diffusion 2).")


def test_untrusted_signer_stays_untrusted_after_recovery(credentials, registry):
    signed = sign(PHOTOS[0].read_bytes(), credentials, AI, registry=registry)
    verdict = verify(_upload(signed.asset or b""), registry=registry)
    assert verdict.credentials.recovered and verdict.credentials.state == "Valid"
    assert "not on the trust list" in verdict.summary


def test_manifest_carries_the_soft_binding(credentials, registry):
    signed = sign(PHOTOS[1].read_bytes(), credentials, AI, registry=registry)
    with c2pa.Reader("image/jpeg", io.BytesIO(signed.asset or b"")) as reader:
        manifest = json.loads(reader.json())
    active = manifest["manifests"][manifest["active_manifest"]]
    binding = next(a for a in active["assertions"] if a["label"] == "c2pa.soft-binding")
    assert binding["data"]["alg"] == ALG
    identifier = parse_payload(signed.watermark or "")
    assert binding["data"]["blocks"][0]["value"] == binding_value(identifier)
    actions = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))
    assert [a["action"] for a in actions["data"]["actions"]] == ["c2pa.created", "c2pa.watermarked"]
    record = registry.by_manifest_id(signed.manifest_id)
    assert record is not None and record.signer == "Acme Ltd" and record.manifest_store


def test_watermark_without_a_stored_manifest_says_so(credentials, trusted, tmp_path):
    signed = sign(PHOTOS[2].read_bytes(), credentials, AI)  # no registry: nothing registered
    verdict = verify(
        _upload(signed.asset or b""),
        policy=trusted,
        registry=ManifestRegistry(tmp_path / "empty.db"),
    )
    assert verdict.credentials.present is False and verdict.credentials.recovered is False
    assert verdict.watermark is not None and verdict.watermark["detected"] is True
    assert "no stored credentials match it" in verdict.summary
    assert verdict.ai.generated is None


def test_fingerprint_only_is_a_possible_match_never_credentials(credentials, trusted, registry):
    photo = PHOTOS[3].read_bytes()
    signed = sign(photo, credentials, AI, registry=registry)
    # The unwatermarked original resembles the registered image but carries no watermark.
    verdict = verify(_upload(photo, quality=90), policy=trusted, registry=registry)
    assert verdict.credentials.present is False and verdict.credentials.recovered is False
    assert verdict.watermark is not None and verdict.watermark["detected"] is False
    assert [(m.manifest_id, m.kind) for m in verdict.matches] == [
        (signed.manifest_id, "fingerprint")
    ]
    assert verdict.matches[0].similarity >= 0.9
    assert "possible match" in verdict.summary and "recovered" not in verdict.summary


def test_no_watermark_option(credentials, registry):
    signed = sign(
        PHOTOS[0].read_bytes(),
        credentials,
        SignOptions(ManifestSpec(), watermark=False),
        registry=registry,
    )
    assert signed.watermark is None and registry.count() == 0
    found = verify(_upload(signed.asset or b""), registry=registry).watermark
    assert found is not None and not found["detected"]


def test_failed_signing_registers_nothing(credentials, registry):
    with pytest.raises(MalformedAssetError):
        sign(b"\xff\xd8\xff\xe0 broken jpeg", credentials, AI, registry=registry)
    assert registry.count() == 0


def test_cli_verify_uses_the_registry(tmp_path, keys, capsys, registry):
    from provenance.cli import main

    signed = tmp_path / "s.jpg"
    assert (
        main(
            [
                "sign",
                str(PHOTOS[0]),
                "-o",
                str(signed),
                "--keys",
                str(keys.dir),
                "--registry",
                str(registry.path),
            ]
        )
        == 0
    )
    uploaded = tmp_path / "u.jpg"
    uploaded.write_bytes(_upload(signed.read_bytes()))
    capsys.readouterr()
    assert (
        main(
            [
                "verify",
                str(uploaded),
                "--registry",
                str(registry.path),
                "--trust",
                str(keys.root),
                "--json",
            ]
        )
        == 0
    )
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["credentials"]["recovered"] is True
    assert "watermark" in verdict["ai"]["evidence"]
