"""Forged recoveries (hostile-world issue): a watermark alone never hands an image another
image's credentials; the image must be the registered one, or a crop of it.

Each attack of bench/forgery.py, once, small: the attack must work against the old rule (a
pHash similarity >= 0.8), so these tests would fail if the defence were removed.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from bench.forgery import copy_watermark, jpeg, steer_phash, synthetic
from provenance import (
    InputError,
    ManifestSpec,
    NotIssuedError,
    SigningKeys,
    SignOptions,
    State,
    evidence,
    init_keys,
    register_manifest,
    sign,
    verify,
)
from provenance.cli import main
from provenance.cli.verify import render_verdict
from provenance.fingerprint import image_hash, similarity
from provenance.registry import ManifestRegistry
from provenance.verdict import percent
from provenance.watermark import (
    KEY_ENV,
    decode_for_detection,
    detect_bytes,
    embed_rgb,
    load_for_detection,
    watermark_key,
)

from .conftest import PHOTOS

AI = SignOptions(ManifestSpec(generator="Acme Diffusion", model="2"))


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture
def registered(credentials, registry):
    """A (the astronaut at 1024 px) signed into the registry: (signed bytes, watermark id,
    fingerprint)."""
    image = Image.open(PHOTOS[0]).convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS)
    # A fixed identifier keeps the test deterministic (decoding a crop depends a little on it).
    options = SignOptions(AI.manifest, watermark_id=0x5A17E0C0DE)
    signed = sign(jpeg(np.asarray(image), 92), credentials, options, registry=registry)
    record = registry.by_manifest_id(signed.manifest_id)
    assert record is not None and record.fingerprint is not None and record.reference
    return signed.asset or b"", signed.watermark or "", record.fingerprint


def _refused(verdict, payload: str, manifest_id: str | None = None) -> None:
    """The watermark is read and named, but the credentials are not applied."""
    assert verdict.watermark["detected"] and verdict.watermark["payload"] == payload
    assert verdict.credentials.recovered is False and verdict.credentials.present is False
    assert verdict.ai.generated is None
    assert [m.kind for m in verdict.matches] == ["watermark"]
    assert verdict.matches[0].similarity < 0.5  # share of blocks that agree with A
    assert "possible match only" in verdict.summary


def test_phash_steered_image_with_the_payload_embedded_is_not_recovered(
    registered, trusted, registry, tmp_path
):
    """The issue's attack: steer B's low-frequency DCT to A's pHash, then embed A's payload
    with `provenance watermark embed`."""
    _, payload, fingerprint = registered
    b = _rgb(PHOTOS[2].read_bytes())  # the coffee cup
    steered = tmp_path / "b1.png"
    Image.fromarray(steer_phash(b, fingerprint)).save(steered)
    forged = tmp_path / "b2.jpg"
    assert main(["watermark", "embed", str(steered), str(forged), "--payload", payload]) == 0
    data = forged.read_bytes()
    # The attack works on what it targets: the old rule would have recovered A's credentials.
    assert similarity(image_hash(load_for_detection(data)), fingerprint) >= 0.8
    _refused(verify(data, policy=trusted, registry=registry), payload)


def test_copied_watermark_is_not_recovered(registered, trusted, registry):
    """Watermark copy: A's residual (A minus a denoised A), averaged over the tile, added to B."""
    signed, payload, _ = registered
    forged = jpeg(copy_watermark(_rgb(signed), _rgb(PHOTOS[4].read_bytes()), folded=True, gain=2.0))
    assert detect_bytes(forged).payload == payload  # the copy carries A's watermark
    _refused(verify(forged, policy=trusted, registry=registry), payload)


