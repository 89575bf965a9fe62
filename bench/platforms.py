"""Held-out attacks, second set: what platforms, photo apps and people do to a picture that
bench/robustness.py and bench/attacks.py do not try. A social network's pipeline (resized to a
1080 or 720 px long side, JPEG 70-80 with 4:2:0 chroma, sharpened; an upscale to 2048 and
JPEG 85), a photo app's filters (saturation and contrast curves, warm and cool tints, a
vignette, sepia, greyscale, gamma 0.8 / 1.2), Gaussian noise, a sticker or caption bar over
10-20 % of the picture, meme text, a slight keystone, a straightening tool (rotate 1-5 deg and
crop the blank corners), rescale + flip + JPEG, screenshots of a tilted, a mirrored or a small
picture in a page, a dark photo on a dark page, and chains of these.

Same photos, identifiers, detection and false-detection check as bench/attacks.py (``run``).
Table to stdout, JSON to bench/results/platforms.json.

    uv run python -m bench.platforms [--ids 2] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from bench.attacks import (
    J75,
    Attack,
    _Encoded,
    _jpeg,
    _layout,
    _png,
    _screenshot,
    _then,
    _transpose,
    run,
)

RNG = np.random.default_rng(1213)
FLIP_H = Image.Transpose.FLIP_LEFT_RIGHT


def _chain(*steps: Attack) -> Attack:
    def attack(im: Image.Image) -> Image.Image:
        for step in steps:
            im = step(im)
        return im

    return attack


def _jpeg420(quality: int) -> Attack:
    """JPEG with 4:2:0 chroma, no optimisation flags: what a platform's encoder writes."""
    return _Encoded("JPEG", quality=quality, subsampling=2)


def _long_side(pixels: int) -> Attack:
    """Resized so the long side is ``pixels`` (down or up), Lanczos, as an upload pipeline does."""

    def attack(im: Image.Image) -> Image.Image:
        k = pixels / max(im.size)
        return im.resize((round(im.width * k), round(im.height * k)), Image.Resampling.LANCZOS)

    return attack


def _scale(k: float) -> Attack:
    return lambda im: im.resize(
        (round(im.width * k), round(im.height * k)), Image.Resampling.BILINEAR
    )


def _sharpen(im: Image.Image) -> Image.Image:
    return im.filter(ImageFilter.UnsharpMask(radius=1.2, percent=60, threshold=2))


def _float(fn: Callable[[np.ndarray], np.ndarray]) -> Attack:
    """A filter on the image as floats in 0-1 (RGB, H x W x 3), rounded back to 8 bits."""

    def attack(im: Image.Image) -> Image.Image:
        x = np.asarray(im.convert("RGB"), dtype=np.float32) / 255
        y = fn(x)
        return Image.fromarray(np.clip(np.rint(y * 255), 0, 255).astype(np.uint8))

    return attack


def _curve(x: np.ndarray) -> np.ndarray:
    """An S-shaped contrast curve (a photo app's "contrast +" or "punch")."""
    return x + 0.35 * x * (1 - x) * (2 * x - 1) * 2


def _vivid(x: np.ndarray) -> np.ndarray:
    """Saturation x1.4 about each pixel's grey, then the S curve."""
    grey = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return _curve(np.clip(grey[..., None] + 1.4 * (x - grey[..., None]), 0, 1))


def _tint(gains: tuple[float, float, float]) -> Attack:
    return _float(lambda x: x * np.array(gains, dtype=np.float32))


def _gamma(g: float) -> Attack:
    return _float(lambda x: x**g)


def _vignette(x: np.ndarray) -> np.ndarray:
    """Darkened towards the corners, to 55 % of the level there."""
    h, w = x.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2)) / np.sqrt(2)
    return x * (1 - 0.45 * r**2)[..., None]


def _sepia(x: np.ndarray) -> np.ndarray:
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return x @ m.T.astype(np.float32)


def _greyscale(im: Image.Image) -> Image.Image:
    return im.convert("L").convert("RGB")


def _noise(sigma: float) -> Attack:
    """Gaussian noise of ``sigma`` levels, alike in R, G and B (a photo app's grain: all of it
    luminance, which is where the watermark is)."""

    def attack(im: Image.Image) -> Image.Image:
        x = np.asarray(im, dtype=np.float32)
        noisy = x + RNG.normal(0, sigma, x.shape[:2])[..., None] * np.ones(3, np.float32)
        return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))

    return attack


