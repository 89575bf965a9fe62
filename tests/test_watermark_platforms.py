"""What platforms and photo apps do to a signed image that the other watermark tests do not:
a resize without the aspect ratio (a picture fitted to a box by its width and height)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from provenance import ManifestSpec, SignOptions, evidence, sign, verify
from provenance.watermark import codec, decode_for_detection, detect_bytes, embed_rgb

from .conftest import PHOTOS, SAMPLES

AI = SignOptions(ManifestSpec(generator="Acme Diffusion", model="2"))
STRETCHES = {"8 % wider": (1.08, 1.0), "5 % lower": (1.0, 0.95), "10 % narrower": (0.9, 1.0)}


def _stretched(image: Image.Image, kx: float, ky: float, quality: int = 85) -> bytes:
    resized = image.resize((round(image.width * kx), round(image.height * ky)))
    out = io.BytesIO()
    resized.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _photo(name: str) -> np.ndarray:
    image = Image.open(SAMPLES / name).convert("RGB")
    scale = (1e6 / (image.width * image.height)) ** 0.5
    size = (round(image.width * scale), round(image.height * scale))
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS))


@pytest.mark.parametrize("stretch", list(STRETCHES))
@pytest.mark.parametrize("name", ["chelsea.jpg", "hubble.jpg"])
def test_a_copy_resized_without_its_aspect_ratio_decodes_and_matches_its_reference(name, stretch):
    marked = embed_rgb(_photo(name), 0x5EA5CA1E00)
    data = _stretched(Image.fromarray(marked), *STRETCHES[stretch])
    found = detect_bytes(data)
    assert found.identifier == 0x5EA5CA1E00
    kx, ky = STRETCHES[stretch]
    assert found.aspect == pytest.approx(ky / kx, rel=0.01)
    decoded = decode_for_detection(data)
    alike = evidence.compare(
        decoded.luminance,
        evidence.reference(marked),
        found.scale,
        found.angle,
        orientation=found.orientation,
        aspect=found.aspect,
    )
    assert alike.same
    # Without the aspect undone, the blocks do not line up (what recovery refused before).
    square = evidence.compare(decoded.luminance, evidence.reference(marked), found.scale)
    assert square.agreeing < alike.agreeing


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.name)
def test_unmarked_photos_resized_without_their_aspect_ratio_are_not_detected(photo):
    image = Image.open(photo).convert("RGB")
    for kx, ky in STRETCHES.values():
        found = codec.detect(np.asarray(Image.open(io.BytesIO(_stretched(image, kx, ky)))))
        assert not found.detected and found.identifier is None


def test_a_stretched_upload_recovers_the_credentials(credentials, trusted, registry):
    signed = sign(PHOTOS[3].read_bytes(), credentials, AI, registry=registry)
    image = Image.open(io.BytesIO(signed.asset or b"")).convert("RGB")
    verdict = verify(_stretched(image, 1.08, 1.0, 80), policy=trusted, registry=registry)
    c = verdict.credentials
    assert c.recovered is True and c.manifest_id == signed.manifest_id
    assert verdict.watermark is not None and "aspect" not in verdict.watermark


@pytest.mark.parametrize("size", [(256, 256), (256, 384)])
def test_the_upright_comb_with_equal_periods_along_y_reads_as_without(size):
    rng = np.random.default_rng(size[1])
    spectrum = rng.exponential(1.0, size)
    periods = np.array([31.5, 40.0, 64.1])
    assert np.array_equal(
        codec._comb_upright(spectrum, periods), codec._comb_upright(spectrum, periods, periods)
    )


def _tilted_page(picture: Image.Image, degrees: float) -> bytes:
    """A PNG screenshot of a white page with lines of text and ``picture`` shown tilted."""
    turned = picture.rotate(
        degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255)
    )
    page = Image.new("RGB", (round(turned.width * 1.9), round(turned.height * 1.5)), "white")
    draw = ImageDraw.Draw(page)
    for y in range(20, page.height - 20, 22):
        draw.text((turned.width + 100, y), "lorem ipsum dolor sit amet " * 3, fill=(30, 30, 30))
    page.paste(turned, (40, (page.height - turned.height) // 2))
    out = io.BytesIO()
    page.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("degrees", [5, -4])
def test_a_screenshot_of_a_tilted_picture_decodes_from_its_box_taken_in(degrees):
    marked = embed_rgb(_photo("coffee.jpg"), 0x7117ED0001)
    data = _tilted_page(Image.fromarray(marked), degrees)
    # The turned picture's whole box (page corners and all) is what _tilted recognises, and
    # takes in, when the box search hands it over as it is.
    turned = Image.fromarray(marked).rotate(degrees, expand=True)
    page = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    top = (page.shape[0] - turned.height) // 2
    assert codec._tilted(page[top : top + turned.height, 40 : 40 + turned.width])
    found = detect_bytes(data)
    assert found.identifier == 0x7117ED0001
    assert found.angle == pytest.approx(-degrees, abs=0.3)  # PIL turns counter-clockwise


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.name)
def test_an_unmarked_tilted_picture_in_a_page_is_not_detected(photo):
    data = _tilted_page(Image.open(photo).convert("RGB"), 5)
    assert detect_bytes(data).identifier is None


def test_a_photos_own_corners_are_not_a_tilted_pictures():
    assert not codec._tilted(_photo("coffee.jpg"))
    assert not codec._tilted(_photo("hubble.jpg"))