@pytest.mark.parametrize(
    ("upload", "turned", "part"),
    [
        pytest.param(lambda im: im.crop((205, 205, 819, 819)), None, 0.36, id="crop 60%"),
        pytest.param(lambda im: im.crop((256, 256, 768, 768)), None, 0.25, id="crop 50%"),
        pytest.param(lambda im: im.crop((40, 180, 757, 897)), None, 0.49, id="crop 70% off-centre"),
        pytest.param(
            lambda im: im.rotate(2, resample=Image.Resampling.BICUBIC), None, 1, id="rotate 2°"
        ),
        pytest.param(lambda im: im.resize((640, 640)), None, 1, id="resize 62%"),
        pytest.param(
            lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            "mirrored left to right",
            1,
            id="mirrored",
        ),
        pytest.param(
            lambda im: im.transpose(Image.Transpose.ROTATE_90),
            "turned 90° counter-clockwise",
            1,
            id="rotate 90°",
        ),
        pytest.param(
            lambda im: im.transpose(Image.Transpose.TRANSPOSE).crop((100, 60, 700, 660)),
            "mirrored and turned 90° counter-clockwise",
            0.34,
            id="transposed + crop",
        ),
    ],
)
def test_a_crop_of_the_registered_image_recovers(
    registered, trusted, registry, upload, turned, part
):
    """A crop whose watermark decodes recovers its credentials (the geometry the detector
    found is undone, and the crop is found inside the stored reference); a mirrored or turned
    copy says so, in the sentence, the JSON and the terminal, and a crop says how much of the
    registered image it shows (the credentials describe all of it)."""
    signed, payload, _ = registered
    data = jpeg(np.asarray(upload(Image.open(io.BytesIO(signed)).convert("RGB"))), 80)
    verdict = verify(data, policy=trusted, registry=registry)
    assert verdict.watermark is not None and verdict.watermark["payload"] == payload
    assert verdict.credentials.recovered is True and verdict.credentials.state == State.TRUSTED
    assert (verdict.credentials.similarity or 0) >= 0.9
    # The terminal says how far the copy agrees, as --json and the reader's page do: an edit
    # within the tolerated share of blocks recovers too.
    rendered = render_verdict(verdict)
    agrees = f"{percent(verdict.credentials.similarity or 0)} of it agrees with the registered"
    assert agrees in rendered
    # A reader comparing the copy with the signed thumbnail sees it mirrored or turned: every
    # face says so, in the same words (verdict.Orientation).
    assert json.loads(json.dumps(verdict.to_dict()))["watermark"]["mirrored_or_turned"] == turned
    shown = verdict.credentials.shown
    assert shown is not None and shown == pytest.approx(part, abs=0.03)
    copy = f" of a copy {turned}" if turned else ""
    if part < 1:
        cropped = f"about {percent(shown)} of the registered image"
        copy = f"{copy}, cropped to {cropped}" if turned else f" of a crop showing {cropped}"
    assert verdict.summary.endswith(f"The credentials were recovered from the watermark{copy}.")
    assert (f"payload {payload}, in a copy {turned}" in rendered) == bool(turned)


def test_a_registration_under_an_identifier_not_issued_is_refused(credentials, trusted, registry):
    """Squatting: the stripped copy of an image signed elsewhere, re-signed under the
    identifier its pixels carry, is refused; the same under an identifier issued to the same
    client is accepted."""
    victim = sign(PHOTOS[3].read_bytes(), credentials, AI)  # signed elsewhere: not in `registry`
    wid = int(victim.watermark or "0", 16)
    stripped = jpeg(_rgb(victim.asset or b""))
    squat = sign(stripped, credentials, SignOptions(AI.manifest, watermark_id=wid))
    with pytest.raises(NotIssuedError, match="not issued to this client"):
        register_manifest(
            squat.manifest or b"", squat.asset or b"", registry, client="squatter", policy=trusted
        )
    issued = registry.issue_watermark_id("victim")
    own = sign(PHOTOS[4].read_bytes(), credentials, SignOptions(AI.manifest, watermark_id=issued))
    with pytest.raises(NotIssuedError):  # issued, but to someone else
        register_manifest(
            own.manifest or b"", own.asset or b"", registry, client="squatter", policy=trusted
        )
    record = register_manifest(
        own.manifest or b"", own.asset or b"", registry, client="victim", policy=trusted
    )
    assert record.watermark_id == issued and record.reference
    assert registry.new_watermark_id() != issued
    assert registry.count() == 1


