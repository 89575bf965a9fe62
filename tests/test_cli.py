"""The `provenance` command, run as users run it."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from provenance import Remedy
from provenance.cli import main
from provenance.cli.errors import CLI_HINTS
from provenance.media import EMBEDDABLE, named_media_type, output_suffixes, sniff

from .conftest import NOT_MEDIA_HINT, PHOTOS, SAMPLES, png_chunk


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_init_prints_paths_never_the_key(tmp_path, capsys):
    code, out, err = run(capsys, "keys", "init", "--dir", str(tmp_path), "--org", "Acme Ltd")
    assert code == 0
    assert "PRIVATE KEY" not in out + err and "root.pem" in out
    key = (tmp_path / "signer.key").read_text()
    assert key.splitlines()[1] not in out + err
    code, _, err = run(capsys, "keys", "init", "--dir", str(tmp_path))
    assert code == 1 and "already exist" in err and "--force" in err


def test_every_remedy_has_its_flag_words():
    """The library's hints are neutral; each next step it can name, the CLI says in flags."""
    assert set(CLI_HINTS) == set(Remedy)


def test_library_hints_are_worded_as_flags(tmp_path, keys, capsys):
    out = tmp_path / "signed.jpg"
    argv = ["sign", str(PHOTOS[0]), "-o", str(out), "--keys", str(keys.dir), "--no-watermark"]
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, *argv)
    assert code == 1 and "(use --force to replace it)" in err and "allow replacing" not in err
    code, _, err = run(capsys, "sign", str(out), "--in-place", "--keys", str(tmp_path / "none"))
    assert code == 1 and "run `provenance keys init` first, or pass --cert and --key" in err
    code, _, err = run(capsys, "sign", str(out), "--cert", str(keys.chain))
    assert code == 1 and "give both --cert and --key, or neither" in err


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels in a few bytes (a decompression bomb)."""
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + body + png_chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("make", "says", "next_step"),
    [
        (lambda: PHOTOS[0].read_bytes()[:20_000], "truncated", "use a complete copy"),
        (
            # Pillow refuses it outright: the size it declares is read from its header anyway,
            # and the limit named (it was "refused as a decompression bomb", no figure at all).
            lambda: _png_header(100_000, 100_000),
            "it declares 100000x100000 pixels (10,000 megapixels)",
            "the limit is 100 megapixels: use a smaller rendition of it",
        ),
        (
            lambda: _png_header(12_000, 10_000),
            "12000x10000 pixels",
            "use a smaller rendition of it",
        ),
    ],
    ids=["truncated-jpeg", "bomb", "too-many-pixels"],
)
@pytest.mark.parametrize("command", ["verify", "watermark detect"])
def test_undecodable_images_say_what_to_do(tmp_path, capsys, make, says, next_step, command):
    path = tmp_path / ("x.jpg" if says == "truncated" else "x.png")
    path.write_bytes(make())
    code, _, err = run(capsys, *command.split(), str(path))
    assert code == 1 and says in err and f"{next_step})" in err


@pytest.mark.parametrize("command", ["verify", "sign", "watermark detect"])
def test_random_bytes_named_jpg_say_what_to_do(tmp_path, keys, capsys, command):
    """Bytes in no known format, named .jpg: one line saying the content is not what the name
    says, the same for every command, without Pillow's in-memory buffer name (it printed
    "<_io.BytesIO object at 0x…>")."""
    path = tmp_path / "x.jpg"
    path.write_bytes(bytes(range(256)) * 20)
    keys_arg = ["--keys", str(keys.dir)] if command == "sign" else []
    code, out, err = run(capsys, *command.split(), str(path), *keys_arg)
    line = err.splitlines()[0]
    assert code == 1 and not out and "BytesIO" not in err and "Traceback" not in err
    assert line == (
        f"provenance: error: {path}: its bytes are not JPEG, nor in any other format this tool "
        f"reads ({NOT_MEDIA_HINT})"
    )


def test_text_named_jpg_is_said_to_be_text(tmp_path, capsys):
    """A UTF-8 text named t.jpg was "not JPEG, nor in any other format this tool reads (...
    this tool reads ... and UTF-8 text)": the bytes are text, and --text reads them as such."""
    path = tmp_path / "t.jpg"
    path.write_text("hi\n")
    code, out, err = run(capsys, "verify", str(path))
    assert code == 1 and not out
    assert err.strip() == (
        f"provenance: error: {path}: its bytes are text, not in any media format this tool "
        "reads (to check it as text, use `provenance verify --text`, or name it .txt)"
    )
    code, out, _ = run(capsys, "verify", "--text", str(path))
    assert code == 0 and "No Content Credentials found" in out


