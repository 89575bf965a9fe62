"""Held-out attacks, third set (48): what none of bench/robustness.py, bench/attacks.py and
bench/platforms.py tries. Newer and older codecs (AVIF at a platform's qualities, GIF palettes
of 256 and 64 colours with and without dithering, JPEG 35 with a player's deblocking), the
chains a picture goes through when it is forwarded between messengers, an upscaler's 2x and 4x
(Lanczos + sharpening), thumbnails, a phone's screenshot (status bar, rounded corners, a dark
app around it), print and scan, a video frame, tone edits (auto-levels, histogram
equalisation, local contrast, an HDR-like tone curve, a negative), denoisers (median, bilateral,
non-local means), greyscale + tint, deep and off-centre crops, rotations beyond the straighten
tool's 5 degrees, frames that are not one colour, a 2x2 collage with three other photos, and a
stock site's tiled logo over the picture.

Same photos, identifiers, detection and false-detection check as bench/attacks.py (``run``).
Table to stdout, JSON to bench/results/unseen.json.

    uv run python -m bench.unseen [--ids 2] [--only SUBSTRING]
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from bench.attacks import Attack, _Encoded, _jpeg
from bench.platforms import _chain, _float, _font, _jpeg420, _long_side, command
from bench.robustness import photos

RNG = np.random.default_rng(1214)


def _cap(pixels: int) -> Attack:
    """Resized so the long side is at most ``pixels`` (a messenger's cap: never enlarged)."""

    def attack(im: Image.Image) -> Image.Image:
        return im if max(im.size) <= pixels else _long_side(pixels)(im)

    return attack


def _avif(quality: int) -> Attack:
    return _Encoded("AVIF", quality=quality)


def _palette(colours: int, dither: bool) -> Attack:
    """Quantised to ``colours`` (median cut), Floyd-Steinberg dithered or not, saved as GIF."""

    def attack(im: Image.Image) -> Image.Image:
        how = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
        return _Encoded("GIF")(im.quantize(colours, dither=how))

    return attack


def _deblock(im: Image.Image) -> Image.Image:
    """A player's deblocking filter: the two pixels either side of every 8x8 block edge
    replaced by a 3x3 blur of them."""
    x = np.asarray(im.convert("RGB"))
    blurred = cv2.blur(x, (3, 3))
    edge = np.zeros(x.shape[:2], bool)
    edge[7::8, :] = edge[8::8, :] = True
    edge[:, 7::8] = edge[:, 8::8] = True
    return Image.fromarray(np.where(edge[..., None], blurred, x))


def _upscale(k: int, percent: int) -> Attack:
    """An upscaler: Lanczos x ``k``, then an unsharp mask of ``percent``."""

    def attack(im: Image.Image) -> Image.Image:
        big = im.resize((im.width * k, im.height * k), Image.Resampling.LANCZOS)
        return big.filter(ImageFilter.UnsharpMask(radius=1.5 * k, percent=percent, threshold=1))

    return attack


def _phone(im: Image.Image) -> Image.Image:
    """A phone's screenshot of the picture in a dark app: 1080 x 2340, a status bar (time,
    icons), the picture fitted to the width with rounded corners, a caption and buttons."""
    w, h = 1080, 2340
    page = Image.new("RGB", (w, h), (18, 18, 18))
    draw = ImageDraw.Draw(page)
    draw.text((48, 28), "21:48", fill=(240, 240, 240), font=_font(40))
    for i in range(4):
        draw.rectangle((w - 220 + 40 * i, 50 - 8 * i, w - 200 + 40 * i, 64), fill=(240,) * 3)
    draw.rounded_rectangle((w - 90, 34, w - 40, 64), radius=6, outline=(240,) * 3, width=3)
    draw.rectangle((0, 110, w, 250), fill=(30, 30, 30))
    draw.ellipse((40, 140, 120, 220), fill=(90, 120, 200))
    draw.text((150, 160), "someone_posted", fill=(235,) * 3, font=_font(40))
    shown = im.resize((w, round(im.height * w / im.width)), Image.Resampling.LANCZOS)
    mask = Image.new("L", shown.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *shown.size), radius=48, fill=255)
    top = 270
    page.paste(shown, (0, top), mask)
    y = top + shown.height + 40
    for i in range(4):
        draw.ellipse((48 + 120 * i, y, 108 + 120 * i, y + 60), outline=(235,) * 3, width=5)
    for line in range(6):
        yy = y + 120 + 64 * line
        draw.text((48, yy), "a caption about the picture #nofilter " * 2, fill=(210,) * 3)
    draw.rectangle((0, h - 160, w, h), fill=(10, 10, 10))
    draw.rounded_rectangle((w // 2 - 180, h - 40, w // 2 + 180, h - 28), radius=6, fill=(200,) * 3)
    return page


def _print_scan(im: Image.Image) -> Image.Image:
    """Printed and scanned: on a sheet with a white margin, a slight perspective and turn
    (0.7 degrees), the paper's white and the ink's black lifted, blurred (sigma 0.8), the
    scanner's noise (sigma 3)."""
    w, h = im.size
    m = round(0.04 * w)
    sheet = Image.new("RGB", (w + 2 * m, h + 2 * m), (255, 255, 255))
    sheet.paste(im, (m, m))
    sw, sh = sheet.size
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], dtype=np.float32)
    jitter = RNG.uniform(-0.008, 0.008, (4, 2)) * np.array([sw, sh])
    m_ = cv2.getPerspectiveTransform(src, (src + jitter).astype(np.float32))
    turn = cv2.getRotationMatrix2D((sw / 2, sh / 2), 0.7, 1.0)
    x = cv2.warpPerspective(np.asarray(sheet), m_, (sw, sh), borderValue=(250, 250, 250))
    x = cv2.warpAffine(x, turn, (sw, sh), borderValue=(250, 250, 250))
    y = cv2.GaussianBlur(x.astype(np.float32), (0, 0), 0.8)
    y = 18 + y * (236 - 18) / 255  # ink never black, paper never white
    y += RNG.normal(0, 3, y.shape[:2])[..., None]
    return Image.fromarray(np.clip(np.rint(y), 0, 255).astype(np.uint8))