def test_rows_stored_before_references_give_a_possible_match_only(tmp_path, credentials, trusted):
    """Rows migrated from a registry made before references (version 3: the column is added, NULL)
    have no evidence to compare with, so their watermark yields a possible match, never
    credentials."""
    path = tmp_path / "old.sqlite3"
    registry = ManifestRegistry(path)
    signed = sign(PHOTOS[0].read_bytes(), credentials, AI, registry=registry)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE manifests SET reference = NULL")
    record = registry.by_manifest_id(signed.manifest_id)
    assert record is not None and record.reference is None
    verdict = verify(jpeg(_rgb(signed.asset or b""), 75), policy=trusted, registry=registry)
    assert verdict.credentials.recovered is False
    assert verdict.matches[0].kind == "watermark" and verdict.matches[0].similarity == 0


def test_a_secret_watermark_key_ignores_payloads_embedded_without_it(tmp_path, monkeypatch):
    """Per-deployment key: a payload embedded with the public key (what anyone can do) is not
    found under the secret one, and the deployment's own marks are found only with it."""
    rgb = _rgb(PHOTOS[0].read_bytes())
    public = jpeg(embed_rgb(rgb, 0x1234))
    key = tmp_path / "watermark.key"
    key.write_text(secrets.token_hex(32))
    monkeypatch.setenv(KEY_ENV, str(key))
    assert detect_bytes(public).detected is False
    own = jpeg(embed_rgb(rgb, 0x1234))
    assert detect_bytes(own).payload == "0000001234"
    key.write_text("short")
    with pytest.raises(InputError, match="at least 16"):
        detect_bytes(own)
    monkeypatch.delenv(KEY_ENV)
    assert detect_bytes(own).detected is False


#: The files opened while ``_opens`` counts (an audit hook cannot be removed: it stays idle).
_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENED is None or event != "open" or not isinstance(args[0], str | os.PathLike):
        return
    path, mode, flags = args
    reading = flags & os.O_ACCMODE == os.O_RDONLY if mode is None else set(mode) <= set("rbt")
    if reading:
        _OPENED.append(os.fspath(path))


sys.addaudithook(_audit)


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """The paths of the files Python opens for reading during the test (its ``open`` audit
    events)."""
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


def _rewrite(path: Path, text: str) -> None:
    """Rewrite ``path`` in place (same inode) so that its modification time moves: on a
    filesystem with coarse timestamps a rewrite within the same tick keeps the old time."""
    before = path.stat().st_mtime_ns
    for _ in range(100):
        path.write_text(text)
        if path.stat().st_mtime_ns != before:
            return
        time.sleep(0.01)
    raise AssertionError(f"{path}: its modification time does not move")


def test_the_watermark_key_file_is_read_once_until_it_changes(tmp_path, monkeypatch, opened):
    """Every embed and detect asks for the key: the file is read once, and a key rewritten in
    place (same size, same inode) or replaced by a rename is picked up on the next call."""
    rgb = _rgb(PHOTOS[0].read_bytes())
    key = tmp_path / "watermark.key"
    key.write_text(secrets.token_hex(32))
    monkeypatch.setenv(KEY_ENV, str(key))
    first = watermark_key()
    own = jpeg(embed_rgb(rgb, 0x1234))
    assert detect_bytes(own).payload == "0000001234"
    for _ in range(20):
        assert watermark_key() == first
    assert opened.count(str(key)) == 1

    _rewrite(key, secrets.token_hex(32))  # a rotated key: same length, same file
    second = watermark_key()
    assert second != first and opened.count(str(key)) == 2
    assert detect_bytes(own).detected is False  # marked under the old key
    assert opened.count(str(key)) == 2

    replacement = tmp_path / "new.key"
    replacement.write_text(secrets.token_hex(32))
    replacement.replace(key)  # a new inode under the same name
    assert watermark_key() not in (first, second)
    assert opened.count(str(key)) == 3


def test_watermark_key_errors_are_not_cached(tmp_path, monkeypatch):
    key = tmp_path / "watermark.key"
    monkeypatch.setenv(KEY_ENV, str(key))
    with pytest.raises(InputError, match="cannot read the watermark key"):
        watermark_key()
    key.write_text("short")
    with pytest.raises(InputError, match="is 5 bytes"):
        watermark_key()
    _rewrite(key, secrets.token_hex(32))
    assert len(watermark_key()) == 32
    key.unlink()
    with pytest.raises(InputError, match="No such file"):
        watermark_key()


