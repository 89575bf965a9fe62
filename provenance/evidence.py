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

from .watermark.codec import BASE, base_size, on_base_grid, unorient

#: Side of the square blocks compared, in reference (base-grid) pixels.
BLOCK = 16
#: A textured block agrees when SSIM's contrast-structure term with the reference block is at
#: least this (and its mean is near); blocks flat on both sides (std under FLAT_STD levels)
#: must match their mean more closely instead.
BLOCK_STRUCTURE = 0.5
FLAT_STD = 2.5
#: Both must hold for the image to count as the registered one: the share of blocks that agree
#: and the correlation of the whole overlap. Measured (bench/forgery.py, 711 benign uploads
#: whose watermark decoded, 127 forged ones whose watermark named the registered image):
#: benign uploads (JPEG 50, crops to 50 %, 2 degree rotation, brightness/contrast) keep
#: >= 0.78 and >= 0.83 (0.58 for a faint texture: see QUANTISATION_NOISE); unrelated images
#: steered to the registered pHash, or carrying a copy of its watermark, stay <= 0.56 and
#: <= 0.67 (none within 0.32 of passing both).
MIN_AGREEING = 0.62
MIN_CORRELATION = 0.75
#: ... of a reference with contrast to spare. Quantisation noise (8-bit rounding, JPEG) caps
#: the correlation a faint reference can reach: with reference contrast s (std, levels, on the
#: blurred grid) and noise n, about s / sqrt(s^2 + n^2). So MIN_CORRELATION is scaled by that
#: ceiling, n being what a JPEG 50 upload adds (measured: a near-isoluminant texture with
#: s = 0.54 reaches 0.90 at JPEG 90 and 0.58 at JPEG 50): no change above ~4 levels (0.74),
#: 0.44 at s = 0.54. An unrelated image correlates under 0.15 with such faint references.
QUANTISATION_NOISE = 0.75
#: The share of the submitted image that must lie within the registered one: a larger picture
#: that merely contains it (a collage, an extended canvas) is not it. Crops and small
#: rotations stay at ~1.0.
MIN_COVERED = 0.9
#: Fewer blocks than this in the overlap (a tiny crop) is too little to tell.
MIN_BLOCKS = 24
#: The largest connected group of disagreeing blocks (4-neighbours), as a share of the blocks
#: compared, must stay under this: an image that is the registered one but for one region (a
#: face swapped, an object inpainted over a fifth of it, another picture pasted in) is not the
#: picture that was signed, though the share of agreeing blocks alone lets 38 % differ.
#: Measured (bench/forgery.py --extra --redteam, 55 images): benign uploads leave groups of at
#: most 0.08, but for 4 of 1,155 now refused (a generated plain backdrop whose flat subject a
#: global colour filter shifts as a whole: 0.20-0.22; a generated sky after brightness +20 %:
#: 0.105); other content over 10-30 % of the picture leaves 0.10-0.37 (10 %: 5 of 60 under).
MAX_EDITED = 0.1
#: A channel at or above this level is taken as clipped (a brightened or contrast-stretched
#: upload pushes bright colours past 255; what is lost there is unknown, only its sign).
CLIPPED_LEVEL = 250
#: A block whose upload pixels are at least this share clipped, and that is flat on both sides,
#: is judged one-sidedly: clipping only ever lowers a pixel below the photometric fit, by at
#: most CLIPPED_DROP of its level (brightness +20 % of a pure colour loses under 17 %).
CLIPPED_SHARE = 0.5
CLIPPED_DROP = 0.25
#: Clipping is allowed for only when at least this share of the overlap is unclipped: the
#: edit is fitted on those pixels (an upload clipped nearly everywhere is judged as it is).
MIN_UNCLIPPED = 0.5
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
    contrast: float = 0.0  #: std of the compared part of the reference (levels, blurred)
    #: share of the compared blocks in the largest connected group that disagrees (an edit)
    edited: float = 0.0
    #: share of the registered image this one shows (a crop shows part of it), 0..1
    shown: float = 1.0

    @property
    def min_correlation(self) -> float:
        """The correlation required: MIN_CORRELATION, less what quantisation noise takes from
        a faint reference."""
        ceiling = self.contrast / np.hypot(self.contrast, QUANTISATION_NOISE)
        return MIN_CORRELATION * float(ceiling)

    @property
    def same(self) -> bool:
        return (
            self.blocks >= MIN_BLOCKS
            and self.agreeing >= MIN_AGREEING
            and self.correlation >= self.min_correlation
            and self.covered >= MIN_COVERED
            and self.edited < MAX_EDITED
        )