def _video(im: Image.Image) -> Image.Image:
    """A video frame: fitted into 1280 x 720 (black bars), chroma at half resolution (4:2:0),
    a codec's softening (blur sigma 0.6)."""
    k = min(1280 / im.width, 720 / im.height)
    shown = im.resize((round(im.width * k), round(im.height * k)), Image.Resampling.BILINEAR)
    frame = Image.new("RGB", (1280, 720), (0, 0, 0))
    frame.paste(shown, ((1280 - shown.width) // 2, (720 - shown.height) // 2))
    ycc = cv2.cvtColor(np.asarray(frame), cv2.COLOR_RGB2YCrCb)
    for c in (1, 2):
        small = cv2.resize(ycc[..., c], (640, 360), interpolation=cv2.INTER_AREA)
        ycc[..., c] = cv2.resize(small, (1280, 720), interpolation=cv2.INTER_LINEAR)
    ycc[..., 0] = cv2.GaussianBlur(ycc[..., 0], (0, 0), 0.6)
    return Image.fromarray(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB))


def _clahe(im: Image.Image) -> Image.Image:
    """Local contrast (CLAHE on lightness, clip 3, 8x8 tiles): a phone's "enhance"."""
    lab = cv2.cvtColor(np.asarray(im.convert("RGB")), cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(3.0, (8, 8)).apply(lab[..., 0])
    return Image.fromarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))


def _hdr(x: np.ndarray) -> np.ndarray:
    """An HDR-like tone map: exposure x2.2, Reinhard x / (1 + x), gamma 0.8."""
    e = 2.2 * x
    return (e / (1 + e) * (1 + 2.2) / 2.2) ** 0.8