def test_sign_batch_keeps_going_after_a_bad_file(tmp_path, keys, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in PHOTOS[:2]:
        shutil.copy(p, inputs / p.name)
    (inputs / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (inputs / "notes.txt").write_text("not an image")  # not picked up from a directory
    out_dir = tmp_path / "out"
    code, _, err = run(
        capsys,
        "sign",
        str(inputs),
        "--out-dir",
        str(out_dir),
        "--keys",
        str(keys.dir),
        "--generator",
        "Acme Diffusion",
    )
    assert code == 1
    assert err.count("error:") == 1 and "broken.jpg" in err
    assert "Signed 2 of 3 file(s); 1 failed." in err
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(p.name for p in PHOTOS[:2])
    assert sorted(p.name for p in inputs.iterdir()) == sorted(
        [p.name for p in PHOTOS[:2]] + ["broken.jpg", "notes.txt"]
    )


@pytest.mark.parametrize("out_dir", [None, "signed"])
def test_a_directory_signed_twice_does_not_sign_its_outputs(tmp_path, keys, capsys, out_dir):
    """The second run found the first run's outputs in the directory (NAME.signed.EXT beside
    each input, or an --out-dir inside it) and signed them again, as NAME.signed.signed.EXT."""
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    shutil.copy(PHOTOS[0], inputs / "a.jpg")
    shutil.copy(PHOTOS[1], inputs / "sub" / "b.JPEG")
    where = ["--out-dir", str(inputs / out_dir)] if out_dir else []
    argv = ["sign", str(inputs), *where, "--keys", str(keys.dir), "--no-watermark"]
    assert run(capsys, *argv)[0] == 0
    before = sorted(p.relative_to(inputs) for p in inputs.rglob("*") if p.is_file())
    code, _, err = run(capsys, *argv, "--force")
    assert code == 0 and "skipped 2 file(s) that are the outputs of other inputs" in err
    assert "Signed 2 of 2 file(s)." in err
    assert sorted(p.relative_to(inputs) for p in inputs.rglob("*") if p.is_file()) == before
    assert len(before) == 4


def test_a_directory_gives_every_name_a_supported_media_type_goes_by(tmp_path):
    """A JPEG named .jfif/.jpe/.JPEG, a TIFF named .tiff, an MP4 named .m4v are picked up from a
    directory, as they are when named one by one; text and hidden files are not."""
    from provenance.cli.inputs import expand_inputs

    for name in ("a.jpg", "b.jfif", "c.jpe", "d.JPEG", "e.tiff", "f.m4v", "g.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "h.jpg").write_bytes(b"x")
    found = [str(relative) for _, relative in expand_inputs([tmp_path])]
    assert found == ["a.jpg", "b.jfif", "c.jpe", "d.JPEG", "e.tiff", "f.m4v", "g.png"]


@pytest.mark.parametrize(
    "command", [("verify",), ("verify", "--json"), ("watermark", "detect"), ("sign",)]
)
def test_a_directory_without_media_files_is_an_error_not_silence(tmp_path, capsys, command):
    """verify (and watermark detect) of an empty directory, or of one holding only text and
    hidden files, printed nothing (or ``[]``) and exited 0, as if every file had been checked."""
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.jpg").write_bytes(b"x")
    code, out, err = run(capsys, *command, str(tmp_path))
    assert code == 1
    assert out == ""
    assert f"{tmp_path}: no media file in this directory" in err
    assert "name a file directly" in err


@pytest.mark.parametrize(
    ("given", "what"),
    [("xyz", "is not hexadecimal"), ("0123456789ab", "does not fit in 40 bits"), ("", "is not")],
)
def test_a_bad_payload_says_what_an_identifier_looks_like(tmp_path, capsys, given, what):
    code, _, err = run(
        capsys, "watermark", "embed", str(PHOTOS[0]), str(tmp_path / "o.png"), "--payload", given
    )
    assert code == 1
    assert what in err
    assert "an identifier is 1 to 10 hexadecimal digits, e.g. 0123456789" in err


@pytest.mark.parametrize("command", [("verify",), ("sign",), ("watermark", "detect")])
def test_an_empty_file_says_what_to_do(tmp_path, keys, capsys, command):
    (tmp_path / "empty.jpg").write_bytes(b"")
    extra = ("--keys", str(keys.dir)) if command == ("sign",) else ()
    code, _, err = run(capsys, *command, *extra, str(tmp_path / "empty.jpg"))
    assert code == 1
    assert "empty.jpg: the file is empty (a copy or download may have failed: use a complete" in err


def test_verify_of_a_remote_manifest_names_its_url_and_the_flag_that_fetches_it(shared, capsys):
    """The summary says the credentials online were not fetched; the terminal said neither
    where they are nor how to fetch them."""
    code, out, _ = run(capsys, "verify", str(shared / "c2pa-rs/sdk/tests/fixtures/cloud.jpg"))
    assert code == 0
    assert "  remote       https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-" in out
    assert "(not fetched; --allow-remote fetches it)" in out


def test_keys_init_into_a_file_says_it_is_not_a_directory(tmp_path, capsys):
    """mkdir's "File exists" read as if keys were already there."""
    (tmp_path / "k").write_text("not a directory")
    code, _, err = run(capsys, "keys", "init", "--dir", str(tmp_path / "k"))
    assert code == 1
    assert f"cannot write keys to {tmp_path / 'k'}: it is a file, not a directory" in err
    assert "(name a directory to hold the keys (it is made if missing))" in err


def test_a_label_on_a_video_says_to_sign_it_without_one(tmp_path, keys, shared, capsys):
    """The animated-image and deep-image refusals said what to do; this one did not."""
    video = shared / "c2pa-rs/sdk/tests/fixtures/video1.mp4"
    code, _, err = run(
        capsys,
        "sign",
        str(video),
        "--keys",
        str(keys.dir),
        "--label",
        "-o",
        str(tmp_path / "v.mp4"),
    )
    assert code == 1
    assert "video1.mp4: cannot draw a label on video/mp4 content (sign it without --label)" in err


@pytest.mark.parametrize("name", ["video1.mp4", "sample3.invalid.wav"])
def test_watermark_detect_of_a_video_does_not_call_it_a_damaged_image(shared, capsys, name):
    """It said "cannot decode the image (…) (the file may be damaged or cut short: use a
    complete copy)" of a whole, valid MP4."""
    code, _, err = run(
        capsys, "watermark", "detect", str(shared / "c2pa-rs/sdk/tests/fixtures" / name)
    )
    assert code == 1
    assert "damaged" not in err and "cut short" not in err
    assert "content, whose pixels this tool does not decode" in err
    assert "(give a JPEG, PNG, WebP, TIFF, GIF or AVIF image)" in err


def test_watermark_detect_says_a_copy_was_turned(tmp_path, capsys):
    """`watermark detect` printed a turned copy's payload as if it were upright; it says how it
    was turned, in the verdict's words, as `verify` does."""
    marked = tmp_path / "marked.png"
    assert main(["watermark", "embed", str(PHOTOS[0]), str(marked), "--payload", "00c0ffee42"]) == 0
    turned = tmp_path / "turned.jpg"
    Image.open(marked).transpose(Image.Transpose.ROTATE_270).save(turned, quality=90)
    code, out, _ = run(capsys, "watermark", "detect", str(marked), str(turned))
    assert code == 0
    assert f"{marked}: payload 00c0ffee42 (confidence" in out
    assert f"{turned}: payload 00c0ffee42, in a copy turned 90° clockwise (confidence" in out


UNREACHABLE = "postgresql://nobody@127.0.0.1:1/x"


def test_an_unreachable_postgresql_registry_is_one_line():
    """psycopg's pool logged each failed retry to stderr (eight lines) before the error. In a
    process of its own: under pytest, logging has handlers and the lines never showed."""
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", "verify", str(PHOTOS[0]), "--registry", UNREACHABLE],
        capture_output=True,
        text=True,
        timeout=60,
    )
    code, out, err = proc.returncode, proc.stdout, proc.stderr
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("provenance: error: cannot open the registry postgresql://")
    assert "check that PostgreSQL runs" in err


def test_sign_default_output_name_and_json(tmp_path, keys, capsys):
    src = tmp_path / PHOTOS[0].name
    shutil.copy(PHOTOS[0], src)
    code, out, _ = run(capsys, "sign", str(src), "--keys", str(keys.dir), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["output"] == str(src.with_name(f"{src.stem}.signed.jpg"))
    assert result["manifest_id"].startswith("urn:c2pa:")
    assert src.read_bytes() == PHOTOS[0].read_bytes()  # the input is untouched


def test_sign_in_place(tmp_path, keys, trusted, capsys):
    src = tmp_path / "x.jpg"
    shutil.copy(PHOTOS[0], src)
    assert run(capsys, "sign", str(src), "--keys", str(keys.dir), "--in-place")[0] == 0
    _, out, _ = run(capsys, "verify", str(src), "--json", "--trust", str(keys.root))
    assert json.loads(out)["credentials"]["state"] == "Trusted"


def test_sign_says_when_an_image_cannot_carry_the_watermark(tmp_path, keys, capsys):
    """A page ~97 % white: signed, and the output line says it carries no watermark and why."""
    page = Path(__file__).parent / "data/peers/c2pa-rs/sdk/tests/fixtures/no_manifest.jpg"
    out_path = tmp_path / "page.jpg"
    code, out, _ = run(capsys, "sign", str(page), "-o", str(out_path), "--keys", str(keys.dir))
    assert code == 0
    assert (
        "note: no watermark: this image is too uniform or too small to carry one (embedded, it "
        "was not found again); its credentials travel only in its metadata"
    ) in out
    again = str(tmp_path / "again.jpg")
    code, out, _ = run(capsys, "sign", str(page), "-o", again, "--keys", str(keys.dir), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["watermark"] is None and result["notes"][0].startswith("no watermark: this")


def test_verify_json_one_object_or_array_and_exit_codes(tmp_path, keys, capsys):
    signed = tmp_path / "s.jpg"
    run(
        capsys,
        "sign",
        str(PHOTOS[0]),
        "-o",
        str(signed),
        "--keys",
        str(keys.dir),
        "--generator",
        "Acme Diffusion",
        "--model",
        "2",
    )
    code, out, _ = run(capsys, "verify", str(signed), "--json", "--trust", str(keys.root))
    one = json.loads(out)
    assert code == 0 and isinstance(one, dict)
    assert one["ai"]["generated"] is True and one["credentials"]["state"] == "Trusted"
    code, out, _ = run(capsys, "verify", str(signed), str(PHOTOS[1]), "--json")
    both = json.loads(out)
    assert code == 0 and [v["credentials"]["present"] for v in both] == [True, False]
    assert both[0]["credentials"]["state"] == "Valid"
    bogus = tmp_path / "bogus.dat"
    bogus.write_bytes(b"nothing recognisable")
    code, _, err = run(capsys, "verify", str(bogus), str(signed))
    assert code == 1 and "bogus.dat" in err


def test_verify_text_output_leads_with_the_summary(tmp_path, keys, capsys):
    signed = tmp_path / "s.jpg"
    run(
        capsys,
        "sign",
        str(PHOTOS[0]),
        "-o",
        str(signed),
        "--keys",
        str(keys.dir),
        "--generator",
        "Acme Diffusion",
    )
    code, out, _ = run(capsys, "verify", str(signed), "--trust", str(keys.root))
    lines = out.splitlines()
    assert code == 0
    assert lines[1].strip().startswith("Generated with an AI tool (Acme Diffusion).")
    assert any(line.strip().startswith("credentials  Trusted") for line in lines)


@pytest.mark.parametrize(("size", "fmt"), [((175, 400), "JPEG"), ((120, 90), "PNG")])
def test_verify_says_an_image_is_too_small_for_the_watermark(tmp_path, capsys, size, fmt):
    """An image under the detector's 176 px short side printed no watermark line at all: was
    it looked for? The line says it was not, and why; --json says the same."""
    small = tmp_path / f"small.{fmt.lower()}"
    Image.open(PHOTOS[0]).resize(size).save(small, format=fmt)
    code, out, _ = run(capsys, "verify", str(small))
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    watermark = [line for line in lines if line.startswith("watermark")]
    assert watermark == [
        "watermark    not looked for: the image is too small to carry the watermark "
        "(its short side is under 176 px)"
    ]
    code, out, _ = run(capsys, "verify", str(small), "--json")
    verdict = json.loads(out)
    assert verdict["watermark"] is None
    assert watermark[0].endswith(verdict["watermark_skipped"])
    # At the detector's minimum, it is looked for.
    Image.open(PHOTOS[0]).resize((176, 400)).save(small, format=fmt)
    code, out, _ = run(capsys, "verify", str(small), "--json")
    assert json.loads(out)["watermark"]["detected"] is False
    assert json.loads(out)["watermark_skipped"] is None


@pytest.mark.parametrize(
    "suffix", sorted({*(s for t in EMBEDDABLE for s in output_suffixes(t)), ".txt", ".bin"})
)
def test_bytes_in_no_format_get_the_same_error_whatever_their_name(tmp_path, keys, capsys, suffix):
    """Random bytes named .png were "damaged (invalid header: expected [89, 50, ...])", named
    .jpg "c2pa cannot read this file (NotSupported)", named .txt "not a media type": the error
    says what the bytes are not, and what to do, for every name alike, signing or verifying."""
    data = random.Random(7).randbytes(4096)
    assert sniff(data[:512]) is None
    source = tmp_path / f"upload{suffix}"
    source.write_bytes(data)
    named = named_media_type(source.name)
    said = (
        "its bytes are in no format this tool reads"
        if suffix == ".bin"
        else "its bytes are not UTF-8 text, nor in any other format this tool reads"
        if suffix == ".txt"
        else f"its bytes are not {_NAMES.get(suffix, suffix[1:].upper())}, nor in any other "
        "format this tool reads"
    )
    assert named is not None or suffix in (".txt", ".bin")
    line = f"provenance: error: {source}: {said} ({NOT_MEDIA_HINT})"
    code, _, err = run(capsys, "verify", str(source))
    assert code == 1 and err.strip() == line
    output = tmp_path / f"out{suffix}"
    code, _, err = run(capsys, "sign", str(source), "-o", str(output), "--keys", str(keys.dir))
    assert code == 1 and line in err.splitlines() and not output.exists()


_NAMES = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG", ".tif": "TIFF"}
_NAMES |= {".tiff": "TIFF", ".webp": "WebP", ".hif": "HEIF", ".m4v": "MP4", ".qt": "MOV"}


def test_trust_from_environment(tmp_path, keys, capsys, monkeypatch):
    signed = tmp_path / "s.jpg"
    run(capsys, "sign", str(PHOTOS[0]), "-o", str(signed), "--keys", str(keys.dir))
    monkeypatch.setenv("PROVENANCE_TRUST", str(keys.root))
    _, out, _ = run(capsys, "verify", str(signed), "--json")
    assert json.loads(out)["credentials"]["state"] == "Trusted"


def test_trust_config_decides_which_signer_ekus_are_allowed(tmp_path, shared, capsys):
    # Microsoft's test signer carries only documentSigning: allowed by default (and by the
    # peer's list), refused by a list that lacks it.
    cards = shared / "c2pa-extension-validator/test/media/cards_trusted.jpg"
    anchors = str(shared / "test-anchors.pem")
    cfg = tmp_path / "ekus.cfg"
    cfg.write_text("// c2pa-kp-claimSigning only\n1.3.6.1.4.1.62558.2.1\n")
    _, out, _ = run(
        capsys, "verify", str(cards), "--json", "--trust", anchors, "--trust-config", str(cfg)
    )
    refused = json.loads(out)["credentials"]
    assert refused["state"] == "Invalid" and "signingCredential.invalid" in refused["failures"]
    _, out, _ = run(
        capsys,
        "verify",
        str(cards),
        "--json",
        "--trust",
        anchors,
        "--trust-config",
        str(shared / "test-allowed-ekus.cfg"),
    )
    assert json.loads(out)["credentials"]["state"] == "Trusted"
    _, out, _ = run(capsys, "verify", str(cards), "--json", "--trust", anchors)
    assert json.loads(out)["credentials"]["state"] == "Trusted"


def test_missing_keys_explain_the_next_step(tmp_path, capsys):
    code, _, err = run(capsys, "sign", str(PHOTOS[0]), "--keys", str(tmp_path / "nokeys"))
    assert code == 1 and "provenance keys init" in err


@pytest.mark.slow
def test_demo_prints_a_trusted_ai_verdict():
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=SAMPLES.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Generated with an AI tool (Demo Diffusion 1.0)." in proc.stdout
    assert "the signature is trusted" in proc.stdout


def test_a_closed_pipe_is_not_a_traceback(shared):
    # `provenance inspect FILE | head -1`: the reader goes away before the report is written.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provenance",
            "inspect",
            "--detailed",
            str(shared / "c2pa-rs/sdk/tests/fixtures/ocsp.jpg"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err