NONE = Likeness(0.0, 0.0, 0.0, 0, (0, 0))


def _base(luminance: np.ndarray) -> np.ndarray:
    h, w = luminance.shape[:2]
    bh, bw = base_size(h, w)
    # Shrink the 8-bit image by a whole factor first (OpenCV's fast path; a non-integer area
    # resize of a megapixel costs ~4x more), then to the full image's grid (the shrunk one's
    # can be a pixel wider); convert to float only then.
    k = min(h // bh, w // bw)
    small = luminance
    if k >= 2:
        whole = luminance[: h // k * k, : w // k * k]
        small = cv2.resize(whole, (w // k, h // k), interpolation=cv2.INTER_AREA)
    return on_base_grid(small, luminance.shape).astype(np.float32)


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


def _into_reference(y: np.ndarray, scale: float, angle: float, aspect: float = 1.0) -> np.ndarray:
    """The image resampled onto the reference's grid (scale, ``aspect`` and tilt undone),
    trimmed to the part that holds only image pixels (the corners a tilt brings in are cut
    off)."""
    h, w = y.shape
    root = float(np.sqrt(aspect))
    size = (max(1, round(w * root / scale)), max(1, round(h / (scale * root))))
    if size != (w, h):
        y = cv2.resize(y, size, interpolation=cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR)
    if abs(angle) < 0.05:
        return y
    h, w = y.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    y = cv2.warpAffine(y, turn, (w, h), flags=cv2.INTER_LINEAR)
    inset = int(np.ceil(abs(np.sin(np.radians(angle))) * max(h, w))) + 1
    return y[inset : h - inset, inset : w - inset]


def _upright(y: np.ndarray, orientation: int) -> np.ndarray:
    """``y`` mirrored and turned back to the registered image's orientation (contiguous, as
    OpenCV wants it)."""
    return y if orientation == 0 else np.ascontiguousarray(unorient(y, orientation))


def _blocks(v: np.ndarray) -> np.ndarray:
    bh, bw = v.shape[0] // BLOCK, v.shape[1] // BLOCK
    return v[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK)


def _agreeing(
    ours: np.ndarray,
    theirs: np.ndarray,
    clipped: tuple[np.ndarray, float] | None = None,
) -> np.ndarray:
    """Which BLOCK x BLOCK blocks of two equal-size images agree.

    A block with texture on either side agrees when its structure matches (SSIM's
    contrast-structure term) and its mean is close; a block flat on both sides (where
    "structure" is only noise, and always matches) must match its mean closely. Both, because
    either alone is weak: block means are the low frequencies that steering attacks shift.

    ``clipped`` (which upload pixels were clipped, same size, and by how much of its level a
    clipped pixel may fall below the fit): a flat block mostly clipped in the upload may lie
    below the fit by up to that much (a brightened pure colour loses what went past 255, so
    its luminance no longer follows the gain) but never above it.
    """
    a, b = _blocks(ours), _blocks(theirs)
    ma, mb = a.mean(axis=(1, 3)), b.mean(axis=(1, 3))
    va, vb = a.var(axis=(1, 3)), b.var(axis=(1, 3))
    cov = (a * b).mean(axis=(1, 3)) - ma * mb
    structure = (2 * cov + _C2) / (va + vb + _C2)
    textured = np.maximum(va, vb) >= FLAT_STD**2
    spread, off = float(ours.std()), np.abs(ma - mb)
    flat_tolerance = 0.1 * spread + 2.0
    flat_agrees = off <= flat_tolerance
    if clipped is not None:
        where, drop = clipped
        lost = _blocks(where.astype(np.float32)).mean(axis=(1, 3)) >= CLIPPED_SHARE
        below = (mb <= ma + flat_tolerance) & (mb >= ma * (1 - drop) - flat_tolerance)
        flat_agrees = np.where(lost, below, flat_agrees)
    return np.where(
        textured,
        (structure >= BLOCK_STRUCTURE) & (off <= 0.2 * spread + 3.0),
        flat_agrees,
    )


def _largest_group(agree: np.ndarray) -> float:
    """The largest 4-connected group of disagreeing blocks, as a share of all blocks: one
    region that differs (an edit), where benign noise leaves scattered blocks."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((~agree).astype(np.uint8), connectivity=4)
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / agree.size if count > 1 else 0.0


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


def clipped_mask(rgb: np.ndarray) -> np.ndarray:
    """Where an upload's colours are clipped (any channel >= CLIPPED_LEVEL), as 0/1: ``rgb``
    is its (H, W, 3) colours on the luminance's grid (``watermark.Decoded.rgb``), or (H, W)
    for a grey upload."""
    if rgb.ndim == 2:
        return (rgb >= CLIPPED_LEVEL).astype(np.uint8)
    # Channel by channel: numpy's max over a last axis of 3 is ~100x slower than this.
    brightest = np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
    return (brightest >= CLIPPED_LEVEL).astype(np.uint8)


def compare(
    luminance: np.ndarray,
    stored: bytes,
    scale: float = 1.0,
    angle: float = 0.0,
    clipped: np.ndarray | None = None,
    orientation: int = 0,
    region: tuple[int, int, int, int] | None = None,
    aspect: float = 1.0,
) -> Likeness:
    """Compare an image (its luminance, any size) with a stored :func:`reference`.

    ``scale`` and ``angle`` are the watermark detector's geometry (a crop to 60 % of the frame
    shows scale 1/0.6), ``orientation`` its mirroring or right-angle turn (``codec.orient``),
    undone after them. The offset is searched over the whole reference, so any crop is found.
    ``clipped`` (:func:`clipped_mask` of the same decode, so on the luminance's grid) makes the
    comparison tolerate colours clipped by a brightness or contrast edit.

    ``region`` (x, y, width, height): where the detector found the marked picture inside a
    larger canvas (a screenshot, a border). Only that part is compared, and ``covered`` counts
    the rest of the image as outside the registered one: the picture may be the registered
    image, the canvas around it is not (a caption beside a signed photo is not signed), so
    such an image is never the same as the registered one.

    ``aspect``: the detector's ratio of y's scale to x's (``codec.Detection.aspect``: an image
    resized without its aspect ratio), undone with the scale.
    """
    if clipped is not None and clipped.shape != luminance.shape[:2]:
        raise ValueError(
            f"the clipped mask is {clipped.shape}, the luminance {luminance.shape[:2]}: "
            "make both from one decode (watermark.decode_for_detection)"
        )
    ref = _decode_reference(stored)
    if ref is None or not 0.2 < scale < 5:
        return NONE
    share = 1.0
    if region is not None:
        x, y, w, h = region
        whole = luminance.shape[0] * luminance.shape[1]
        luminance = luminance[y : y + h, x : x + w]
        clipped = None if clipped is None else clipped[y : y + h, x : x + w]
        share = luminance.shape[0] * luminance.shape[1] / whole
        if min(luminance.shape[:2]) < 2 * BLOCK:
            return NONE
    base = _base(luminance)
    footprint = base.shape[0] * base.shape[1] / scale**2
    image = _upright(_into_reference(base, scale, angle, aspect), orientation)
    # The mask through the same resampling as the image.
    lost = (
        None
        if clipped is None
        else _upright(
            _into_reference(_base(clipped.astype(np.float32)), scale, angle, aspect), orientation
        )
    )
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
    clipped_here = None if lost is None else lost[y0 - y : y1 - y, x0 - x : x1 - x] >= 0.5
    if clipped_here is not None and not MIN_UNCLIPPED <= 1 - clipped_here.mean() < 1:
        clipped_here = None  # nothing clipped, or too much to fit the edit on the rest
    # Undo a brightness/contrast edit (a bounded gain, then the mean), never more, fitted on
    # the pixels the edit did not clip (clipped ones fall short of it and would skew it);
    # then blur a little, so the watermark pattern itself (the same in a forgery that copies
    # it) and resampling noise do not count as structure.
    fit = np.ones(ours.shape, bool) if clipped_here is None else ~clipped_here
    gain = float(np.clip(ours[fit].std() / (theirs[fit].std() + 1e-6), *_GAIN))
    theirs = (theirs - theirs[fit].mean()) * gain + ours[fit].mean()
    ours, theirs = (cv2.GaussianBlur(v, (0, 0), 1.0) for v in (ours, theirs))
    # A clipped pixel lies below the fit by at most what the brightening (1 / gain) added.
    drop = float(np.clip(1 - gain, 0, CLIPPED_DROP))
    agree = _agreeing(ours, theirs, None if clipped_here is None else (clipped_here, drop))
    covered = (x1 - x0) * (y1 - y0) / (image.shape[0] * image.shape[1]) * share
    return Likeness(
        float(agree.mean()),
        _correlation(ours, theirs),
        float(covered),
        int(agree.size),
        (int(x), int(y)),
        float(ours.std()),
        _largest_group(agree),
        # The image's footprint on the reference before the tilt's corners were trimmed, so a
        # rotated copy of the whole still shows all of it.
        min(1.0, footprint / (ref.shape[0] * ref.shape[1])),
    )