def _tint_grey(im: Image.Image) -> Image.Image:
    """Greyscale, then a duotone (navy shadows, cream highlights)."""
    return ImageOps.colorize(im.convert("L"), (20, 30, 70), (250, 235, 200)).convert("RGB")


def _crop_box(fx: float, fy: float, fw: float, fh: float) -> Attack:
    """The box at (fx, fy) of size (fw, fh), as shares of the width and height."""

    def attack(im: Image.Image) -> Image.Image:
        x, y = round(im.width * fx), round(im.height * fy)
        return im.crop((x, y, x + round(im.width * fw), y + round(im.height * fh)))

    return attack


def _aspect_crop(aspect: float, fx: float) -> Attack:
    """The largest box of ``aspect`` (width / height), its left at ``fx`` of the room left."""

    def attack(im: Image.Image) -> Image.Image:
        w, h = im.size
        cw, ch = (round(h * aspect), h) if w / h > aspect else (w, round(w / aspect))
        x, y = round((w - cw) * fx), (h - ch) // 2
        return im.crop((x, y, x + cw, y + ch))

    return attack


def _rotate_crop(degrees: float) -> Attack:
    """Turned by ``degrees`` and cropped to the centred box of half the width and height (no
    blank corners at up to ~25 degrees)."""

    def attack(im: Image.Image) -> Image.Image:
        turned = im.rotate(degrees, resample=Image.Resampling.BICUBIC)
        w, h = im.size
        return turned.crop((w // 4, h // 4, w // 4 + w // 2, h // 4 + h // 2))

    return attack


def _diamond(im: Image.Image) -> Image.Image:
    """Turned 45 degrees on a white ground, expanded (a "diamond" post)."""
    return im.rotate(45, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255,) * 3)


def _pad_to(aspect: float, colour: tuple[int, int, int]) -> Attack:
    """Padded to ``aspect`` (letterbox or pillarbox), centred."""

    def attack(im: Image.Image) -> Image.Image:
        w, h = im.size
        cw, ch = (w, round(w / aspect)) if w / h > aspect else (round(h * aspect), h)
        out = Image.new("RGB", (cw, ch), colour)
        out.paste(im, ((cw - w) // 2, (ch - h) // 2))
        return out

    return attack


def _gradient_frame(share: float) -> Attack:
    """A frame of ``share`` of the width a side, a vertical gradient from teal to orange with a
    thin white line inside (a frame filter: not one colour)."""

    def attack(im: Image.Image) -> Image.Image:
        d = round(im.width * share)
        w, h = im.width + 2 * d, im.height + 2 * d
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        ramp = (1 - t) * np.array([20, 140, 150]) + t * np.array([240, 140, 40])
        out = Image.fromarray(np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8))
        ImageDraw.Draw(out).rectangle(
            (d - 6, d - 6, d + im.width + 5, d + im.height + 5), fill=(255,) * 3
        )
        out.paste(im, (d, d))
        return out

    return attack


def _polaroid(im: Image.Image) -> Image.Image:
    """A polaroid-style frame: off-white, 5 % a side, 20 % under the picture, a handwritten-ish
    caption there."""
    d, b = round(im.width * 0.05), round(im.height * 0.2)
    out = Image.new("RGB", (im.width + 2 * d, im.height + d + b), (246, 244, 238))
    out.paste(im, (d, d))
    ImageDraw.Draw(out).text(
        (2 * d, im.height + d + b // 3), "summer '26", fill=(40, 40, 90), font=_font(b // 3)
    )
    return out


_OTHERS: list[Image.Image] = []


def _others() -> list[Image.Image]:
    """Three unmarked photos for a collage (the last three of ``photos()``, turned 180 degrees
    so none is the marked one's own pixels)."""
    if not _OTHERS:
        _OTHERS.extend(
            Image.fromarray(rgb).transpose(Image.Transpose.ROTATE_180) for _, rgb in photos()[-3:]
        )
    return _OTHERS


def _collage(im: Image.Image) -> Image.Image:
    """A 2x2 collage: the picture and three others, each centre-cropped to the picture's aspect
    and resized to half its size, 8 px white gutters."""
    w, h = im.width // 2, im.height // 2
    g = 8
    out = Image.new("RGB", (2 * w + 3 * g, 2 * h + 3 * g), (255, 255, 255))
    cells = [im, *_others()]
    spot = int(RNG.integers(0, 4))
    cells[0], cells[spot] = cells[spot], cells[0]
    for i, c in enumerate(cells):
        fitted = ImageOps.fit(c, (w, h), Image.Resampling.LANCZOS)
        out.paste(fitted, (g + (i % 2) * (w + g), g + (i // 2) * (h + g)))
    return out


def _stock(im: Image.Image) -> Image.Image:
    """A stock site's watermark: a white logo and name, 35 % opaque, tiled diagonally."""
    layer = Image.new("RGBA", (im.width * 2, im.height * 2), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = max(24, im.width // 18)
    font = _font(size)
    for y in range(0, layer.height, size * 4):
        for x in range((y // (size * 4)) % 2 * size * 3, layer.width, size * 7):
            draw.ellipse((x, y, x + size, y + size), outline=(255, 255, 255, 90), width=4)
            draw.text((x + size * 1.3, y), "STOCKPIX", fill=(255, 255, 255, 90), font=font)
    turned = layer.rotate(30, resample=Image.Resampling.BICUBIC)
    x, y = (turned.width - im.width) // 2, (turned.height - im.height) // 2
    out = im.convert("RGBA")
    out.alpha_composite(turned.crop((x, y, x + im.width, y + im.height)))
    return out.convert("RGB")


def _filtered(f: ImageFilter.Filter) -> Attack:
    return lambda im: im.filter(f)


def _bilateral(im: Image.Image) -> Image.Image:
    return Image.fromarray(cv2.bilateralFilter(np.asarray(im.convert("RGB")), 9, 40, 5))


def _nl_means(im: Image.Image) -> Image.Image:
    """A phone's denoiser: non-local means, strength 6, 5 px patches searched over 11 px."""
    x = np.asarray(im.convert("RGB"))
    return Image.fromarray(cv2.fastNlMeansDenoisingColored(x, None, 6, 6, 5, 11))


J85 = _jpeg(85)
#: PNG at zlib level 1: the same pixels as bench/attacks.py's, in a fraction of the time (a 4x
#: upscale or a phone screenshot is several megapixels).
_png = _Encoded("PNG", compress_level=1)
ATTACKS: dict[str, Attack] = {
    # Codecs.
    "avif q70": _avif(70),
    "avif q60": _avif(60),
    "avif q50": _avif(50),
    "avif q60 after 1080 long side": _chain(_long_side(1080), _avif(60)),
    "gif 256 colours, no dither": _palette(256, False),
    "gif 256 colours, dithered": _palette(256, True),
    "gif 64 colours, no dither": _palette(64, False),
    "gif 64 colours, dithered": _palette(64, True),
    "jpeg 35 4:2:0": _jpeg420(35),
    "jpeg 35 4:2:0, deblocked, png": _chain(_jpeg420(35), _deblock, _png),
    # Forwarded between messengers.
    "chain: cap 1600 q75, cap 1280 q70 (4:2:0)": _chain(
        _cap(1600), _jpeg420(75), _cap(1280), _jpeg420(70)
    ),
    "chain: 1080 q80, 960 q70, 720 q65": _chain(
        _long_side(1080), _jpeg420(80), _long_side(960), _jpeg420(70), _long_side(720), _jpeg420(65)
    ),
    "chain: q90, crop 3 px, q60 (grids misaligned)": _chain(
        _jpeg(90), lambda im: im.crop((3, 3, im.width - 3, im.height - 3)), _jpeg420(60)
    ),
    "chain: avif q60, then jpeg 75 4:2:0": _chain(_avif(60), _jpeg420(75)),
    # Sizes.
    "upscale 2x lanczos + sharpen, png": _chain(_upscale(2, 80), _png),
    "upscale 4x lanczos + sharpen, jpeg 90": _chain(_upscale(4, 120), _jpeg(90)),
    "thumbnail 512 px long side, jpeg 80": _chain(_long_side(512), _jpeg420(80)),
    "thumbnail 400 px long side, jpeg 80": _chain(_long_side(400), _jpeg420(80)),
    "thumbnail 320 px long side, jpeg 80": _chain(_long_side(320), _jpeg420(80)),
    # Captures.
    "phone screenshot, dark app, png": _chain(_phone, _png),
    "phone screenshot, dark app, jpeg 85": _chain(_phone, J85),
    "print and scan, jpeg 85": _chain(_print_scan, J85),
    "video frame 720p, yuv420, blur, jpeg 60": _chain(_video, _jpeg420(60)),
    # Tone.
    "auto-levels (2% cut), jpeg 85": _chain(lambda im: ImageOps.autocontrast(im, cutoff=2), J85),
    "histogram equalise, jpeg 85": _chain(ImageOps.equalize, J85),
    "local contrast (CLAHE 3), jpeg 85": _chain(_clahe, J85),
    "hdr-like tone map, jpeg 85": _chain(_float(_hdr), J85),
    "negative, jpeg 85": _chain(ImageOps.invert, J85),
    "greyscale + duotone tint, jpeg 85": _chain(_tint_grey, J85),
    # Denoisers.
    "median 3, jpeg 85": _chain(_filtered(ImageFilter.MedianFilter(3)), J85),
    "median 5, jpeg 85": _chain(_filtered(ImageFilter.MedianFilter(5)), J85),
    "bilateral d9, jpeg 85": _chain(_bilateral, J85),
    "non-local means h6, jpeg 85": _chain(_nl_means, J85),
    # Crops and turns.
    "crop 9:16, left, jpeg 85": _chain(_aspect_crop(9 / 16, 0.0), J85),
    "crop 1:1, right, jpeg 85": _chain(_aspect_crop(1.0, 1.0), J85),
    "crop 40% (corner), jpeg 85": _chain(_crop_box(0.05, 0.05, 0.4, 0.4), J85),
    "crop 35% (centre), jpeg 85": _chain(_crop_box(0.325, 0.325, 0.35, 0.35), J85),
    "rotate 90 + crop 60% off-centre, jpeg 80": _chain(
        lambda im: im.transpose(Image.Transpose.ROTATE_90), _crop_box(0.3, 0.1, 0.6, 0.6), _jpeg(80)
    ),
    "rotate 8 deg, crop half, jpeg 85": _chain(_rotate_crop(8), J85),
    "rotate -15 deg, crop half, jpeg 85": _chain(_rotate_crop(-15), J85),
    "rotate 30 deg, crop half, jpeg 85": _chain(_rotate_crop(30), J85),
    "diamond (45 deg on white), png": _chain(_diamond, _png),
    # Frames and overlays.
    "letterbox to 16:9 black, jpeg 85": _chain(_pad_to(16 / 9, (0, 0, 0)), J85),
    "pillarbox to 9:16 grey, jpeg 85": _chain(_pad_to(9 / 16, (240, 240, 240)), J85),
    "gradient frame 8%, jpeg 85": _chain(_gradient_frame(0.08), J85),
    "polaroid frame + caption, jpeg 85": _chain(_polaroid, J85),
    "2x2 collage with three photos, jpeg 85": _chain(_collage, J85),
    "stock logo tiled 35%, jpeg 85": _chain(_stock, J85),
}


def main() -> None:
    command(ATTACKS, "unseen", __doc__)


if __name__ == "__main__":
    main()