def test_cli_signs_with_an_issued_identifier(tmp_path, keys, registry):
    """`sign --watermark-id` embeds the identifier a service issued, for registration there."""
    out = tmp_path / "s.jpg"
    issued = f"{registry.issue_watermark_id('platform'):010x}"
    args = ["sign", str(PHOTOS[0]), "-o", str(out), "--keys", str(keys.dir)]
    assert main([*args, "--watermark-id", issued, "--registry", str(tmp_path / "local.db")]) == 0
    assert detect_bytes(out.read_bytes()).payload == issued
    assert main([*args, "--watermark-id", "not-hex", "--force"]) != 0


def test_a_larger_picture_that_contains_the_registered_one_is_not_it():
    """A collage: the registered image at its own scale inside a bigger canvas of other content,
    with a watermark lattice crafted to match (the codec is open, the key public). All of the
    registered image's blocks agree, but most of the submitted picture is something else."""
    a = _rgb(PHOTOS[0].read_bytes()).astype(np.float32).mean(axis=2)  # 512 x 512
    reference = evidence.reference(a)
    other = np.asarray(Image.open(PHOTOS[2]).convert("L").resize((640, 640)), np.float32)
    canvas = other.copy()
    canvas[64:576, 64:576] = a  # the registered picture, untouched, in the middle
    # The canvas's base grid shows the registered one at 0.8 of its own: the geometry a
    # crafted lattice would report.
    found = evidence.compare(canvas, reference, scale=0.8)
    assert found.agreeing > 0.9 and found.correlation > 0.9  # the registered part is there
    assert found.covered < 0.7 and not found.same
    assert evidence.compare(a, reference).same  # the registered picture alone is it


def _in_a_page(image: Image.Image, size: tuple[int, int], at: tuple[int, int]) -> Image.Image:
    """``image`` pasted at ``at`` on a white page of ``size`` with a bar and lines of text."""
    page = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, size[0], 60), fill=(225, 228, 232))
    draw.text((20, 24), "https://news.example.org/2026/11/26/story", fill=(40, 40, 40))
    for y in range(80, size[1] - 20, 20):
        draw.text((at[0] + image.width + 20, y), "lorem ipsum dolor sit amet " * 3, fill=(0,) * 3)
    page.paste(image, at)
    return page


@pytest.mark.parametrize(
    ("canvas", "picture"),
    [
        pytest.param(
            lambda im: _in_a_page(im.resize((768, 768)), (1600, 1000), (40, 120)),
            (40, 120, 768, 768),
            id="screenshot of a page",
        ),
        pytest.param(
            lambda im: ImageOps.expand(im, border=160, fill=(0, 0, 0)),
            (160, 160, 1024, 1024),
            id="black border",
        ),
    ],
)
def test_a_registered_picture_inside_a_canvas_is_a_possible_match_only(
    registered, trusted, registry, canvas, picture
):
    """A screenshot of a page showing the registered image, or the image in a border: the
    watermark is found in the picture (``region``, in the upload's pixels), and the picture is
    compared with the registered one, but the credentials are not applied to the canvas around
    it (a caption beside a signed photo is not signed): the verdict says so."""
    signed, payload, _ = registered
    data = jpeg(np.asarray(canvas(Image.open(io.BytesIO(signed)).convert("RGB"))), 85)
    verdict = verify(data, policy=trusted, registry=registry)
    assert verdict.watermark is not None and verdict.watermark["payload"] == payload
    x, y, w, h = verdict.watermark["region"]
    left, top, width, height = picture
    # Within the picture, and most of it.
    assert left <= x and top <= y and x + w <= left + width and y + h <= top + height
    assert w * h >= 0.8 * width * height
    assert verdict.credentials.recovered is False
    assert [m.kind for m in verdict.matches] == ["watermark"]
    assert verdict.matches[0].similarity >= 0.9  # the picture itself is the registered one
    # The region is the picture's box taken in a little (within it, most of it): "about".
    assert f"in a picture inside this image (about {w}x{h} px at {x},{y}:" in verdict.summary
    assert "a possible match only" in verdict.summary
    # The terminal names who registered it, as --json does (``matches[].signer``).
    signer = verdict.matches[0].signer
    assert signer and f"registered by {signer}, not checked here" in render_verdict(verdict)


