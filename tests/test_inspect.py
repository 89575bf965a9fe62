"""`provenance inspect`: c2pa's report, the ingredient tree, the certificates, and exporting the
manifest store bytes that POST /v1/manifests takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance import ManifestSpec, SignOptions, register_manifest, sign
from provenance.cli import main
from provenance.registry import ManifestRegistry
from provenance.text_manifest import sign_text

CAICAI = "public-testfiles/image/jpeg/adobe-20220124-CAICAI.jpg"


def test_report_and_detailed(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(shared / CAICAI)
    assert main(["inspect", path]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["active_manifest"] in report["manifests"]
    assert main(["inspect", "--detailed", path]) == 0
    detailed = json.loads(capsys.readouterr().out)
    assert "claim" in detailed["manifests"][report["active_manifest"]]


def test_ingredient_tree(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # public-testfiles README: CAICAI = a claim over A (parent) and CAI, itself over A and I.
    assert main(["inspect", "--tree", str(shared / CAICAI)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("CAICAI.jpg")
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "  - A.jpg",
        "  - CAI.jpg",
        "    - A.jpg",
        "    - I.jpg",
    ]


def test_certs_show_the_signer(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    firefly = shared / "example-assets/images/Firefly_tabby_cat.jpg"
    assert main(["inspect", "--certs", str(firefly)]) == 0
    certs = json.loads(capsys.readouterr().out)
    assert certs[0]["signer"]["subject"]["O"] == "Adobe Inc."
    assert certs[0]["timestamp"]["certificateInfo"]["subject"]["CN"]


def test_no_manifest_is_a_clear_error(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(shared / "c2pa-rs/sdk/tests/fixtures/earth_apollo17.jpg")]) == 1
    assert "no Content Credentials" in capsys.readouterr().err


def test_export_gives_what_post_manifests_takes(
    tmp_path: Path, photo: Path, credentials, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = ManifestRegistry(tmp_path / "signing.sqlite3")
    # The server that will hold it issued the watermark identifier (POST /v1/watermark-ids).
    other = ManifestRegistry(tmp_path / "server.sqlite3")
    issued = other.issue_watermark_id("platform")
    options = SignOptions(ManifestSpec(), watermark_id=issued)
    signed = sign(photo.read_bytes(), credentials, options, registry=registry)
    asset = tmp_path / "signed.jpg"
    asset.write_bytes(signed.asset or b"")
    out = tmp_path / "m.c2pa"
    argv = ["inspect", str(asset), "--export-manifest", str(out)]
    assert main([*argv, "--registry", str(tmp_path / "signing.sqlite3")]) == 0
    assert out.read_bytes() == signed.manifest
    # What the server's POST /v1/manifests does with it: register into another registry.
    record = register_manifest(out.read_bytes(), asset.read_bytes(), other, client="platform")
    assert record.manifest_id == signed.manifest_id
    # Not recorded anywhere: a clear error, nothing written.
    empty = ManifestRegistry(tmp_path / "empty.sqlite3")
    assert main([*argv, "--registry", str(empty.location), "--force"]) == 1
    assert "not in" in capsys.readouterr().err
    # A registry that does not exist is said, and not created (nor its directories).
    missing = tmp_path / "typo" / "s.sqlite3"
    assert main([*argv, "--registry", str(missing), "--force"]) == 1
    assert "no registry there" in capsys.readouterr().err
    assert not missing.parent.exists()
    # Where the file cannot be written: one line, no traceback.
    registry_arg = ["--registry", str(tmp_path / "signing.sqlite3")]
    bad = ["inspect", str(asset), *registry_arg, "--force", "--export-manifest"]
    assert main([*bad, str(tmp_path / "nodir" / "m.c2pa")]) == 1
    assert "cannot write (No such file or directory)" in capsys.readouterr().err
    assert main([*bad, str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err


def test_a_signed_text_is_inspected_with_its_binding(
    tmp_path: Path, credentials, capsys: pytest.CaptureFixture[str]
) -> None:
    # `sign-text` output: the manifest store travels inside the text (C2PA A.7); inspect used
    # to refuse it ("c2pa cannot read this file").
    signed = sign_text("A paragraph from a language model.", credentials, ManifestSpec())
    path = tmp_path / "p.txt"
    path.write_text(signed.text, encoding="utf-8")
    assert main(["inspect", "--tree", str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"[{signed.manifest_id}]" in out and "signed by Acme Ltd" in out
    assert err.endswith("checked as `verify` does: assertion.dataHash.match\n")
    path.write_text(signed.text.replace("paragraph", "sentence"), encoding="utf-8")
    assert main(["inspect", str(path)]) == 0
    assert capsys.readouterr().err.endswith("assertion.dataHash.mismatch\n")
    path.write_text("no credentials here", encoding="utf-8")
    assert main(["inspect", str(path)]) == 1
    assert "no Content Credentials" in capsys.readouterr().err
