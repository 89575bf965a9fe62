"""What bench/unseen.py found the detector missing, and fixed: a crop to 40 % or 35 % of the
frame (a detail zoomed in on), whose tile period on the crop's base grid (80, 91) lay past the
45 % (period 71) the lattice search stopped at."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from provenance.watermark import codec, detect_bytes, embed_rgb

from .conftest import SAMPLES

SAMPLE_NAMES = ("astronaut.jpg", "chelsea.jpg", "coffee.jpg", "hubble.jpg", "rocket.jpg")


def _photo(name: str) -> Image.Image:
    image = Image.open(SAMPLES / name).convert("RGB")
    scale = (1e6 / (image.width * image.height)) ** 0.5
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.LANCZOS)


def _centre_crop_jpeg(image: Image.Image, share: float) -> bytes:
    w, h = round(image.width * share), round(image.height * share)
    left, top = (image.width - w) // 2, (image.height - h) // 2
    out = io.BytesIO()
    image.crop((left, top, left + w, top + h)).save(out, format="JPEG", quality=85)
    return out.getvalue()


@pytest.mark.parametrize("share", [0.4, 0.35])
@pytest.mark.parametrize("name", ["coffee.jpg", "hubble.jpg"])
def test_a_crop_to_a_third_of_the_frame_or_more_decodes_upright(name, share):
    marked = Image.fromarray(embed_rgb(np.asarray(_photo(name)), 0x00C0FFEE42))
    found = detect_bytes(_centre_crop_jpeg(marked, share))
    assert found.payload == "00c0ffee42", found
    # Found upright, at the crop's scale (its tiles 1 / share their size on its base grid).
    assert found.scale == pytest.approx(1 / share, rel=0.01)
    assert found.angle == 0.0


def test_the_upright_search_reaches_a_crop_to_a_third_of_the_frame():
    assert codec._UPRIGHT_PERIODS.max() >= codec.PERIOD / 0.335
    assert codec._UPRIGHT_PERIODS.min() == pytest.approx(codec.PERIOD * 0.98)


@pytest.mark.parametrize("share", [0.4, 0.35])
def test_deep_crops_of_unmarked_photos_are_not_detected(share):
    for name in SAMPLE_NAMES:
        found = detect_bytes(_centre_crop_jpeg(_photo(name), share))
        assert not found.detected, (name, found)


def _captioned_jpeg(image: Image.Image, share: float, above: bool) -> bytes:
    """A meme's caption bar: ``share`` of the picture's height added above (white, with black
    text) or below (black, empty), JPEG 85."""
    bar = round(image.height * share)
    out = Image.new("RGB", (image.width, image.height + bar), "white" if above else "black")
    out.paste(image, (0, bar if above else 0))
    if above:
        ImageDraw.Draw(out).text((12, bar // 3), "when the coffee hits", fill="black")
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


@pytest.mark.parametrize("share", [0.06, 0.12, 0.2])
@pytest.mark.parametrize("above", [True, False])
@pytest.mark.parametrize("megapixels", [0.24, 1.0])
def test_a_caption_bar_on_one_side_decodes(share, above, megapixels):
    """A band on one side lengthens the short side the base grid is scaled by, so the tiles
    come out smaller than PERIOD on that grid, under the upright search's range; such copies (a
    meme's caption above a picture) decoded not at all (``codec._padded``)."""
    photo = _photo("coffee.jpg")
    scale = megapixels**0.5
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)))
    marked = Image.fromarray(embed_rgb(np.asarray(photo), 0x00C0FFEE42))
    found = detect_bytes(_captioned_jpeg(marked, share, above))
    assert found.payload == "00c0ffee42", found
    if found.region is None:  # read on the whole frame: the tiles at the padded scale
        assert found.scale == pytest.approx(1 / (1 + share), rel=0.02)
    else:  # or in the picture's box, where the canvas search trims the band off
        _, y, _, h = found.region
        top = round(marked.height * share) if above else 0
        assert y >= top - 2 and y + h <= top + marked.height + 2, found.region


@pytest.mark.parametrize("above", [True, False])
def test_caption_bars_on_unmarked_photos_are_not_detected(above):
    for name in SAMPLE_NAMES:
        for share in (0.1, 0.25):
            found = detect_bytes(_captioned_jpeg(_photo(name), share, above))
            assert not found.detected, (name, share, found)
