"""Evidence that an image *is* a registered one: a stored reference, compared block by block.

A watermark says which manifest an image claims; it does not say the pixels are the ones that
were signed (the watermark key is public, so anyone can embed any identifier, and a 64-bit
perceptual hash can be steered by shifting a few DCT coefficients). So registering an image
also stores its *reference*: the luminance on the watermark's base grid (short side 256 px,
grey JPEG, a few KB). Recovery compares the submitted image with that reference after undoing
the geometry the watermark detector found (scale and tilt), finds the offset by normalised
cross-correlation, and then asks each 16x16 block of the overlap whether it agrees (SSIM). Only
when a large share of blocks agree is the image taken to be the registered one (or a crop of
it): matching them means reproducing the registered picture itself at 256 px, which is what
the claim is about, not a few numbers that summarise it.

Knows nothing of C2PA or the registry: pixels and bytes in, a frozen result out.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .watermark.codec import BASE, base_size

#: Side of the square blocks compared, in reference (base-grid) pixels.
BLOCK = 16
#: A textured block agrees when SSIM's contrast-structure term with the reference block is at
#: least this (and its mean is near); blocks flat on both sides (std under FLAT_STD levels)
#: must match their mean more closely instead.
BLOCK_STRUCTURE = 0.5
FLAT_STD = 2.5
#: Both must hold for the image to count as the registered one: the share of blocks that agree
#: and the correlation of the whole overlap. Measured (bench/forgery.py and its tuning run):
#: benign uploads (JPEG 50, crops to 50 %, 2 degree rotation, brightness/contrast) keep
#: >= 0.78 and >= 0.83; unrelated images steered to the registered pHash, or carrying a copy of
#: its watermark, stay <= 0.47 and <= 0.63.
MIN_AGREEING = 0.62
MIN_CORRELATION = 0.75
#: The share of the submitted image that must lie within the registered one: a larger picture
#: that merely contains it (a collage, an extended canvas) is not it. Crops and small
#: rotations stay at ~1.0.
MIN_COVERED = 0.9
#: Fewer blocks than this in the overlap (a tiny crop) is too little to tell.
MIN_BLOCKS = 24
#: Photometric changes undone before comparing (brightness/contrast edits of an upload).
_GAIN = (0.6, 1.7)
_C2 = (0.03 * 255) ** 2


@dataclass(frozen=True)
class Likeness:
    """How far an image agrees with a registered reference."""

    agreeing: float  #: share of compared blocks that agree (0..1)
    correlation: float  #: correlation of the whole overlap (-1..1)
    covered: float  #: share of the submitted image that lies within the registered one
    blocks: int  #: blocks compared
    offset: tuple[int, int]  #: where the image sits in the reference (x, y), base-grid pixels

    @property
    def same(self) -> bool:
        return (
            self.blocks >= MIN_BLOCKS
            and self.agreeing >= MIN_AGREEING
            and self.correlation >= MIN_CORRELATION
            and self.covered >= MIN_COVERED
        )


NONE = Likeness(0.0, 0.0, 0.0, 0, (0, 0))


def _base(luminance: np.ndarray) -> np.ndarray:
    h, w = luminance.shape[:2]
    bh, bw = base_size(h, w)
    # Shrink the 8-bit image by a whole factor first (OpenCV's fast path; a non-integer area
    # resize of a megapixel costs ~4x more), then to the grid; convert to float only then.
    k = min(h // bh, w // bw)
    if k >= 2:
        whole = luminance[: h // k * k, : w // k * k]
        luminance = cv2.resize(whole, (w // k, h // k), interpolation=cv2.INTER_AREA)
    small = cv2.resize(luminance, (bw, bh), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32)


def reference(luminance: np.ndarray) -> bytes:
    """The stored reference of a registered image (its luminance, any size): the luminance on
    the watermark's base grid as a grey JPEG."""
    y = np.clip(np.rint(_base(luminance)), 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", y, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:  # pragma: no cover - a valid uint8 array always encodes
        raise ValueError("cannot encode the reference")
    return encoded.tobytes()


def _decode_reference(data: bytes) -> np.ndarray | None:
    ref = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if ref is None or min(ref.shape) < BASE // 2:
        return None
    return ref.astype(np.float32)


def _into_reference(y: np.ndarray, scale: float, angle: float) -> np.ndarray:
    """The image resampled onto the reference's grid (scale and tilt undone), trimmed to the
    part that holds only image pixels (the corners a tilt brings in are cut off)."""
    h, w = y.shape
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    if size != (w, h):
        y = cv2.resize(y, size, interpolation=cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR)
    if abs(angle) < 0.05:
        return y
    h, w = y.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    y = cv2.warpAffine(y, turn, (w, h), flags=cv2.INTER_LINEAR)
    inset = int(np.ceil(abs(np.sin(np.radians(angle))) * max(h, w))) + 1
    return y[inset : h - inset, inset : w - inset]


def _agreeing(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Which BLOCK x BLOCK blocks of two equal-size images agree.

    A block with texture on either side agrees when its structure matches (SSIM's
    contrast-structure term) and its mean is close; a block flat on both sides (where
    "structure" is only noise, and always matches) must match its mean closely. Both, because
    either alone is weak: block means are the low frequencies that steering attacks shift.
    """
    bh, bw = ours.shape[0] // BLOCK, ours.shape[1] // BLOCK
    a = ours[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK)
    b = theirs[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK)
    ma, mb = a.mean(axis=(1, 3)), b.mean(axis=(1, 3))
    va, vb = a.var(axis=(1, 3)), b.var(axis=(1, 3))
    cov = (a * b).mean(axis=(1, 3)) - ma * mb
    structure = (2 * cov + _C2) / (va + vb + _C2)
    textured = np.maximum(va, vb) >= FLAT_STD**2
    spread, off = float(ours.std()), np.abs(ma - mb)
    return np.where(
        textured,
        (structure >= BLOCK_STRUCTURE) & (off <= 0.2 * spread + 3.0),
        off <= 0.1 * spread + 2.0,
    )


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-9))


def _locate(field: np.ndarray, image: np.ndarray) -> tuple[int, int]:
    """Where ``image`` best matches inside ``field`` (normalised cross-correlation): searched
    at half resolution, then refined at full resolution within two pixels (4x cheaper than
    a full-resolution search, same answer)."""
    coarse = cv2.matchTemplate(cv2.pyrDown(field), cv2.pyrDown(image), cv2.TM_CCOEFF_NORMED)
    _, _, _, (cx, cy) = cv2.minMaxLoc(coarse)
    h, w = image.shape
    x0 = min(max(2 * cx - 2, 0), field.shape[1] - w)
    y0 = min(max(2 * cy - 2, 0), field.shape[0] - h)
    window = field[y0 : y0 + h + 4, x0 : x0 + w + 4]
    fine = cv2.matchTemplate(window, image, cv2.TM_CCOEFF_NORMED)
    _, _, _, (fx, fy) = cv2.minMaxLoc(fine)
    return x0 + fx, y0 + fy


def compare(
    luminance: np.ndarray, stored: bytes, scale: float = 1.0, angle: float = 0.0
) -> Likeness:
    """Compare an image (its luminance, any size) with a stored :func:`reference`.

    ``scale`` and ``angle`` are the watermark detector's geometry (a crop to 60 % of the frame
    shows scale 1/0.6). The offset is searched over the whole reference, so any crop is found.
    """
    ref = _decode_reference(stored)
    if ref is None or not 0.2 < scale < 5:
        return NONE
    image = _into_reference(_base(luminance), scale, angle)
    if min(image.shape) < 2 * BLOCK:
        return NONE
    # Let the image overhang the reference a little: a full frame maps onto it within a pixel
    # or two, and the search must be able to find that offset.
    pad_y = max(0, image.shape[0] - ref.shape[0]) + 8
    pad_x = max(0, image.shape[1] - ref.shape[1]) + 8
    field = cv2.copyMakeBorder(ref, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REFLECT)
    px, py = _locate(field, image)
    x, y = px - pad_x, py - pad_y
    # The overlap of the placed image with the (unpadded) reference.
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + image.shape[1], ref.shape[1]), min(y + image.shape[0], ref.shape[0])
    if x1 - x0 < 2 * BLOCK or y1 - y0 < 2 * BLOCK:
        return NONE
    theirs = image[y0 - y : y1 - y, x0 - x : x1 - x]
    ours = ref[y0:y1, x0:x1]
    # Undo a brightness/contrast edit (a bounded gain, then the mean), never more; then blur a
    # little, so the watermark pattern itself (the same in a forgery that copies it) and
    # resampling noise do not count as structure.
    gain = float(np.clip(ours.std() / (theirs.std() + 1e-6), *_GAIN))
    theirs = (theirs - theirs.mean()) * gain + ours.mean()
    ours, theirs = (cv2.GaussianBlur(v, (0, 0), 1.0) for v in (ours, theirs))
    agree = _agreeing(ours, theirs)
    covered = (x1 - x0) * (y1 - y0) / (image.shape[0] * image.shape[1])
    return Likeness(
        float(agree.mean()),
        _correlation(ours, theirs),
        float(covered),
        int(agree.size),
        (int(x), int(y)),
    )