@pytest.fixture
def flat_illustration(credentials, registry):
    """A flat illustration (bench/forgery.py's synthetic-flat-6: pure colours that clip at 255
    when brightened by 20 %) signed into the registry: (signed bytes, watermark id)."""
    _, rgb = synthetic(7)[6]
    options = SignOptions(AI.manifest, watermark_id=0x0C11AA0E20)  # fixed: deterministic
    signed = sign(jpeg(rgb, 95), credentials, options, registry=registry)
    return signed.asset or b"", signed.watermark or ""


def test_a_brightened_upload_whose_colours_clip_recovers(flat_illustration, trusted, registry):
    """Brightness +20 %: the illustration's bright colours clip, so their luminance falls below
    the global gain (non-monotonically: a region once brighter comes out darker than its
    neighbour). Flat blocks mostly clipped in the upload are judged one-sidedly; before that,
    only a third of the blocks agreed and the upload was refused."""
    signed, payload = flat_illustration
    im = Image.open(io.BytesIO(signed)).convert("RGB")
    data = jpeg(np.asarray(ImageEnhance.Brightness(im).enhance(1.2)), 92)
    verdict = verify(data, policy=trusted, registry=registry)
    assert verdict.watermark is not None and verdict.watermark["payload"] == payload
    assert verdict.credentials.recovered is True and verdict.credentials.state == State.TRUSTED
    assert (verdict.credentials.similarity or 0) >= 0.8
    mask = evidence.clipped_mask(decode_for_detection(data).rgb())
    assert mask.mean() > 0.3  # the edit did clip colours


def test_colours_are_decoded_only_for_a_recovery(flat_illustration, trusted, registry, monkeypatch):
    """An upload whose watermark names no registered image (most of a platform's) is decoded
    for its luminance only; a recovery decodes the colours the evidence allows for once, and
    takes the luminance it compares from that same decode."""
    verify_module = sys.modules["provenance.verify"]  # the package's `verify` is the function
    signed, _ = flat_illustration
    im = Image.open(io.BytesIO(signed)).convert("RGB")
    recovery = jpeg(np.asarray(ImageEnhance.Brightness(im).enhance(1.2)), 92)
    unmarked = PHOTOS[0].read_bytes()
    colour_decodes: list[int] = []
    decode = verify_module.decode_for_detection

    def counting(data: bytes, name: str = "image") -> Any:
        colour_decodes.append(len(data))
        return decode(data, name)

    monkeypatch.setattr(verify_module, "decode_for_detection", counting)
    verify(unmarked, policy=trusted, registry=registry)
    assert colour_decodes == []
    verdict = verify(recovery, policy=trusted, registry=registry)
    assert verdict.credentials.recovered is True
    assert colour_decodes == [len(recovery)]