def _sticker(share: float) -> Attack:
    """A sticker (a coloured disc with a white outline) over ``share`` of the picture's area, at
    a random place."""

    def attack(im: Image.Image) -> Image.Image:
        out = im.copy()
        r = round((share * im.width * im.height / np.pi) ** 0.5)
        cx = int(RNG.integers(r, im.width - r))
        cy = int(RNG.integers(r, im.height - r))
        draw = ImageDraw.Draw(out)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255))
        draw.ellipse((cx - r + 8, cy - r + 8, cx + r - 8, cy + r - 8), fill=(250, 200, 40))
        draw.text((cx - r // 2, cy - r // 4), "WOW", fill=(40, 30, 20), font=_font(r // 2))
        return out

    return attack


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(size, 10))


def _caption_bar(share: float) -> Attack:
    """A white caption bar over the bottom ``share`` of the picture, with a line of text."""

    def attack(im: Image.Image) -> Image.Image:
        out = im.copy()
        top = round(im.height * (1 - share))
        draw = ImageDraw.Draw(out)
        draw.rectangle((0, top, im.width, im.height), fill=(255, 255, 255))
        size = round(im.height * share * 0.4)
        draw.text(
            (24, top + size // 2),
            "when the build passes first try",
            fill=(0, 0, 0),
            font=_font(size),
        )
        return out

    return attack


def _meme(im: Image.Image) -> Image.Image:
    """Meme text: big white capitals with a black outline at the top and the bottom."""
    out = im.copy()
    draw = ImageDraw.Draw(out)
    size = round(im.height * 0.11)
    font = _font(size)
    for y, text in (
        (round(im.height * 0.03), "ONE DOES NOT SIMPLY"),
        (round(im.height * 0.84), "STRIP A WATERMARK"),
    ):
        width = draw.textlength(text, font=font)
        x = max(4, round((im.width - width) / 2))
        draw.text(
            (x, y),
            text,
            fill=(255, 255, 255),
            font=font,
            stroke_width=max(2, size // 14),
            stroke_fill=(0, 0, 0),
        )
    return out


def _keystone(share: float) -> Attack:
    """A slight perspective: the top edge narrowed by ``share`` of the width on each side (a
    phone held a little tilted back), the blank corners cropped off."""

    def attack(im: Image.Image) -> Image.Image:
        w, h = im.size
        d = share * w
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        dst = np.array([[d, 0], [w - d, 0], [w, h], [0, h]], dtype=np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        out = cv2.warpPerspective(np.asarray(im), m, (w, h), flags=cv2.INTER_LINEAR)
        c = round(d) + 2
        return Image.fromarray(out[2 : h - 2, c : w - c])

    return attack


def _straighten(degrees: float, keep_size: bool = False) -> Attack:
    """Rotated by ``degrees`` and cropped to the largest upright rectangle of the same aspect
    inside it (a photo app's straighten tool); with ``keep_size`` resized back to the size."""

    def attack(im: Image.Image) -> Image.Image:
        w, h = im.size
        turned = im.rotate(degrees, resample=Image.Resampling.BICUBIC)
        a = np.radians(abs(degrees))
        # The largest centred w:h rectangle inside the turned w x h frame.
        k = min(w / (w * np.cos(a) + h * np.sin(a)), h / (w * np.sin(a) + h * np.cos(a)))
        cw, ch = int(w * k) - 2, int(h * k) - 2
        x, y = (w - cw) // 2, (h - ch) // 2
        out = turned.crop((x, y, x + cw, y + ch))
        return out.resize((w, h), Image.Resampling.BICUBIC) if keep_size else out

    return attack


def _tilted(degrees: float) -> Attack:
    """The picture turned by ``degrees`` on a white ground (a photo shown tilted in a page,
    a polaroid-style post), the corners left white."""
    return lambda im: im.rotate(
        degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255)
    )


def _stretch(kx: float, ky: float) -> Attack:
    """Resized without keeping the aspect ratio (a picture fitted to a box by its width and
    height both)."""
    return lambda im: im.resize(
        (round(im.width * kx), round(im.height * ky)), Image.Resampling.BILINEAR
    )


def _fill(aspect: float, width: int) -> Attack:
    """Centre-cropped to ``aspect`` (width / height) and resized to ``width`` (a feed's 4:5 or
    square crop)."""

    def attack(im: Image.Image) -> Image.Image:
        w, h = im.size
        cw, ch = (round(h * aspect), h) if w / h > aspect else (w, round(w / aspect))
        x, y = (w - cw) // 2, (h - ch) // 2
        box = im.crop((x, y, x + cw, y + ch))
        return box.resize((width, round(width / aspect)), Image.Resampling.LANCZOS)

    return attack


def _story(im: Image.Image) -> Image.Image:
    """A 1080 x 1920 story frame: the picture fitted to the width over an enlarged, blurred copy
    of itself."""
    k = 1080 / im.width
    shown = im.resize((1080, round(im.height * k)), Image.Resampling.LANCZOS)
    g = 1920 / im.height
    back = im.resize((round(im.width * g), 1920), Image.Resampling.BILINEAR)
    x = (back.width - 1080) // 2
    frame = back.crop((x, 0, x + 1080, 1920)).filter(ImageFilter.GaussianBlur(24))
    frame.paste(shown, (0, (1920 - shown.height) // 2))
    return frame


def _dark(im: Image.Image) -> Image.Image:
    """A dark photo: levels x0.35, gamma 1.3 (a night scene)."""
    return _float(lambda x: 0.35 * x**1.3)(im)


SOCIAL_1080 = _then(_long_side(1080), _jpeg420(75))
ATTACKS: dict[str, Attack] = {
    # A social network's upload pipelines.
    "social: 1080 long side, jpeg 75 4:2:0": SOCIAL_1080,
    "social: 1080 long side, jpeg 70 4:2:0": _then(_long_side(1080), _jpeg420(70)),
    "social: 1080, sharpen, jpeg 80 4:2:0": _chain(_long_side(1080), _sharpen, _jpeg420(80)),
    "social: 720 long side, jpeg 75 4:2:0": _then(_long_side(720), _jpeg420(75)),
    "social: 2048 long side (up), jpeg 85": _then(_long_side(2048), _jpeg420(85)),
    "social: 1080 jpeg 75, re-shared at 720 jpeg 75": _chain(
        SOCIAL_1080, _long_side(720), _jpeg420(75)
    ),
    "feed: centre crop to 4:5, 1080 x 1350, jpeg 75 4:2:0": _then(_fill(0.8, 1080), _jpeg420(75)),
    "feed: centre crop to square, 1080, jpeg 75 4:2:0": _then(_fill(1.0, 1080), _jpeg420(75)),
    "story: 1080 x 1920 over its blurred copy, jpeg 80 4:2:0": _then(_story, _jpeg420(80)),
    "stretch 8% wide, jpeg 85": _then(_stretch(1.08, 1.0), _jpeg(85)),
    "squeeze 5% high, jpeg 85": _then(_stretch(1.0, 0.95), _jpeg(85)),
    # A photo app's filters, saved as JPEG 85.
    "filter: vivid (saturation 1.4 + S curve), jpeg 85": _then(_float(_vivid), _jpeg(85)),
    "filter: warm tint, jpeg 85": _then(_tint((1.08, 1.0, 0.88)), _jpeg(85)),
    "filter: cool tint, jpeg 85": _then(_tint((0.9, 1.0, 1.1)), _jpeg(85)),
    "filter: vignette, jpeg 85": _then(_float(_vignette), _jpeg(85)),
    "filter: sepia, jpeg 85": _then(_float(_sepia), _jpeg(85)),
    "filter: greyscale, jpeg 85": _then(_greyscale, _jpeg(85)),
    "filter: gamma 0.8, jpeg 85": _then(_gamma(0.8), _jpeg(85)),
    "filter: gamma 1.2, jpeg 85": _then(_gamma(1.2), _jpeg(85)),
    "filter: saturation 0 + contrast 1.3 (PIL), jpeg 85": _chain(
        lambda im: ImageEnhance.Contrast(ImageEnhance.Color(im).enhance(0.0)).enhance(1.3),
        _jpeg(85),
    ),
    "noise sigma 5, jpeg 85": _then(_noise(5), _jpeg(85)),
    "noise sigma 10, jpeg 85": _then(_noise(10), _jpeg(85)),
    # Things drawn over the picture.
    "sticker 10%, jpeg 85": _then(_sticker(0.10), _jpeg(85)),
    "sticker 20%, jpeg 85": _then(_sticker(0.20), _jpeg(85)),
    "caption bar 15% bottom, jpeg 85": _then(_caption_bar(0.15), _jpeg(85)),
    "meme text top and bottom, jpeg 85": _then(_meme, _jpeg(85)),
    # Geometry.
    "keystone 2%, crop, jpeg 85": _then(_keystone(0.02), _jpeg(85)),
    "keystone 4%, crop, jpeg 85": _then(_keystone(0.04), _jpeg(85)),
    "straighten 1 deg, crop, jpeg 85": _then(_straighten(1), _jpeg(85)),
    "straighten 3 deg, crop, jpeg 85": _then(_straighten(3), _jpeg(85)),
    "straighten 5 deg, crop, jpeg 85": _then(_straighten(5), _jpeg(85)),
    "straighten -4 deg, crop, resized back, jpeg 85": _then(_straighten(-4, True), _jpeg(85)),
    "rescale 70% + flip H + jpeg 75": _chain(_scale(0.7), _transpose(FLIP_H), J75),
    "rescale 130% + flip H + jpeg 80": _chain(_scale(1.3), _transpose(FLIP_H), _jpeg(80)),
    # Screenshots.
    "screenshot, tilted 2 deg, 75%, 60% of side, png": _chain(
        _tilted(2), _screenshot(0.75, 0.6), _png
    ),
    "screenshot, tilted -4 deg, 100%, 70% of side, jpeg 85": _chain(
        _tilted(-4), _screenshot(1.0, 0.7), _jpeg(85)
    ),
    "screenshot, flipped + 60%, 50% of side, png": _chain(
        _transpose(FLIP_H), _screenshot(0.6, 0.5), _png
    ),
    "screenshot, flipped + 80%, 60% of side, jpeg 85": _chain(
        _transpose(FLIP_H), _screenshot(0.8, 0.6), _jpeg(85)
    ),
    "screenshot, 50%, 35% of side, png": _then(_screenshot(0.5, 0.35), _png),
    "screenshot, 50%, 30% of side, jpeg 85": _then(_screenshot(0.5, 0.30), _jpeg(85)),
    "screenshot, 40%, 25% of side, png": _then(_screenshot(0.4, 0.25), _png),
    "page dark, dark photo, 45% of side, png": _chain(_dark, _layout("dark", 0.45), _png),
    "page dark, dark photo, 80% of side, jpeg 85": _chain(_dark, _layout("dark", 0.8), _jpeg(85)),
    # Chains.
    "vivid + warm + 1080 jpeg 75 4:2:0": _chain(
        _float(_vivid), _tint((1.08, 1.0, 0.88)), SOCIAL_1080
    ),
    "straighten 2 deg + caption bar 12% + 1080 jpeg 75": _chain(
        _straighten(2), _caption_bar(0.12), SOCIAL_1080
    ),
    "flip H + sticker 15% + 1080 jpeg 70": _chain(
        _transpose(FLIP_H), _sticker(0.15), _long_side(1080), _jpeg420(70)
    ),
    "meme text + vignette + 720 jpeg 75": _chain(
        _meme, _float(_vignette), _long_side(720), _jpeg420(75)
    ),
    "screenshot 75% 60% png, then 1080 jpeg 75": _chain(_screenshot(0.75, 0.6), _png, SOCIAL_1080),
    # Last, so that the rows above keep their placements and identifiers.
    "screenshot, tilted 5 deg, 100%, 70% of side, png": _chain(
        _tilted(5), _screenshot(1.0, 0.7), _png
    ),
}


def command(attacks: dict[str, Attack], name: str, doc: str | None) -> None:
    """A held-out bench's command line (this one's, bench/unseen.py's): its ``attacks`` run as
    ``run`` runs them, the results written as ``name``.json."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--ids", type=int, default=2, help="identifiers per photo")
    parser.add_argument(
        "--only",
        default="",
        help="run only the attacks whose name has this (or one of these, separated by |)",
    )
    parser.add_argument("--unmarked", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    wanted = args.only.split("|")
    chosen = {n: a for n, a in attacks.items() if any(w in n for w in wanted)}
    run(chosen, args.ids, args.unmarked, name)


def main() -> None:
    command(ATTACKS, "platforms", __doc__)


if __name__ == "__main__":
    main()
