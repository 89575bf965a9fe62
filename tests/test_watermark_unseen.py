"""What bench/unseen.py found the detector missing, and fixed: a crop to 40 % or 35 % of the
frame (a detail zoomed in on), whose tile period on the crop's base grid (80, 91) lay past the
45 % (period 71) the lattice search stopped at."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

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