def test_the_clipped_mask_must_come_from_the_same_decode():
    a = _rgb(PHOTOS[0].read_bytes()).astype(np.float32).mean(axis=2)
    mask = np.zeros((a.shape[0] // 2, a.shape[1] // 2), np.uint8)
    with pytest.raises(ValueError, match="one decode"):
        evidence.compare(a, evidence.reference(a), clipped=mask)


@pytest.mark.parametrize("kind", ["uniform", "steered"])
def test_a_clipped_forgery_is_not_recovered(flat_illustration, trusted, registry, kind):
    """The one-sided rule for clipped blocks is no way in: a uniform saturated colour at the
    registered image's mean luminance (whose clipped blocks pass that rule wherever the
    registered colour is a little brighter), or another illustration steered to its pHash and
    brightened until it clips, both carrying its payload, are refused."""
    signed, payload = flat_illustration
    a = _rgb(signed)
    if kind == "uniform":
        forged_rgb = np.empty_like(a)
        forged_rgb[:] = (255, 255, 0)  # saturated yellow, luminance ~226
    else:
        _, b = synthetic(11)[10]  # synthetic-flat-10, another flat illustration
        b = np.asarray(Image.fromarray(b).resize((a.shape[1], a.shape[0])))
        fingerprint = image_hash(load_for_detection(signed))
        brightened = np.clip(steer_phash(b, fingerprint).astype(np.float32) * 1.25, 0, 255)
        forged_rgb = brightened.astype(np.uint8)
    data = jpeg(embed_rgb(forged_rgb, int(payload, 16)), 92)
    mask = evidence.clipped_mask(decode_for_detection(data).rgb())
    assert mask.mean() > 0.3
    verdict = verify(data, policy=trusted, registry=registry)
    _refused(verdict, payload)


@pytest.fixture
def faint_texture(credentials, registry):
    """A texture of two colours of almost the same luminance (bench/forgery.py's
    synthetic-texture-11: its luminance varies by half a level) signed into the registry:
    (signed bytes, watermark id)."""
    _, rgb = synthetic(12)[11]
    options = SignOptions(AI.manifest, watermark_id=0x0FA1A7E11)  # fixed: deterministic
    signed = sign(jpeg(rgb, 95), credentials, options, registry=registry)
    return signed.asset or b"", signed.watermark or ""


def test_a_faint_texture_after_jpeg_50_recovers(faint_texture, trusted, registry):
    """JPEG 50 quantisation eats most of a half-level luminance texture (correlation 0.58
    where JPEG 90 keeps 0.90): the correlation required is scaled by what that noise leaves
    of such a faint reference, and the upload is the registered image again."""
    signed, payload = faint_texture
    data = jpeg(_rgb(signed), 50)
    verdict = verify(data, policy=trusted, registry=registry)
    assert verdict.watermark is not None and verdict.watermark["payload"] == payload
    assert verdict.credentials.recovered is True and verdict.credentials.state == State.TRUSTED


def test_a_flat_image_is_not_a_faint_texture(faint_texture, trusted, registry):
    """Against a faint reference every block is flat and agrees by its mean: a plain image of
    the registered one's mean colour carrying its payload agrees everywhere, but does not
    correlate with the faint texture, and is refused."""
    signed, payload = faint_texture
    a = _rgb(signed)
    plain = np.empty_like(a)
    plain[:] = np.rint(a.reshape(-1, 3).mean(axis=0)).astype(np.uint8)
    data = jpeg(embed_rgb(plain, int(payload, 16)), 92)
    verdict = verify(data, policy=trusted, registry=registry)
    assert verdict.watermark is not None and verdict.watermark["payload"] == payload
    assert verdict.credentials.recovered is False and verdict.credentials.present is False
    assert verdict.matches[0].similarity > 0.9  # every block agrees by its mean ...
    record = registry.by_watermark(int(payload, 16))
    assert record is not None and record.reference
    found = evidence.compare(load_for_detection(data), record.reference)
    assert found.correlation < 0.2 < found.min_correlation  # ... but nothing correlates


def _with_region_of(a: np.ndarray, b: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A with the box (x, y, width, height) replaced by B's pixels there (B resized to A)."""
    x, y, w, h = box
    b = np.asarray(Image.fromarray(b).resize((a.shape[1], a.shape[0])))
    out = a.copy()
    out[y : y + h, x : x + w] = b[y : y + h, x : x + w]
    return out


def test_the_registered_image_with_one_region_replaced_is_not_recovered(
    registered, trusted, registry
):
    """Red team: another picture put into a fifth of A (an inpainted object, a swapped face),
    A's watermark intact elsewhere. The share of agreeing blocks alone (>= 0.62) let it pass as
    the registered image; the one connected region that differs refuses it, and the verdict
    says why."""
    signed, payload, _ = registered
    a, b = _rgb(signed), _rgb(PHOTOS[2].read_bytes())  # the astronaut, the coffee cup
    data = jpeg(_with_region_of(a, b, (480, 320, 460, 460)), 90)  # 20 % of the picture
    decoded = decode_for_detection(data)
    found = detect_bytes(data)
    record = registry.by_watermark(int(payload, 16))
    alike = evidence.compare(decoded.luminance, record.reference, found.scale, found.angle)
    # What the blocks alone said: the same image (so this fails without the region rule).
    assert alike.agreeing >= evidence.MIN_AGREEING and alike.covered >= evidence.MIN_COVERED
    assert alike.correlation >= alike.min_correlation
    assert alike.edited >= evidence.MAX_EDITED and not alike.same
    verdict = verify(data, policy=trusted, registry=registry)
    assert verdict.watermark is not None and verdict.watermark["payload"] == payload
    assert verdict.credentials.recovered is False
    [match] = verdict.matches
    edited = match.edited
    assert edited is not None and edited == pytest.approx(alike.edited, abs=1e-3)
    assert match.kind == "watermark"
    assert f"except for a region of about {percent(edited)} of it that differs" in (verdict.summary)
    assert "possible match only" in verdict.summary
    assert json.loads(json.dumps(verdict.to_dict()))["matches"][0]["edited"] == edited
    assert f"a region of about {percent(edited)} differs" in render_verdict(verdict)


def test_scattered_disagreement_is_not_an_edited_region():
    """Benign noise (JPEG, clipping) leaves disagreeing blocks apart; one group of them is an
    edit. The group is measured with 4-neighbours, as a share of the blocks compared."""
    agree = np.ones((10, 10), bool)
    agree[::3, ::3] = False  # 16 blocks, none touching
    assert evidence._largest_group(agree) == pytest.approx(0.01)
    agree[2:6, 2:5] = False  # 12 blocks in one group (holding (3, 3)), touching (6, 3)
    assert evidence._largest_group(agree) == pytest.approx(0.13)
    assert evidence._largest_group(np.ones((4, 4), bool)) == 0.0


def test_a_copy_re_signed_by_someone_else_names_the_earlier_registration(
    registered, credentials, trusted, registry, tmp_path
):
    """Red team: A's stripped copy signed by another signer (signing keeps the watermark in
    the pixels). The file's own credentials are what it carries, but the reader also learns
    that the same picture was registered under other credentials first; the original itself
    gets no such note."""
    signed, payload, _ = registered
    record = registry.by_watermark(int(payload, 16))
    other = SigningKeys.load(keys_dir=init_keys(tmp_path / "other", org="Other Signer").dir)
    resigned = sign(jpeg(_rgb(signed), 92), other, AI)
    verdict = verify(resigned.asset or b"", policy=trusted, registry=registry)
    signer = verdict.credentials.signer
    assert verdict.credentials.present and signer is not None and signer.issuer == "Other Signer"
    assert [(m.manifest_id, m.kind) for m in verdict.matches] == [(record.manifest_id, "watermark")]
    assert f"the watermark of other stored credentials ({record.manifest_id}, signed by " in (
        verdict.summary
    )
    assert verdict.summary.endswith("the same picture was signed before by someone else.")
    # The registered original: its own credentials, nothing older.
    own = verify(signed, policy=trusted, registry=registry)
    assert own.credentials.manifest_id == record.manifest_id and own.matches == []
    assert "someone else" not in own.summary
    # Without a registry nothing is looked up.
    assert verify(resigned.asset or b"", policy=trusted).matches == []
    # The same signer, signing a stripped copy again without the original as its parent.
    again = sign(jpeg(_rgb(signed), 92), credentials, AI).asset or b""
    verdict = verify(again, policy=trusted, registry=registry)
    assert verdict.summary.endswith("the same picture was signed before by the same signer.")


def test_the_registered_image_with_a_caption_bar_says_so(registered, trusted, registry):
    """A meme's caption bar above the registered image: the whole picture agrees, but a fifth
    of the copy lies outside it, so the credentials (which cover the registered image alone)
    are not applied. The verdict said "this image differs from the registered one (similarity
    100%)"; it now says what lies around it."""
    signed, payload, _ = registered
    a = Image.fromarray(_rgb(signed))
    bar = a.height // 4
    meme = Image.new("RGB", (a.width, a.height + bar), "white")
    meme.paste(a, (0, bar))
    ImageDraw.Draw(meme).text((20, bar // 3), "when the coffee hits", fill="black")
    data = jpeg(np.asarray(meme), 90)
    verdict = verify(data, policy=trusted, registry=registry)
    assert verdict.watermark is not None and verdict.watermark["payload"] == payload
    assert verdict.credentials.recovered is False
    [match] = verdict.matches
    added = match.added
    assert added == pytest.approx(0.2, abs=0.02) and match.edited is None
    assert added is not None and match.similarity > 0.95
    assert f"about {percent(added)} of it lies outside the registered image" in verdict.summary
    assert "differs from the registered one" not in verdict.summary
    assert json.loads(json.dumps(verdict.to_dict()))["matches"][0]["added"] == added
    assert f"about {percent(added)} of it lies outside" in render_verdict(verdict)
