"""Our watermark codec: tiled spread-spectrum in luminance, with geometric re-synchronisation.

Design (``org.provenance.ssw.1``; not registered with the C2PA):

* **Scale-free grid.** The pattern lives on a *base grid*: the image resized so its short side
  is 256 px. Embedding draws the pattern there and adds its up-scaled residual to the
  full-resolution luminance, so any resize of the whole image leaves the pattern where the
  detector (which resizes to the same base grid) expects it, and embedding costs one resize.
* **Tiles.** The pattern is a 32x32 tile repeated over the grid. The detector sums all tiles
  (folding): host content averages out, the pattern adds up; a crop keeps whole tiles.
* **Spread spectrum.** Each tile is a weighted sum of 141 mutually orthogonal +-1 chip patterns
  (rows of a keyed, permuted Hadamard matrix): one for synchronisation, one per coded bit.
* **Whitening.** The detector high-passes the luminance (minus a median at edges, so a step
  leaves no residual), weights it by its inverse local variance, and folds (``_whiten``).
* **Re-synchronisation.** A crop shifts the tiles (found by cross-correlating the folded tile
  with the sync pattern) and changes the scale of the base grid; a rotation tilts it. When the
  plain fold fails, the detector finds candidate tile lattices (period and angle) in the
  spectrum of the image's high-pass residual, by power (``_lattices``: where the pattern is
  strong) and coherently (``_scanned``: the sync matched filter read from the spectrum at the
  lattice frequencies of every upright period and small tilt, where it is weak), undoes each,
  and folds again.
* **Invisibility.** The tile is high-passed the way the detector high-passes the image (no
  energy spent on low-frequency mottling the detector never sees) and added at an even
  AMPLITUDE levels RMS; in the full-resolution 8x8 blocks that are flat (what the eye sees as a
  sky or skin) it is capped at FLAT_CAP, or at most SMOOTH_CAP when the whole image is smooth,
  and there gathered into a quarter of the area at twice the amplitude, which JPEG's and
  WebP's quantisers keep where they erase an even faint pattern (``_flat_factor``), and made
  constant over 4x4 pixel blocks, what WebP keeps of it (``_coarsen``). Near black,
  where the eye barely resolves a level, blocks carry at least DARK_CAP (a mostly black photo).
  A mostly textured image whose texture drowns the pattern for the detector (cloud cover) has
  it moved from heavy to moderate texture and raised there (``_texture_gain``).
  bench/quality.py measures it (flat-block RMS, NVIDIA FLIP against a JPEG q95 re-save).
* **Mirrors and right-angle turns** keep an upright lattice upright at the same period, and
  turn the folded tile the same way: every fold is correlated with the sync pattern in the
  eight orientations (``orient``), a turned one's z counted TURNED_PENALTY lower.
* **Canvases.** A picture inside a larger canvas (a border, padding to a square, a screenshot
  of a page) has its tiles shrunk on the canvas's base grid below the periods searched. When
  the canvas's frame is flat, the picture's box (``content_box``: a one-coloured border
  trimmed, or the largest hole in a drawn page) is searched
  as an image of its own, and a detection there says where (``Detection.region``).
* **Decoding.** A lattice fold is resampled with anti-aliasing and, once it passes the sync
  gates, folded again in phase with the pattern for its bits; a list Viterbi decoder offers the
  check bits the LIST likeliest messages when the likeliest fails them.
* **Decision.** A payload is reported when its 20 check bits agree and the fold is
  synchronised: the sync peak stands SYNC_Z deviations up, or LOW_Z with a clean decode.

Detection is a few numpy FFTs on a 256 px image, whatever the input size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, lru_cache

import cv2
import numpy as np

from . import payload, pixels
from .canvas import Canvas
from .pixels import luminance

#: Part of the codec's interface (``watermark.DETECT_MIN_SIDE``, the benches).
DETECT_MIN_SIDE = pixels.DETECT_MIN_SIDE

ALG = "org.provenance.ssw.1"
BASE = 256
PERIOD = 32
#: Public default key: anyone may detect (that is the point of a soft binding).
DEFAULT_KEY = b"org.provenance.ssw.1 public key"
#: Share of the pattern's energy given to the synchronisation pattern.
SYNC_SHARE = 0.2
#: The pattern's RMS on the base grid (8-bit levels) wherever the image is not flat; ``strength``
#: scales it (STRENGTH is the default). Even, not a JND mask growing with texture: NVIDIA's FLIP
#: sees no texture masking (a texture-driven mask, 1.2 levels + 1 per level of texture up to 4,
#: was 1.5x the FLIP of a JPEG q95 re-save on Adobe Firefly's cat, 1.35x on the Hubble photo),
#: while the detector weights texture down (``_whiten``), so energy there bought little.
AMPLITUDE = 1.65
#: In full-resolution 8x8 blocks that are flat, the amplitude is capped at FLAT_CAP, rising to
#: SMOOTH_CAP on an image smooth almost everywhere (see ``_flat_factor``).
FLAT_CAP = 0.42
SMOOTH_CAP = 1.2
#: Blocks (flat or not) whose mean luminance is at most DARK_FULL levels carry at least DARK_CAP
#: levels RMS, ramping down to nothing at DARK_END: sRGB's steps there are tiny luminance steps
#: the eye barely resolves, while the flat cap left a mostly black photo's background nearly
#: empty. On the Apollo Earth photo (cloud.jpg, 35 % black flat blocks) at 1 MP: FLIP 0.0164
#: -> 0.0194 (its JPEG q95 re-save: 0.0235), sync z after a 90 % crop 5.8 -> 9.5 (a third of
#: identifiers failed it before). At DARK_CAP 1.65 FLIP reached the q95 re-save's 0.0235.
#: Not mirrored at white: there a level is as visible as in mid-tones, and a shift off 255
#: to keep the pattern's positive half (tried) tripled a white backdrop's flat-block RMS.
DARK_CAP = 1.0
DARK_FULL = 8.0
DARK_END = 24.0
#: Flat blocks whose mean is at least WHITE_CLIP or at most BLACK_CLIP levels carry none of
#: the pattern (before the dark lift above): at 255 or 0 half of it clips away, and the other
#: half is a one-signed speckle on the backdrop. A product on a white backdrop: FLIP 0.0088 ->
#: 0.0043 (its JPEG q95 re-save: 0.0066); a night scene (smooth, so hardly any dark lift):
#: 0.0079 -> 0.0047 (q95: 0.0060); both still decode after WebP 80, JPEG 50, crops to 90, 80
#: and 50 % + JPEG 75 (8 identifiers each).
WHITE_CLIP = 250.0
BLACK_CLIP = 6.0
#: On such an image the blocks that are not flat (the edges of an illustration's shapes, a
#: glow) carry (1 + SMOOTH_BOOST) times the amplitude: WebP 80 and JPEG 50 quantise the flat
#: ones to nothing, and a flat-coloured illustration has little else. Ramped like the cap.
SMOOTH_BOOST = 1.5
#: Lattices of the peak vote's shortlist that the comb ranks. 24, not 40: the upright and the
#: plain grid's tilted lattices, where most finds were, are the coherent scan's now; on the
#: bench's photos and rotate+crop/resize combinations 24 found all 40 did, ~1 ms sooner.
FINALISTS = 24
COARSE = 12
#: A fold this well synchronised, though not enough, is worth refining its lattice for. Noise
#: reaches it in 17 % of the spectral folds (a third of unmarked images; ~0.8 ms each: the comb
#: search and a fold), but no cheaper test tells a misregistered mark from it first: of the
#: marked folds that decoded only once refined (crops to 50-70 %, alone or with a resize, WebP
#: or JPEG, on the bench's 23 photos), the sync z went down to 3.50, the fold's energy share
#: in the bits' span to 119 / 1024 (noise: 140 +- 16), the coherent sync z within half a scan
#: step to 3.5 and the comb to 1.07 (each noise's median), and the Earth photo cropped to 60 %
#: had all of them at noise level; refused unless its share or coherent z stood out (a sixth
#: of noise's refinements left), two such crops of it (to 55 and 60 %) went undetected.
REFINE_Z = 3.5
#: A refined fold this well synchronised that still does not decode is polished (``_polish``).
#: Noise's polished folds (5.6 % of 1500 unmarked images, ~3 ms each) held 104-177 / 1024 of
#: their energy in the bits' span, the marked folds only polishing made decode 181-262: too
#: close to refuse noise its polish on the share.
POLISH_Z = 4.0
HARMONICS = 16
#: How many lattices the spectral search hands on (the best upright one always among them);
#: the coherent scan adds its own (SCAN_KEEP). Three and one folded a fold more per unmarked
#: image for no detection gained on the bench's photos.
SPECTRAL = 2
#: The marginals' best UPRIGHT local maxima are ranked on the 2-D comb at their own periods,
#: and the best UPRIGHT_FINE searched around (see ``_upright``). A crop to half the Earth
#: photo (cloud texture; + JPEG 75) put period 64 at rank 1-12 of the marginals' maxima, where
#: the 2-D comb ranks it first: of 32 identifiers 9 decoded with the best 4 searched around,
#: 17 with 8 ranked and 2 searched (fewer comb reads than the 4: 0.31 ms, was 0.40).
UPRIGHT = 8
UPRIGHT_FINE = 2
#: ``_upright`` reads the 2-D comb at each marginal maximum and this many of its periods (0.4 %
#: apart) either side, 1.2 %: of 87 identifiers' crops to half the Earth photo + JPEG 75, 71
#: decoded (53 before; reading all 7 periods within 1.2 %: 69, for twice the comb reads).
UPRIGHT_REACH = 3
#: Mean normalised power at the points of a doubled period's lattice that the period's own
#: lattice lacks, above which the doubled period is taken (the background is 1).
DOUBLE = 1.08
STRENGTH = 1.0
#: A fold is considered synchronised when the sync correlation peak stands this many standard
#: deviations above the correlation surface (chance over 1024 shifts: about 1e-6).
SYNC_Z = 5.0
#: A fold whose sync peak is weaker, down to LOW_Z, is still accepted when its decode is clean:
#: at most CLEAN of the 140 coded bits' hard decisions disagree with the re-encoded message.
#: The sync pattern carries a fifth of the energy, the bits the rest, so after a crop to half
#: the frame (a quarter of the tiles) and JPEG the bits often decode perfectly while the sync
#: peak stands only 3.8-5 deviations up. Of 3120 unmarked folds (random crops of the photos and
#: generated images on random lattices) none reached z 5, and none came within 16 disagreements
#: (fewest 17, median 27): the second way in is as rare as the first; the 20 check bits come on
#: top of both.
LOW_Z = 3.8
#: Below HALF_Z, Viterbi runs only if the fold's energy in the 141 patterns' span, over its total
#: energy, is at least SPAN_SHARE / 1024 (noise: 141 / 1024; unmarked folds at most 189 of 768
#: measured; a decode clean enough for CLEAN needs a per-bit SNR of ~1.3, about 300).
SPAN_SHARE = 220.0
CLEAN = 14
#: (sync z, most disagreements) pairs that accept: a clean decode from LOW_Z, and a stronger
#: sync peak with a decode that needed more correcting (a flat icon after WebP 80: z 4.99,
#: every bit right, 24 corrected). Of 3120 unmarked folds, 4 reached z 4.5 and one of them
#: came within 24 (23): this tier about doubles the chance that the check bits are consulted.
HALF_Z = 4.5
CLEAN_TIERS = ((LOW_Z, CLEAN), (HALF_Z, 24))
#: When the best decode of a fold whose sync peak reaches LIST_Z fails the check bits, the
#: LIST most likely messages are tried in turn (``payload.list_viterbi``): at a per-bit SNR
#: near 1 the right one is often not the first (Firefly's cat after crop 50 % + JPEG 75, sync
#: z 6.3-6.6 with 18-25 of 140 hard decisions wrong; a sky and a flat illustration after WebP
#: 80 or JPEG 50, z 5.6-7.1). Such a fold gives a wrong message at most LIST chances of 2^-20
#: instead of one (1.5e-5), times the rate of unmarked folds reaching LIST_Z.
LIST = 16
#: LIST_Z is above SYNC_Z because the coherent lattice scan (the best of ~260 folds) takes
#: unmarked folds past SYNC_Z: 3 of 600 unmarked images had one at z 5.03-5.36, and a list
#: there asked the check bits 54 times instead of 11. None reached 5.5. Below LIST_Z the best
#: path alone is tried, as before; the tiers' disagreement limits gate it below SYNC_Z.
LIST_Z = 5.5
MIN_SIDE = 256


@dataclass(frozen=True)
class Patterns:
    sync: np.ndarray  # (PERIOD, PERIOD)
    bits: np.ndarray  # (CODED_BITS, PERIOD * PERIOD)
    #: ``bits`` in double precision, what the detector reads its (double) folds with: a float32
    #: matrix times a float64 vector is numpy's unblocked mixed-type loop, which cast the
    #: 140 x 1024 matrix on every call (0.1 ms, seven times the product itself; up to ten
    #: reads per unmarked image). The same products but for the summation's order.
    bits_double: np.ndarray  # (CODED_BITS, PERIOD * PERIOD), float64
    #: conj(FFT(sync)): what every fold's spectrum is multiplied by to correlate with it.
    sync_conj: np.ndarray  # (PERIOD, PERIOD), complex
    #: conj(FFT(orient(sync, o))) for each of the ORIENTATIONS (``[0]`` is ``sync_conj``).
    oriented_conj: np.ndarray  # (ORIENTATIONS, PERIOD, PERIOD), complex
    #: ... their half spectra (a real tile's), and their power spectra, flattened.
    oriented_half: np.ndarray  # (ORIENTATIONS, PERIOD, PERIOD // 2 + 1), complex
    oriented_power: np.ndarray  # (ORIENTATIONS, PERIOD * PERIOD)


#: The eight ways an image can be turned by right angles and mirrored on its pixel grid
#: (``orient``). They keep an upright tile lattice upright and its period unchanged (the base
#: grid's short side is the image's short side either way), so a mirrored or turned image's
#: fold is the tile turned the same way: the detector correlates every fold with the sync
#: pattern in all eight orientations (8 small FFTs) and reads the bits from the best one.
ORIENTATIONS = 8
#: The best of eight orientations stands higher on noise than one: on 600 unmarked folds
#: (120 images, 5 upright periods) the sync z's median went 3.13 -> 3.69, its 90th
#: percentile 3.69 -> 4.13, its 99th 4.28 -> 4.63. A turned orientation's z is counted this
#: much lower, so that every gate (refining, polishing, the acceptance tiers, the list
#: decoder) sees noise as it did with one; an upright mark is read as before.
TURNED_PENALTY = 0.8


def orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """``a`` (an image or a tile, rows first) mirrored left-right if ``orientation`` >= 4, then
    turned counter-clockwise by ``orientation`` % 4 right angles: orientation 4 is a mirror
    flip, 1 PIL's ``ROTATE_90``, 2 a half turn, 6 a flip upside down."""
    flipped = a[:, ::-1] if orientation >= 4 else a
    return np.rot90(flipped, orientation % 4)


def unorient(a: np.ndarray, orientation: int) -> np.ndarray:
    """The inverse of ``orient``: ``unorient(orient(a, o), o)`` is ``a``."""
    turned = np.rot90(a, -(orientation % 4))
    return turned[:, ::-1] if orientation >= 4 else turned


def _hadamard(n: int) -> np.ndarray:
    h = np.array([[1]], dtype=np.int8)
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


_PATTERNS: dict[bytes, Patterns] = {}


def patterns(key: bytes = DEFAULT_KEY) -> Patterns:
    """The keyed chip patterns (cached per key)."""
    if key not in _PATTERNS:
        seed = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
        rng = np.random.default_rng(seed)
        n = PERIOD * PERIOD
        h = _hadamard(n).astype(np.float32)
        rows = rng.choice(np.arange(1, n), payload.CODED_BITS + 1, replace=False)  # no DC row
        chosen = h[rows][:, rng.permutation(n)] * rng.choice([-1.0, 1.0], n).astype(np.float32)
        sync = chosen[0].reshape(PERIOD, PERIOD)
        oriented = np.conj(np.fft.fft2([orient(sync, o) for o in range(ORIENTATIONS)]))
        half = np.ascontiguousarray(oriented[:, :, : PERIOD // 2 + 1])
        power = np.square(np.abs(oriented)).reshape(ORIENTATIONS, -1)
        bits = chosen[1:]
        _PATTERNS[key] = Patterns(
            sync, bits, bits.astype(np.float64), oriented[0], oriented, half, power
        )
    return _PATTERNS[key]


def base_size(height: int, width: int) -> tuple[int, int]:
    scale = BASE / min(height, width)
    return max(BASE, round(height * scale)), max(BASE, round(width * scale))


def tile(identifier: int, key: bytes = DEFAULT_KEY) -> np.ndarray:
    """The unit-variance 32x32 tile that carries ``identifier``."""
    pats = patterns(key)
    coded = payload.encode(payload.pack(identifier, key)).astype(np.float32) * 2 - 1
    n = len(coded)
    w_sync = np.sqrt(SYNC_SHARE / (1 - SYNC_SHARE) * n)
    t = w_sync * pats.sync.ravel() + coded @ pats.bits
    return (t / np.sqrt(w_sync**2 + n)).reshape(PERIOD, PERIOD)


def _local_var(img: np.ndarray, size: int = 5) -> np.ndarray:
    mean = cv2.blur(img, (size, size))
    sq = cv2.blur(img * img, (size, size))
    # max(sq - mean^2, 0), in place: a detection makes no full-size temporary it can avoid.
    np.multiply(mean, mean, out=mean)
    np.subtract(sq, mean, out=sq)
    return np.maximum(sq, 0, out=sq)


def _periodic_highpass(t: np.ndarray) -> np.ndarray:
    """``t`` minus its Gaussian blur (sigma 1, wrapping around the tile), unit variance.

    The detector high-passes the image the same way before it correlates (``_whiten``), so the
    tile's low frequencies would be spent on visible mottling the detector never sees: embedding
    the high-passed tile (the matched filter) gives more signal for the same energy, and a
    residual spectrum without low-frequency blotches.
    """
    n = t.shape[0]
    blurred = cv2.GaussianBlur(np.tile(t, (3, 3)), (0, 0), 1.0)[n : 2 * n, n : 2 * n]
    hp = t - blurred
    return (hp / hp.std()).astype(np.float32)


def residual_base(
    size: tuple[int, int], identifier: int, key: bytes = DEFAULT_KEY, strength: float = STRENGTH
) -> np.ndarray:
    """The luminance change on a base grid of ``size`` (height, width): the high-passed tile,
    tiled, at AMPLITUDE levels RMS (times ``strength``)."""
    bh, bw = size
    reps = (bh // PERIOD + 1, bw // PERIOD + 1)
    pattern = np.tile(_periodic_highpass(tile(identifier, key)), reps)[:bh, :bw]
    return (pattern * (AMPLITUDE * strength)).astype(np.float32)


#: Rows per band when the residual is applied at full resolution: bounds the float temporaries.
BAND = 64
#: 8x8 blocks whose luminance std is under FLAT_STD levels are *flat*: there the eye sees grain
#: the base-grid mask (4-16 px per base pixel) cannot tell from its textured neighbours.
BLOCK = 8
FLAT_STD = 1.5
POOL_SIDE = 1024


def _block_stats(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Luminance mean and standard deviation of each 8x8 block (remainders join the last).

    On large images it is measured over the k x k blocks around each one, k = short side //
    POOL_SIDE: at 12 MP an 8x8 block is two thirds of a base-grid pixel, over which the pattern
    is nearly constant, so pixel-scale flatness no longer says whether its grain would show
    (an up-scaled photo is 'flat' in half its 8x8 blocks yet textured at the pattern's scale).
    """
    h, w = rgb.shape[:2]
    gh, gw = max(1, h // BLOCK), max(1, w // BLOCK)
    mean = np.empty((gh, gw), np.float32)
    square = np.empty((gh, gw), np.float32)
    for top in range(0, gh * BLOCK, BAND):
        rows = min(BAND, gh * BLOCK - top)
        y = cv2.cvtColor(rgb[top : top + rows, : gw * BLOCK], cv2.COLOR_RGB2GRAY)
        y = y.astype(np.float32)
        size = (gw, rows // BLOCK)
        mean[top // BLOCK : (top + rows) // BLOCK] = cv2.resize(
            y, size, interpolation=cv2.INTER_AREA
        )
        square[top // BLOCK : (top + rows) // BLOCK] = cv2.resize(
            y * y, size, interpolation=cv2.INTER_AREA
        )
    pool = max(1, min(h, w) // POOL_SIDE)
    if pool > 1:
        mean, square = cv2.blur(mean, (pool, pool)), cv2.blur(square, (pool, pool))
    # Minus the variance that rounding to 8 bits adds (1/12).
    return mean, np.sqrt(np.maximum(square - mean * mean - 1 / 12, 0))


#: On a smooth image the flat blocks' pattern is gathered into one cell out of each 2 x 2
#: cells, picked at random with a fixed seed, at twice the amplitude (the same energy), the
#: other three left untouched. JPEG and WebP quantisation has a dead zone: a DCT coefficient
#: under half its step becomes zero, so a faint even pattern on a sky is mostly erased, while
#: the same energy in a quarter of the area survives (see ``_flat_factor``). A cell is a whole
#: number of 16 px WebP macroblocks spanning about CELL_BASE base-grid pixels: at 1 MP one
#: macroblock; at 12 MP, where a base pixel is 12 px, four, or each cell would hold one nearly
#: constant step of the pattern and show as a faint square.
CELL_BASE = 5.0
SPARSE_SEED = 20261126


@lru_cache(maxsize=8)
def _sparse_cells(gh: int, gw: int, cell: int) -> np.ndarray:
    """Per 8x8 block: whether it is in a cell (``cell`` x ``cell`` blocks) that carries the
    pattern on a smooth image."""
    rng = np.random.default_rng(SPARSE_SEED)
    cy, cx = -(-gh // cell), -(-gw // cell)
    pick = rng.integers(0, 4, (-(-cy // 2), -(-cx // 2)))
    yy, xx = np.mgrid[0:cy, 0:cx]
    on = (yy % 2) * 2 + (xx % 2) == pick[yy // 2, xx // 2]
    on = np.repeat(np.repeat(on, cell, axis=0), cell, axis=1)[:gh, :gw]
    on.flags.writeable = False
    return on


def _cell_blocks(height: int, width: int) -> int:
    """Side of a gathering cell in 8x8 blocks: whole macroblocks, about CELL_BASE base pixels."""
    base_pixel = min(height, width) / BASE
    return 2 * max(1, round(CELL_BASE * base_pixel / (2 * BLOCK)))


def _flat_factor(rgb: np.ndarray, amplitude: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-block factor on the residual (in flat blocks, the amplitude is capped), and per
    block how far its change is made constant over 4x4 pixels (``COARSE_BOX``, ``_coarsen``).

    An image with texture elsewhere carries the watermark there (cap FLAT_CAP); a fully smooth
    one (a sky, a backdrop) has nowhere else, so the cap rises to SMOOTH_CAP as the flat share
    goes from 60 % to 95 % of the blocks, and its other blocks get up to 1 + SMOOTH_BOOST times
    the amplitude. On such an image the flat blocks' energy is also gathered into a quarter of
    them (``_sparse_cells``), ramped the same way: WebP 80 and JPEG 50 erase an even faint
    pattern on a sky (about 5 % and 15 % of its amplitude survives at 0.67 levels RMS), not
    one twice as strong. On 40 generated skies after WebP 80, even at SMOOTH_CAP 1.45: sync z
    7.0 (median), 39 decoded; even at 1.2: z 6.1, 21; gathered at 1.2: z 8.2, 39, with the
    flat-block RMS 0.94 -> 0.75 levels and FLIP on the sky gradient 0.0208 -> 0.0088 (q95
    re-save: 0.0259).
    """
    mean, std = _block_stats(rgb)
    flat = std < FLAT_STD
    share = float(flat.mean())
    smooth = float(np.clip((share - 0.6) / 0.35, 0, 1))
    cap = FLAT_CAP + (SMOOTH_CAP - FLAT_CAP) * smooth
    factor = min(1.0, cap / max(amplitude, 1e-3))
    # The same energy either way: a quarter at sqrt(1 + 3s), three quarters at sqrt(1 - s).
    cells = _sparse_cells(*flat.shape, _cell_blocks(*rgb.shape[:2]))
    on, off = factor * float(np.sqrt(1 + 3 * smooth)), factor * float(np.sqrt(1 - smooth))
    gathered: np.ndarray = np.where(cells, on, off)
    result = np.where(flat, gathered, 1.0 + SMOOTH_BOOST * smooth)
    result[flat & ((mean >= WHITE_CLIP) | (mean <= BLACK_CLIP))] = 0.0
    # Near black the eye sees a level's step least (sRGB's dark steps are tiny luminance steps):
    # there the flat cap gives way to DARK_CAP. Not on a smooth image, whose flat blocks have
    # the raised cap already (a night scene: FLIP 0.0097 -> 0.0136 for no detection gained).
    dark = np.clip((DARK_END - mean) / (DARK_END - DARK_FULL), 0.0, 1.0)
    lift = DARK_CAP / max(amplitude, 1e-3) * (1.0 - smooth) * dark
    coarse = np.where(flat, np.float32(smooth), np.float32(0.0))
    return np.maximum(result, lift).astype(np.float32), coarse


#: In the flat blocks of a smooth image the change is made constant over each 4x4 pixel block
#: of the image's grid (its mean there, ``_coarsen``): WebP codes a macroblock as sixteen 4x4
#: transforms, and a flat one's 4x4 means (their DC terms, quantised finely) are what WebP 80
#: keeps, while the finer part of the pattern, erased anyway, is what a person sees as speckle
#: at 2x zoom. On 40 generated skies (1024x768, gathered cells at SMOOTH_CAP 1.2) WebP 80,
#: JPEG 50 and crop 50 % + JPEG 75 still all decode (median sync z 7.7 -> 7.1, 9.0 -> 6.5,
#: 9.4 -> 6.1); on the noiseless sky gradient FLIP at half the pixels per degree (2x zoom)
#: goes 0.0102 -> 0.0069, and its worst 8x8 blocks (99th percentile) 0.052 -> 0.042. A
#: Gaussian blur of the change instead (sigma 1 px) lost WebP 80 on 26 of the 40.
COARSE_BOX = 4


def _coarsen(band: np.ndarray, weight: np.ndarray) -> None:
    """Move ``band`` (rows from a multiple of COARSE_BOX) towards its COARSE_BOX x COARSE_BOX
    block means by ``weight`` (0-1 per pixel: the image's smoothness, ramped like the gathered
    cells, in flat blocks); a remainder narrower than a box at the right or bottom is left."""
    rows, width = band.shape
    r, c = rows - rows % COARSE_BOX, width - width % COARSE_BOX
    if r == 0:
        return  # the image's last band is under a box tall (a height of 64k + 1 to 3 rows)
    means = cv2.resize(
        band[:r, :c], (c // COARSE_BOX, r // COARSE_BOX), interpolation=cv2.INTER_AREA
    )
    boxed = cv2.resize(means, (c, r), interpolation=cv2.INTER_NEAREST)
    # band += weight * (boxed - band), in place.
    boxed -= band[:r, :c]
    boxed *= weight[:r, :c]
    band[:r, :c] += boxed


#: In the coarsened (gathered) flat blocks of a smooth image each 8x8 block's change is scaled
#: towards the RMS such a block carries on average, by (target / rms) ** EQUALISE, the gain
#: clipped to [1 / EQUALISE_MAX, EQUALISE_MAX] (``_equalise``). FLIP's error in an 8x8 block at
#: 2x zoom follows the block's mean |change|, so its worst blocks are the blocks where the
#: pattern peaks. On the noiseless sky gradient at 2x zoom the worst blocks go 0.0426 -> 0.0361
#: (12 MP: 0.0711 -> 0.0591), the mean 0.0068 -> 0.0074, and 40 generated skies all still
#: decode after WebP 80, JPEG 50 and crop 50 % + JPEG 75 (median sync z 7.09 -> 6.84, 6.53 ->
#: 6.20, 6.74 -> 6.61). At 1 the worst blocks are no lower (0.0365) and JPEG 50 loses 2 of
#: the 40; at 0.5, 0.0375. Off (0, the embedding byte for byte as without it): at 0.75 two
#: real flat files of bench/forgery.py's 55 stopped decoding (C_with_CAWG_data.jpg after WebP
#: 80, sync z 6.67 -> 5.75; the TrustNXT icon after brightness +20 %, 5.58 -> 4.47), and the
#: faint mottle at 2x stays visible either way. ``bench/quality.py --sweep`` still tries it.
EQUALISE = 0.0
EQUALISE_MAX = 2.5


def _upsampled(
    base: np.ndarray, sx: float, sy: float, top: int, width: int, rows: int
) -> np.ndarray:
    """Rows top..top+rows (``width`` wide) of ``base`` up-sampled by 1/sx, 1/sy: the same
    sampling as cv2.resize(INTER_LINEAR), a band at a time."""
    matrix = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, (top + 0.5) * sy - 0.5]], dtype=np.float32)
    return cv2.warpAffine(
        base,
        matrix,
        (width, rows),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _coarse_rms(base: np.ndarray, sx: float, sy: float, weight: float) -> float:
    """The RMS of the base pattern up-sampled (``embed``'s sampling) and coarsened by
    ``weight`` over one tile period at full resolution: what an 8x8 block carries on average
    per unit of its factor."""
    side = -(-int(np.ceil(PERIOD / min(sx, sy))) // BLOCK) * BLOCK
    sample = _upsampled(base, sx, sy, 0, side, side)
    _coarsen(sample, np.full_like(sample, weight))
    return float(np.sqrt(np.mean(sample * sample)))


def _equalise(band: np.ndarray, target: np.ndarray, weight: np.ndarray) -> None:
    """Scale each whole 8x8 block of ``band`` towards the RMS ``target`` (per block, the rows
    of ``factor`` the band spans, times ``_coarse_rms``), by the block's ``weight`` (0-1, the
    coarsening's); a remainder under a block at the bottom or right keeps its change."""
    rows, width = band.shape
    n, gw = rows // BLOCK, width // BLOCK
    if n == 0:
        return
    r, c = n * BLOCK, gw * BLOCK
    square = cv2.resize(band[:r, :c] * band[:r, :c], (gw, n), interpolation=cv2.INTER_AREA)
    rms = np.sqrt(square)
    gain = np.clip(
        (target[:n, :gw] / np.maximum(rms, 1e-4)) ** EQUALISE, 1 / EQUALISE_MAX, EQUALISE_MAX
    )
    gain = 1 + weight[:n, :gw] * (gain - 1)
    band[:r, :c] *= cv2.resize(gain.astype(np.float32), (c, r), interpolation=cv2.INTER_NEAREST)


#: Base-grid pixels whose host residual (the detector's, ``_whiten``: the luminance minus its
#: Gaussian blur) has a local standard deviation of at least TEXTURE_STD levels are textured:
#: there the pattern's amplitude follows the detector rather than staying even
#: (``_texture_gain``). Below it the flat caps of ``_flat_factor`` rule, untouched.
TEXTURE_STD = 2.0
#: How drowned an image's texture is: the mean, over its textured pixels, of 1 / (s^2 + 5) for
#: a residual deviation s (the detector's per-pixel SNR^2 for a unit amplitude; 5: its
#: variance floor plus the pattern's own). From TEXTURE_SNR down to TEXTURE_SNR_FULL the
#: pattern's energy is moved ever more from heavy to moderate texture and raised, up to
#: TEXTURE_BOOST times at TEXTURE_SNR_FULL (``_texture_gain``). The Apollo Earth photo: 0.012;
#: the bench's other mostly textured photos and generated images 0.019-0.08 (0.019: a dense
#: studio shot, nearly untouched; from 0.02 nothing changes).
TEXTURE_SNR = 0.02
TEXTURE_SNR_FULL = 0.014
#: Only on an image textured in at least TEXTURE_SHARE of its base grid: a smooth image's
#: pattern lives in its flat areas and along its edges (``_flat_factor``), not here.
TEXTURE_SHARE = 0.5
#: The gain median(s) / s is clipped to [TEXTURE_MIN, TEXTURE_MAX] before its mean square
#: over the textured pixels is made 1 (the same energy), then raised by the boost.
TEXTURE_MIN = 0.2
TEXTURE_MAX = 2.0
TEXTURE_BOOST = 1.45


def _texture_gain(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """Per base-grid pixel: the factor on the pattern's amplitude of a mostly textured image
    whose texture drowns the pattern, or None (the even amplitude) for any other image.

    The detector weights each pixel by the inverse of its residual's local variance s^2
    (``_whiten``), so a pixel's share of the signal-to-noise ratio is amplitude^2 / s^2: the
    even amplitude spends most of its energy in heavy texture, where the detector throws it
    away. On the Apollo Earth photo (cloud texture, s 5-33 levels, median 19 in the middle of
    the disk) a crop to 60 % or to 50 % + JPEG 75 left the sync peak at z 3.9 / 3.2 with 22 /
    34 of 140 coded bits wrong at the true lattice, and no identifier decoded. Moving the
    energy from heavy to moderate texture (gain ~ 1 / s, the same energy) gave z ~4.4 with 17
    wrong for FLIP 0.0197 -> 0.0161 (FLIP, like the detector, charges heavy texture's bright,
    high-contrast pixels more than the dark moderate ones); the boost spends that FLIP back
    on the signal: z 6.2 / 4.6 with 10 / 17 wrong (medians of 16 identifiers), 14 and 7 of
    16 identifiers decode, FLIP 0.0193 -> 0.0224 (its JPEG q95 re-save: 0.0235). More (a
    steeper gain, a boost of 2: z 7.2 / 5.7 at the same FLIP) showed as grain on the photo's
    smooth desert at 2x zoom, which FLIP's mean does not see (its 99th percentile: 0.058 on
    the even amplitude, 0.088 here, 0.127 there).
    Not on every image: the move alone cost a less drowned photo (cards_trusted.jpg) its
    crop to 50 % + JPEG 75, JPEG erasing more of the pattern in moderate texture.
    """
    bh, bw = size
    # Subsampled to at most twice the base grid, then grey, then the area resize: a 12 MP
    # image's full area resize cost 20 ms, this 3 (1.3 at 1 MP); the gain only needs the
    # texture's local level.
    step = max(1, min(rgb.shape[:2]) // (2 * BASE))
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[::step, ::step]), cv2.COLOR_RGB2GRAY)
    y = cv2.resize(grey, (bw, bh), interpolation=cv2.INTER_AREA).astype(np.float32)
    s = np.sqrt(_local_var(y - cv2.GaussianBlur(y, (0, 0), 1.0)))
    textured = s >= TEXTURE_STD
    if textured.mean() < TEXTURE_SHARE:
        return None
    tex = s[textured]
    drowned = (TEXTURE_SNR - float(np.mean(1.0 / (tex * tex + 5.0)))) / (
        TEXTURE_SNR - TEXTURE_SNR_FULL
    )
    if drowned <= 0:
        return None
    drowned = min(drowned, 1.0)
    gain = np.clip(float(np.median(tex)) / np.maximum(s, 1e-3), TEXTURE_MIN, TEXTURE_MAX)
    gain **= drowned
    gain *= (1 + (TEXTURE_BOOST - 1) * drowned) / np.sqrt(float(np.mean(gain[textured] ** 2)))
    return np.where(textured, gain, 1.0).astype(np.float32)


def _per_pixel(blocks: np.ndarray, rows: int, width: int) -> np.ndarray:
    """Per-block values spread over their 8x8 pixels (edge remainders take the last block's)."""
    n, gw = blocks.shape
    spread = cv2.resize(blocks, (gw * BLOCK, n * BLOCK), interpolation=cv2.INTER_NEAREST)
    below, right = max(0, rows - n * BLOCK), width - gw * BLOCK
    return cv2.copyMakeBorder(spread, 0, below, 0, right, cv2.BORDER_REPLICATE)[:rows]


def embed(
    rgb: np.ndarray,
    identifier: int,
    *,
    key: bytes = DEFAULT_KEY,
    strength: float = STRENGTH,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Return a watermarked copy of an RGB uint8 image (H, W, 3); ``out=rgb`` marks in place.

    The residual is drawn on the base grid and up-sampled (bilinear) one band of rows at a
    time, so no full-resolution float copy of the image is ever made; the same luminance
    change goes to R, G and B.
    """
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image is {w}x{h}; the watermark needs a short side of {MIN_SIDE} px")
    bh, bw = base_size(h, w)
    base = residual_base((bh, bw), identifier, key, strength)
    gain = _texture_gain(rgb, (bh, bw))
    if gain is not None:
        base *= gain
    factor, coarse = _flat_factor(rgb, AMPLITUDE * strength)
    gh = factor.shape[0]
    out = np.empty_like(rgb) if out is None else out
    sx, sy = bw / w, bh / h
    smooth = float(coarse.max())
    unit = _coarse_rms(base, sx, sy, smooth) if smooth and EQUALISE else 0.0
    for top in range(0, h, BAND):
        rows = min(BAND, h - top)
        band = _upsampled(base, sx, sy, top, w, rows)
        # The flat-block factor, one value per 8x8 block (remainders join the last block).
        first = top // BLOCK
        index = np.minimum(np.arange(first, first + (rows + BLOCK - 1) // BLOCK), gh - 1)
        blocks = factor[index]
        if (blocks != 1.0).any():
            band *= _per_pixel(blocks, rows, w)
        if coarse[index].any():
            _coarsen(band, _per_pixel(coarse[index], rows, w))
            if EQUALISE:
                _equalise(band, blocks * unit, coarse[index])
        # rint(x + r) == x + rint(r) for whole x: round once, then add with saturation (the
        # clip at 0 and 255) to the three channels at once. Rounded, not dithered: on a
        # noiseless sky the coarsened change rounds to 4x4 squares of 0 or +-1 level, but
        # floor(change + t) with t a threshold map (each 4x4 box a random permutation of the 16
        # levels, Bayer, random, blue noise) keeps the boxes' means, and those are what FLIP at
        # 2x zoom sees (its 8x8 blocks' error follows their mean |change|, correlation 0.99):
        # worst blocks 0.0426 -> 0.0430, and WebP 80's median sync z 7.09 -> 6.93 on 40 skies.
        change = np.rint(band).astype(np.int16)
        cv2.add(
            rgb[top : top + rows],
            cv2.merge([change] * rgb.shape[2]),
            dst=out[top : top + rows],
            dtype=cv2.CV_8U,
        )
    return out


# -- detection ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """What the detector found. ``identifier`` is set only when the check bits agree."""

    detected: bool
    identifier: int | None
    confidence: float
    sync_z: float
    geometry: str
    #: The decoded message bits (for bit-accuracy measurements), whether or not they check.
    bits: np.ndarray | None = None
    #: The geometry found: one base-grid pixel of the marked image spans ``scale`` base-grid
    #: pixels of this one, tilted by ``angle`` degrees (1.0 and 0.0 when aligned). Lets a
    #: verifier undo a crop or rotation before comparing pixels with the registered image.
    scale: float = 1.0
    angle: float = 0.0
    #: How the image was turned or mirrored (``orient``) before the scale and tilt above: undo
    #: the tilt and scale, then ``unorient`` the result, to have the marked image's grid again.
    orientation: int = 0
    #: Where the marked picture was found inside a larger canvas (a border, a screenshot of a
    #: page): (x, y, width, height) in the input's pixels; None when the mark spans the input.
    #: The geometry above is then the region's. Without a detection: the box searched in vain
    #: (a reader with a finer decode of the same image may search it again).
    region: tuple[int, int, int, int] | None = None
    #: A resize without the aspect ratio: the lattice's period along y over its period along x
    #: (``scale`` is their geometric mean: x spans scale / sqrt(aspect), y scale * sqrt(aspect)).
    aspect: float = 1.0


#: Where the Gaussian residual's local standard deviation is over EDGE_STD levels (an edge, a
#: texture), the residual is increasingly taken, up to 2 * EDGE_STD, from the image minus its
#: 3x3 median (see ``_whiten``); below it, where only the pattern and compression noise are,
#: the two residuals carry the same signal and the Gaussian one is kept.
EDGE_STD = 2.0


def _whiten(y: np.ndarray) -> np.ndarray:
    """High-pass residual weighted by the inverse of its local variance (plus a constant for
    the pattern's own and the compression's): for a pattern of roughly even amplitude in host
    noise of local variance s^2 that is the matched weight, so texture and edges, which hide
    the pattern from the eye but drown it for the detector, count for little (dividing by s
    instead, as before, left 20-50 % of the weakest photos' SNR on the table).

    At edges the residual is the image minus its 3x3 median, high-passed: a Gaussian blur
    smears a step into a residual ten times the pattern, which the weighting then throws away
    with the pattern it hides, while a median keeps a step (and a ramp) and leaves the pattern.
    That matters where the edges are all there is: WebP 80 and JPEG 50 quantise the pattern in
    a flat illustration's flat areas to nothing, and what survives is in the blocks along its
    shapes' edges (the embed's SMOOTH_BOOST). Median bit SNR of the aligned fold on 12
    generated flat illustrations, WebP 80: 1.13 -> 1.76, JPEG 50: 1.18 -> 1.48; on 16 photos
    2.37 -> 2.70 and 2.86 -> 3.16; skies, backdrops and textures unchanged (their residual
    seldom reaches EDGE_STD). A 5x5 median did no better, at seven times the cost.
    """
    y = np.ascontiguousarray(y, dtype=np.float32)
    r: np.ndarray = y - cv2.GaussianBlur(y, (0, 0), 1.0)
    step: np.ndarray = y - cv2.medianBlur(y, 3)
    step -= cv2.GaussianBlur(step, (0, 0), 1.0)
    # r += clip((local std - EDGE_STD) / EDGE_STD, 0, 1) * (step - r), in place.
    edge = np.sqrt(_local_var(r))
    edge -= EDGE_STD
    edge *= 1 / EDGE_STD
    np.clip(edge, 0.0, 1.0, out=edge)
    step -= r
    step *= edge
    r += step
    # r / (local variance + 3), in place (a detection makes no full-size temporary it can avoid).
    local = _local_var(r)
    local += 3.0
    return np.divide(r, local, out=r)


def _fold(img: np.ndarray) -> np.ndarray:
    h, w = img.shape
    th, tw = h // PERIOD, w // PERIOD
    return img[: th * PERIOD, : tw * PERIOD].reshape(th, PERIOD, tw, PERIOD).sum(axis=(0, 2))


def _subpixel(a: float, b: float, c: float) -> float:
    """Offset of a peak from its middle sample, by a parabola through three samples."""
    d = a - 2 * b + c
    # min/max, not np.clip: the same value without a ufunc's overhead (two per fold).
    return 0.0 if abs(d) < 1e-12 else max(-0.5, min(0.5, float(0.5 * (a - c) / d)))


def _correlate(
    acc: np.ndarray, pats: Patterns, orientation: int = 0
) -> tuple[np.ndarray, float, float, float]:
    """The folded tile's correlation with the sync pattern (turned to ``orientation``): (the
    tile's spectrum, z-score of the peak, its shift dy and dx to a fraction of a pixel)."""
    spectrum = np.fft.fft2(acc)
    corr = np.fft.ifft2(spectrum * pats.oriented_conj[orientation]).real
    return (spectrum, *_peak(corr, orientation))


def _correlate_turned(
    acc: np.ndarray, pats: Patterns
) -> tuple[np.ndarray, float, float, float, int]:
    """``_correlate`` in the orientation whose peak stands highest (after TURNED_PENALTY), all
    eight tried with one batched inverse FFT; the orientation comes last."""
    spectrum = np.fft.fft2(acc)
    half, power = pats.oriented_half, pats.oriented_power
    # The correlations are real: their half spectra suffice. Their mean is 0 (the sync pattern
    # has no DC), so their variance is their spectrum's energy over PERIOD^4 (Parseval): the
    # z of every orientation for one batched inverse FFT and a matrix product; the chosen
    # one's z is then measured as ``_correlate`` measures it.
    corrs = np.fft.irfft2(spectrum[None, :, : PERIOD // 2 + 1] * half, s=(PERIOD, PERIOD))
    energy = power @ np.square(np.abs(spectrum)).ravel()
    zs = corrs.reshape(ORIENTATIONS, -1).max(axis=1) / (np.sqrt(energy) / PERIOD**2 + 1e-9)
    zs[1:] -= TURNED_PENALTY
    orientation = int(np.argmax(zs))
    return (spectrum, *_peak(corrs[orientation], orientation), orientation)


def _peak(corr: np.ndarray, orientation: int) -> tuple[float, float, float]:
    """(z-score, dy, dx) of a sync correlation's peak; a turned orientation's z is counted
    TURNED_PENALTY lower."""
    n = PERIOD
    py, px = divmod(int(np.argmax(corr)), n)
    # corr.mean() and corr.std(), bit for bit, as numpy's own reductions compute them, without
    # their Python wrappers (two thirds of this function's time; a peak per fold).
    mean = np.add.reduce(corr, axis=None) / corr.size
    dev = corr - mean
    np.square(dev, out=dev)
    std = np.sqrt(np.add.reduce(dev, axis=None) / corr.size)
    top = corr[py, px]
    z = float((top - mean) / (std + 1e-9))
    if orientation:
        z -= TURNED_PENALTY
    dy = py + _subpixel(corr[py - 1, px], top, corr[(py + 1) % n, px])
    dx = px + _subpixel(corr[py, px - 1], top, corr[py, (px + 1) % n])
    return z, dy, dx


def _align(spectrum: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """The folded tile (given by its spectrum) shifted back by (dy, dx), with a phase ramp:
    the tile is periodic, so a fraction of a pixel (a crop rarely moves the grid by whole base
    pixels) is undone exactly."""
    f = np.fft.fftfreq(PERIOD)
    ramp = np.exp(2j * np.pi * (f[:, None] * dy + f[None, :] * dx))
    return np.fft.ifft2(spectrum * ramp).real


def _decode(
    acc: np.ndarray,
    key: bytes,
    geometry: str,
    want_bits: bool = False,
    phased: Callable[[float, float], np.ndarray] | None = None,
    orientation: int | None = None,
) -> Detection:
    """Decode a folded tile. ``phased(dx, dy)``, when given, folds the same lattice again with
    its samples moved by (dx, dy) pixels: the bits are read from that fold, put in phase with
    the pattern by the sync peak's fraction of a pixel. The sync test still reads ``acc``: the
    phased fold's peak is measured at its full height for noise too (of 2927 unmarked folds,
    z >= 4.5 in 12 instead of 3), while its bits' errors are noise's either way.

    ``orientation``: the tile's (``orient``), or None to take the one whose sync peak stands
    highest; the bits are read from the aligned fold turned back (``unorient``)."""
    pats = patterns(key)
    if orientation is None:
        spectrum, z, dy, dx, orientation = _correlate_turned(acc, pats)
    else:
        spectrum, z, dy, dx = _correlate(acc, pats, orientation)
    if z < LOW_Z and not want_bits:
        # Not synchronised: nothing to decode.
        return Detection(False, None, 0.0, z, geometry, orientation=orientation)
    flat = _oriented_tile(spectrum, dy, dx, orientation)
    soft = pats.bits_double @ flat
    if z < HALF_Z and not want_bits and soft @ soft < SPAN_SHARE * (flat @ flat):
        # Too little of the fold lies in the watermark's span for a clean decode: skip Viterbi.
        return Detection(False, None, 0.0, z, geometry, orientation=orientation)
    if phased is not None:
        spectrum, _, dy, dx = _correlate(phased(dx - round(dx), dy - round(dy)), pats, orientation)
        soft = pats.bits_double @ _oriented_tile(spectrum, dy, dx, orientation)
    soft /= np.abs(soft).mean() + 1e-9
    bits = payload.viterbi(soft)
    found = _accepted(bits, soft, z, key)
    if found is None and z >= LIST_Z:
        # The best path fails; the check bits choose among the next LIST - 1.
        paths = payload.list_viterbi(soft, LIST)[1:]
        found = next((f for f in (_accepted(b, soft, z, key) for b in paths) if f), None)
    if found is None:
        return Detection(False, None, 0.0, z, geometry, bits, orientation=orientation)
    bits, message, recoded = found
    confidence = float(np.clip((soft * recoded).sum() / np.abs(soft).sum(), 0.0, 1.0))
    return Detection(
        True, message.identifier, confidence, z, geometry, bits, orientation=orientation
    )


def _oriented_tile(spectrum: np.ndarray, dy: float, dx: float, orientation: int) -> np.ndarray:
    """The fold (given by its spectrum) aligned with the sync pattern in ``orientation``, then
    turned back to the tile's own orientation, flattened: what the bit patterns read."""
    aligned = _align(spectrum, dy, dx)
    return (aligned if orientation == 0 else unorient(aligned, orientation)).ravel()


def _disagreements(bits: np.ndarray, soft: np.ndarray) -> tuple[int, np.ndarray]:
    """How many of the coded bits' hard decisions disagree with ``bits`` re-encoded, and the
    re-encoded bits (as -1/+1)."""
    recoded = payload.encode(bits).astype(np.float64) * 2 - 1
    return int(np.count_nonzero((soft > 0) != (recoded > 0))), recoded


def _synchronised(z: float, disagree: int) -> bool:
    return z >= SYNC_Z or any(z >= lo and disagree <= most for lo, most in CLEAN_TIERS)


def _accepted(
    bits: np.ndarray, soft: np.ndarray, z: float, key: bytes
) -> tuple[np.ndarray, payload.Message, np.ndarray] | None:
    """(bits, message, re-encoded bits) when this decode of a fold synchronised ``z`` deviations
    up is accepted: the sync test passes with its disagreements, then the check bits."""
    disagree, recoded = _disagreements(bits, soft)
    if not _synchronised(z, disagree):
        return None
    message = payload.unpack(bits, key)
    return None if message is None else (bits, message, recoded)


def _dft(y: np.ndarray) -> np.ndarray:
    """Complex spectrum (numpy's layout, zero frequency at [0, 0]) of the image, zero-padded to
    a fast DFT size and rolled so that the image's centre sits at the origin.

    Not windowed: the coherent scan (``_coherent``) is a matched filter, and a window would weigh
    down the image's borders, where a dark photo's watermark can lie (the Apollo Earth photo's
    black corners carry most of it). Centred, the transform of the image's support is real and
    smooth, so a frequency between two bins is read by interpolating the bins; uncentred,
    neighbouring bins alternate in phase and cancel.
    """
    h, w = y.shape
    # Zero-padded to a size with small prime factors: a prime side (a 1 MP 3:2 photo's base
    # grid is 256x383) makes the DFT 30 times slower; frequencies are read from its shape.
    # The four quadrants go straight to their rolled places (what np.roll of the padded image
    # gives, without the two intermediate copies), as the real parts of a complex image:
    # OpenCV's complex-to-complex DFT is four times faster than its real-to-complex one with
    # complex output (0.12 against 0.5 ms at 256x384), which expands the packed half itself.
    big_h, big_w = cv2.getOptimalDFTSize(h), cv2.getOptimalDFTSize(w)
    cy, cx = h // 2, w // 2
    padded = np.zeros((big_h, big_w, 2), np.float32)
    real = padded[..., 0]
    centred = y - np.float32(y.mean())
    real[: h - cy, : w - cx] = centred[cy:, cx:]
    real[: h - cy, big_w - cx :] = centred[cy:, :cx]
    real[big_h - cy :, : w - cx] = centred[:cy, cx:]
    real[big_h - cy :, big_w - cx :] = centred[:cy, :cx]
    return cv2.dft(padded, flags=cv2.DFT_COMPLEX_OUTPUT).view(np.complex64)[..., 0]


def _power(dft: np.ndarray) -> np.ndarray:
    """Power spectrum (zero frequency in the middle) of the Hann-windowed image, divided by its
    local mean: the host's 1/f slope becomes flat (~1) while the pattern's lattice lines stand
    out, at low frequencies as well as high.

    The window (a periodic Hann over the padded, centred image: 1/2 + cos/2 along each axis) is
    applied in the frequency domain, where it is the taps 1/4, 1/2, 1/4 along each axis,
    wrapping round: one DFT serves both the coherent scan, which wants no window, and the
    lattice vote, which wants the host's leakage suppressed.
    """
    h, w = dft.shape
    pairs = cv2.copyMakeBorder(dft.view(np.float32).reshape(h, w, 2), 1, 1, 1, 1, cv2.BORDER_WRAP)
    windowed = cv2.sepFilter2D(pairs, -1, _HANN_TAPS, _HANN_TAPS)[1:-1, 1:-1]
    # Squared in one pass over the interleaved pairs, then summed: the same sums as re * re +
    # im * im on the two strided channels, at less than half the cost.
    squares = np.square(windowed)
    power = np.fft.fftshift(squares[..., 0] + squares[..., 1])
    local = cv2.blur(power, (15, 15))
    np.add(local, 1e-9, out=local)
    return np.divide(power, local, out=power)


_HANN_TAPS = np.array([0.25, 0.5, 0.25], np.float32)


@cache
def _harmonics(harmonics: int) -> tuple[np.ndarray, np.ndarray]:
    """The reciprocal-lattice points (k, m) the comb looks at: a half-plane suffices."""
    k, m = np.meshgrid(np.arange(-harmonics, harmonics + 1), np.arange(1, harmonics + 1))
    k = np.concatenate([np.arange(1, harmonics + 1), k.ravel()])
    m = np.concatenate([np.zeros(harmonics, dtype=int), m.ravel()])
    return k, m


def _comb(
    spectrum: np.ndarray, periods: np.ndarray | float, angles: np.ndarray | float
) -> np.ndarray:
    """Mean normalised power at the reciprocal-lattice points of each (period, angle) pair, up
    to HARMONICS (``periods`` and ``angles`` broadcast together; the result has their shape)."""
    h, w = spectrum.shape
    k, m = _harmonics(HARMONICS)
    # Broadcast as they come, not to a common shape first: a sweep at one angle (``_refine``)
    # rotates the harmonics once, not once per period (the same values either way).
    a = np.asarray(angles)[..., None]
    cos, sin = np.cos(a), np.sin(a)
    inv = 1.0 / np.asarray(periods)[..., None]
    fx = (k * cos - m * sin) * inv * w + w // 2
    fy = (k * sin + m * cos) * inv * h + h // 2
    if fx.min() >= 0 and fx.max() < w - 1 and fy.min() >= 0 and fy.max() < h - 1:
        # Every point inside (all but the shortest periods): no mask, no clip, no count, the
        # same values (a fifth of the time; ``_refine`` reads six combs per refined lattice).
        x0, y0 = fx.astype(int), fy.astype(int)
        value = _bilinear(spectrum, y0 * w + x0, fx - x0, fy - y0)
        return value.sum(axis=-1) / value.shape[-1]
    inside = (fx >= 0) & (fx < w - 1) & (fy >= 0) & (fy < h - 1)
    # minimum/maximum: what np.clip does, without its wrapper's checks (~6 calls per image).
    x0 = np.minimum(np.maximum(fx.astype(int), 0), w - 2)
    y0 = np.minimum(np.maximum(fy.astype(int), 0), h - 2)
    value = _bilinear(spectrum, y0 * w + x0, fx - x0, fy - y0)
    value *= inside
    return value.sum(axis=-1) / np.maximum(np.count_nonzero(inside, axis=-1), 1)


def _bilinear(spectrum: np.ndarray, at: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> np.ndarray:
    """Bilinear reads of ``spectrum`` at flat indices ``at`` (each point's top-left bin) with
    fractions ``ax``, ``ay`` (broadcast together): the four neighbours gathered from the flat
    spectrum, in one fixed order (``_comb_upright`` relies on it to match ``_comb`` bit for
    bit). ``at`` is consumed."""
    w = spectrum.shape[1]
    flat = spectrum.ravel()
    bx, by = 1 - ax, 1 - ay
    value = flat.take(at) * bx * by
    at += 1
    value += flat.take(at) * ax * by
    at += w - 1
    value += flat.take(at) * bx * ay
    at += 1
    value += flat.take(at) * ax * ay
    return value


#: The comb's harmonic indices along x (k) and y (m), as floats: an upright lattice's points
#: are their outer product (``_comb_upright``).
_COMB_K = np.arange(-HARMONICS, HARMONICS + 1).astype(np.float64)
_COMB_M = np.arange(HARMONICS + 1).astype(np.float64)


def _comb_upright(
    spectrum: np.ndarray, periods: np.ndarray | float, periods_y: np.ndarray | float | None = None
) -> np.ndarray:
    """``_comb(spectrum, periods, 0.0)``, bit for bit, for about 80 % of its time (0.145 against
    0.178 ms for ``_upright``'s 24 periods at 256x256).

    Untilted, a lattice point's x depends on its period and k only, its y on the period and m
    only (cos 0 and sin 0 are exact), so the coordinates, the bins, the weights and the
    in-range test are worked out per row and per column (P x 33 and P x 17) and broadcast over
    the full 17 x 33 grid of (m, k); the four gathers and products are those ``_comb`` makes,
    in its order. The grid's row m = 0 from k = 1 on, followed by rows m = 1..HARMONICS, is
    ``_harmonics``' half-plane in its order, so each period's sum adds the same values in the
    same order. A table of the reads cached per DFT size was twice as fast again but held
    ~3.6 MB per shape.

    ``periods_y``: the periods along y where they differ from those along x (a rectangular
    lattice, ``_stretched``).
    """
    h, w = spectrum.shape
    shape = np.shape(periods)
    inv = 1.0 / np.reshape(periods, (-1, 1))
    inv_y = inv if periods_y is None else 1.0 / np.reshape(periods_y, (-1, 1))
    count = len(inv)
    fx = _COMB_K * inv * w + w // 2
    fy = _COMB_M * inv_y * h + h // 2
    x0 = np.minimum(np.maximum(fx.astype(int), 0), w - 2)
    y0 = np.minimum(np.maximum(fy.astype(int), 0), h - 2)
    inside = ((fx >= 0) & (fx < w - 1))[:, None, :] & ((fy >= 0) & (fy < h - 1))[:, :, None]
    at = (y0 * w)[:, :, None] + x0[:, None, :]
    value = _bilinear(spectrum, at, (fx - x0)[:, None, :], (fy - y0)[:, :, None])
    value *= inside
    half = np.s_[:, HARMONICS + 1 :]
    total = value.reshape(count, -1)[half].sum(axis=-1)
    points = np.count_nonzero(inside.reshape(count, -1)[half], axis=-1)
    return (total / np.maximum(points, 1)).reshape(shape)


def _peaks(spectrum: np.ndarray, count: int = 80) -> np.ndarray:
    """Frequencies (cycles/px, x and y) of the strongest local maxima in a half-plane."""
    h, w = spectrum.shape
    local_max = spectrum >= cv2.dilate(spectrum, np.ones((3, 3), np.uint8))
    # The flat indices, divided: np.nonzero's two index arrays, in the same order, a ninth of
    # the time (a spectrum has ~2000 such points).
    ys, xs = np.divmod(np.flatnonzero(local_max & (spectrum > 3.0)), w)
    fy, fx = (ys - h // 2) / h, (xs - w // 2) / w
    keep = (fy > 0) | ((fy == 0) & (fx > 0))
    order = np.argsort(spectrum[ys, xs][keep])[::-1][:count]
    return np.column_stack([fx[keep][order], fy[keep][order]])


def _votes(peaks: np.ndarray, periods: np.ndarray, angles: np.ndarray, tol: float) -> np.ndarray:
    """For each (period, angle) pair (``periods`` and ``angles`` broadcast together; the result
    has their shape): how many peaks sit on that lattice, within ``tol`` lattice units.

    The peaks are rotated once per angle and then scaled by each period, so a grid of
    periods x angles costs one multiplication per cell and peak, not a rotation.
    """
    fx, fy = peaks[:, 0], peaks[:, 1]
    c, s = np.cos(angles)[..., None], np.sin(angles)[..., None]
    p = periods[..., None]
    u = (p * (fx * c + fy * s)).astype(np.float32)  # (..., peaks), in lattice units
    v = (p * (fy * c - fx * s)).astype(np.float32)
    u -= np.rint(u)
    v -= np.rint(v)
    u *= u
    v *= v
    u += v
    # Counted in bytes (``_peaks`` gives at most 80): a bool sum along short rows widens every
    # element to int64 first, at twice the cost of the rest of the vote. int64 again for the
    # callers' argsorts, whose order among equal counts depends on the dtype.
    near = (u < tol * tol).view(np.uint8)
    count = np.uint8 if len(peaks) < 256 else np.int64
    return near.sum(axis=-1, dtype=count).astype(np.int64)


#: The shortlist's coarse grid: periods from the plain grid (32) up to a crop to 45 % of the
#: frame, 1 % apart; tilts up to 5 degrees, 0.5 degree apart.
_COARSE_PERIODS = PERIOD * np.exp(np.arange(np.log(0.98), np.log(1 / 0.45), 0.01))
_COARSE_ANGLES = np.radians(np.arange(-5.0, 5.01, 0.5))
#: The fine grid around each coarse cell: 0.2 % in period, 0.1 degree.
_FINE_PERIODS = np.exp(np.arange(-5, 6) * 0.002)
_FINE_ANGLES = np.radians(np.arange(-5, 6) * 0.1)


def _shortlist(peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(periods, angles) of the lattices the most peaks fit, coarse to fine.

    A coarse grid (1 % in period, 0.5 degree, a looser fit) finds the regions worth a look, and
    the fine grid (0.2 %, 0.1 degree) is searched only around them: a twentieth of the work of
    searching the fine grid everywhere, which is what an unmarked image used to pay.
    """
    # Cells in (angle, period) order, as a meshgrid of periods and angles ravels.
    coarse = _votes(peaks, _COARSE_PERIODS[None, :], _COARSE_ANGLES[:, None], 0.25)
    best = np.argsort(coarse.ravel())[::-1][:COARSE]
    ia, ip = np.divmod(best, len(_COARSE_PERIODS))
    # (best, angle step, period step), in that order when ravelled.
    fine_p = _COARSE_PERIODS[ip][:, None, None] * _FINE_PERIODS[None, None, :]
    fine_a = _COARSE_ANGLES[ia][:, None, None] + _FINE_ANGLES[None, :, None]
    votes = _votes(peaks, fine_p, fine_a, 0.12).ravel()
    top = np.argsort(votes, kind="stable")[::-1][:FINALISTS]
    shape = (len(best), len(_FINE_ANGLES), len(_FINE_PERIODS))
    fine_p, fine_a = np.broadcast_to(fine_p, shape).ravel(), np.broadcast_to(fine_a, shape).ravel()
    return fine_p[top], fine_a[top]


#: The deepest crop ``_upright`` looks for: a third of the frame (period 97). The peak vote and
#: the coherent scan stop at 45 % (period 71), where a cost grows with every period searched;
#: the marginals' comb costs a matrix product a few rows longer. A crop to 40 % or 35 % of the
#: frame (a detail zoomed in on) + JPEG 85 decoded 0 of 23 photos (bench/unseen.py) with the
#: search stopping at 45 %, 17 and 14 of 23 with it at a third.
UPRIGHT_DEEPEST = 0.33
#: The periods ``_upright`` scans: from the plain grid to a crop to UPRIGHT_DEEPEST of the
#: frame, 0.4 % apart (the 2-D comb refines the best to 0.12 %).
_UPRIGHT_PERIODS = PERIOD * np.exp(np.arange(np.log(0.98), np.log(1 / UPRIGHT_DEEPEST), 0.004))


_UPRIGHT_NEAR = np.array([-UPRIGHT_REACH, 0, UPRIGHT_REACH])

#: A picture resized without keeping its aspect ratio (fitted to a box by its width and its
#: height, a thumbnail forced to a shape) has an upright but rectangular lattice: period px
#: along x and py along y, one of them under PERIOD where the long side was squeezed (the
#: base grid keeps the short side at BASE). ``_stretched`` looks for each from its own
#: marginal, over periods from STRETCH_SHORTEST x PERIOD (a side squeezed by 15 %).
STRETCH_SHORTEST = 0.85
_STRETCH_PERIODS = PERIOD * np.exp(np.arange(np.log(STRETCH_SHORTEST), np.log(1 / 0.45), 0.004))
#: A band added on one side of the picture (a meme's caption bar above it, a strip below)
#: lengthens the short side the base grid is scaled by: the tiles come out square but under
#: the 0.98 x PERIOD ``_upright`` starts at (0.8 x under a bar of a quarter of the height), and
#: the canvas search, which trims a frame on every side, leaves a one-sided band (the frame's
#: median level is the picture's). ``_padded`` looks for such a lattice from each marginal
#: over PADDED_PERIODS and folds it only where both marginals read the same period: a 600x400
#: signed photo with a 6-25 % bar above (white, with text) or a black band below, JPEG 85,
#: decoded 0 of 16 before. Widening ``_upright`` itself down to 0.75-0.8 read them too but let
#: a host's peak (the Earth photo's clouds, period 26.5) outrank a half-frame crop's lattice.
PADDED_SHORTEST = 0.75
_PADDED_PERIODS = PERIOD * np.exp(np.arange(np.log(PADDED_SHORTEST), np.log(0.98), 0.004))
#: ... and folds it only if its comb stands STRETCH_GAIN x above the square lattices of either
#: period: on 23 photos at 1 MP stretched by up to 12 % either way and JPEG 85, the marked
#: ones' stood 1.40-3.3x (the rocket at 640 px, 1.25x), the unmarked ones' (stretched or not,
#: JPEG 60-95) 1.03x in the median and 1.2x or more in 4 of 92: those pay a fold (~0.3 ms).
STRETCH_GAIN = 1.2


#: One matrix per DFT side (the base grid's short side is 256, so 256 and the long side): 283
#: periods x n float64, 0.58 MB at n = 256, 0.87 MB at 384 (3:2), 1.2 MB at 512 (2:1), 1.7 MB
#: at 768 (3:1); built in ~0.5 ms. Sixteen cover sixteen aspect ratios, ~14 MB at most.
@lru_cache(maxsize=16)
def _marginal_comb(n: int, shortest: float = 0.98) -> np.ndarray:
    """(periods, n) matrix: times a spectrum marginal of length n (zero frequency at n // 2),
    the mean, over each period's harmonics k / p (k = 1 .. 2 * HARMONICS, below Nyquist), of
    the marginal linearly interpolated there. Built once per grid size: a matrix product per
    image instead of an interpolation. ``shortest``: the periods from ``shortest`` x PERIOD
    (``_STRETCH_PERIODS`` from 0.85)."""
    periods = {0.98: _UPRIGHT_PERIODS, STRETCH_SHORTEST: _STRETCH_PERIODS}.get(
        shortest, _PADDED_PERIODS
    )
    k = np.arange(1, 2 * HARMONICS + 1)
    at = k[None, :] / periods[:, None] * n + n // 2
    inside = at < n - 1
    rows = np.broadcast_to(np.arange(len(periods))[:, None], at.shape)[inside]
    at = at[inside]
    low = at.astype(int)
    frac = at - low
    weight = 1.0 / inside.sum(axis=1)[rows]
    matrix = np.zeros((len(periods), n), np.float64)
    np.add.at(matrix, (rows, low), weight * (1 - frac))
    np.add.at(matrix, (rows, low + 1), weight * frac)
    return matrix


def _upright(spectrum: np.ndarray) -> tuple[float, float]:
    """(comb, period) of the best untilted lattice: a crop or a resize leaves the grid upright,
    and its period is found from the spectrum alone, where a host's strong peaks (the Apollo
    Earth photo's, a texture's) can outvote the pattern's weak ones in the peak vote.

    An upright lattice's points (k/p, m/p) lie on the lines fx = k/p and fy = m/p, so the
    spectrum's mean along each axis shows them as 1-D peaks: a comb over the two marginals
    scans every period cheaply; the 2-D comb then refines the best.
    """
    h, w = spectrum.shape
    periods = _UPRIGHT_PERIODS
    score = _marginal_comb(w) @ spectrum.mean(axis=0) + _marginal_comb(h) @ spectrum.mean(axis=1)
    # The marginals also see a lattice's sub- and super-lattices; the 2-D comb, which
    # penalises a lattice denser than the true one, picks among their best few local maxima.
    # Each score against its neighbours, wrapping (np.roll's values without its overhead).
    peak = (score >= np.concatenate((score[-1:], score[:-1]))) & (
        score >= np.concatenate((score[1:], score[:1]))
    )
    maxima = np.flatnonzero(peak)[np.argsort(score[peak])[::-1][:UPRIGHT]]
    # A marginal maximum can sit 1 % off its lattice's 2-D comb maximum (period 64 of a crop to
    # half the Earth photo + JPEG 75, seen at 62.6 and 64.7): each is ranked at its best within
    # UPRIGHT_REACH steps of the scan, or a host's peak read at its own maximum outranks the
    # pattern's read off it. A cell two maxima share is read twice, to the same value: np.unique
    # to read it once cost more (~30 us) than the few rows it saved.
    near = np.minimum(np.maximum(maxima[:, None] + _UPRIGHT_NEAR, 0), len(periods) - 1)
    comb = _comb_upright(spectrum, periods[near])
    best = periods[near[np.arange(len(maxima)), np.argmax(comb, axis=1)]]
    best = best[np.argsort(-comb.max(axis=1))[:UPRIGHT_FINE]]
    fine = (best[:, None] * np.exp(np.arange(-2, 3) * 0.0012)[None]).ravel()
    comb = _comb_upright(spectrum, fine)
    top, period = float(comb.max()), float(fine[int(np.argmax(comb))])
    if 2 * period <= PERIOD / UPRIGHT_DEEPEST:
        # A crop to half the frame has period 64, whose every other lattice point is period
        # 32's: the high-passed pattern's power can make the sparser comb score higher. Three
        # quarters of the 2p lattice's points are not p's; if they stand above the background
        # (1), the lattice is 2p.
        doubled = float(_comb_upright(spectrum, 2 * period))
        if (doubled - top / 4) / 0.75 > DOUBLE:
            return doubled, 2 * period
    return top, period


def _lattices(spectrum: np.ndarray) -> list[tuple[float, float]]:
    """The candidate tile lattices the normalised power spectrum shows, best first: (period,
    angle).

    A periodic pattern puts its energy on a reciprocal lattice of frequencies. The strongest
    spectral peaks vote for the (period, angle) whose lattice they fit; the vote counts are
    coarse (a host's own strong peaks can outvote the pattern by one), so the comb (mean power
    over all lattice points, which penalises a lattice denser than the true one) ranks a
    generous shortlist. The best upright lattice (``_upright``) is always among the SPECTRAL.
    """
    peaks = _peaks(spectrum)
    if len(peaks) < 8:
        return []
    periods, angles = _shortlist(peaks)
    comb = _comb(spectrum, periods, angles)
    upright_comb, upright = _upright(spectrum)
    periods, angles = np.append(periods, upright), np.append(angles, 0.0)
    comb = np.append(comb, upright_comb)
    lattices: list[tuple[float, float]] = []
    for i in np.argsort(-comb):
        period, angle = float(periods[i]), float(angles[i])
        if any(_same((period, angle), other) for other in lattices):
            continue
        lattices.append((period, angle))
        if len(lattices) == SPECTRAL:
            break
    same = [i for i, other in enumerate(lattices) if _same((upright, 0.0), other)]
    # A shortlisted lattice next to the upright one (0.3 degrees off) is folded upright: a crop
    # or a resize leaves the grid upright, and ``_refine`` still finds a small tilt from there.
    lattices[same[0] if same else -1] = (upright, 0.0)
    return lattices


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two (period, angle) lattices are one, found from neighbouring cells."""
    return abs(a[0] / b[0] - 1) < 0.006 and abs(a[1] - b[1]) < 0.006


def _marginal_peak(marginal: np.ndarray, period: float) -> float:
    """The period within two of ``_marginal_comb``'s steps of ``period`` whose harmonics
    (k / period, k = 1 .. 2 * HARMONICS, below Nyquist) read highest on a spectrum marginal
    (zero frequency at n // 2), 0.13 % apart: the matrix's 0.4 % steps misregister a fold
    by a third of a pixel across the grid."""
    n = len(marginal)
    fine = period * np.exp(np.arange(-3, 4) * 0.0013)
    at = np.arange(1, 2 * HARMONICS + 1)[None, :] / fine[:, None] * n + n // 2
    inside = at < n - 1
    score = (np.interp(at, np.arange(n), marginal) * inside).sum(axis=1) / inside.sum(axis=1)
    return float(fine[int(np.argmax(score))])


def _stretched(spectrum: np.ndarray) -> tuple[float, float] | None:
    """(px, py) of the rectangular upright lattice a resize without the aspect ratio leaves,
    each period found from its own marginal, or None when it is square (``_upright`` folded
    it) or its comb does not stand STRETCH_GAIN above the square lattices of either period."""
    h, w = spectrum.shape
    shortest = STRETCH_SHORTEST
    across, down = spectrum.mean(axis=0), spectrum.mean(axis=1)
    px = float(_STRETCH_PERIODS[int(np.argmax(_marginal_comb(w, shortest) @ across))])
    py = float(_STRETCH_PERIODS[int(np.argmax(_marginal_comb(h, shortest) @ down))])
    px, py = _marginal_peak(across, px), _marginal_peak(down, py)
    if _same((px, 0.0), (py, 0.0)):
        return None
    comb = _comb_upright(spectrum, np.array([px, px, py]), np.array([py, px, py]))
    return (px, py) if comb[0] >= STRETCH_GAIN * max(comb[1], comb[2]) else None


def _padded(spectrum: np.ndarray) -> float | None:
    """The period of a square upright lattice under ``_upright``'s range (a band added on one
    side, see PADDED_PERIODS), or None unless both marginals read it, within ``_same``: on an
    image without one their maxima fall apart, or at the range's top, which is ``_upright``'s."""
    h, w = spectrum.shape
    across, down = spectrum.mean(axis=0), spectrum.mean(axis=1)
    ix = int(np.argmax(_marginal_comb(w, PADDED_SHORTEST) @ across))
    iy = int(np.argmax(_marginal_comb(h, PADDED_SHORTEST) @ down))
    if max(ix, iy) >= len(_PADDED_PERIODS) - 2:
        return None
    px = _marginal_peak(across, float(_PADDED_PERIODS[ix]))
    py = _marginal_peak(down, float(_PADDED_PERIODS[iy]))
    return float(np.sqrt(px * py)) if _same((px, 0.0), (py, 0.0)) else None


#: The coherent scan's lattices are this many DFT bins apart at the outermost harmonic (16):
#: a lattice half a step off keeps most of the matched filter's peak (bilinear reading of an
#: unwindowed spectrum). 0.6 ranks the Apollo photo's lattice first after a crop to 80 % (scan
#: z 4.7 on an unmarked median of 4.3); 0.7 no longer does.
SCAN_STEP = 0.6
#: The coherent scan covers the lattices benign edits make: upright periods from the plain grid
#: to a crop to 45 % of the frame (a crop or resize), and the plain grid tilted up to 5 degrees
#: (a rotation that keeps the size). ~260 lattices on a 256x384 grid, ~175 on 256x256.
SCAN_PERIODS = (PERIOD * 0.98, PERIOD / 0.45)
SCAN_TILT = np.radians(5.0)
#: How many of the scan's best lattices are folded, after the spectral search's. Each is the
#: best of ~260 matched filters, so on an unmarked image its fold's sync z is that maximum's
#: (4.3-5.5 on the bench's photos, against 3-4 for one lattice): the check bits and the decode
#: tiers decide, as for any fold.
SCAN_KEEP = 2
#: A scanned lattice is folded only if its scan z reaches SCAN_FOLD_Z: the scan reads the fold's
#: z within ~20 % (the Apollo photo: 6.5 / 4.7 / 7.4 against folds of 7.7 / 5.8 / 7.5 after
#: crops to 90 / 80 % and rotate 2), and the best of ~260 lattices on an unmarked image has
#: median 4.3: half of the unmarked images skip the fold.
SCAN_FOLD_Z = 4.3
#: The sync z from which a scanned lattice's fold is refined (``_refine_coherent``, then
#: ``_polish``): being the best of ~260, it reaches REFINE_Z on most unmarked images, where
#: refining cost 2-3 ms; a marked image's scanned fold stands at 5.5-8.
SCAN_REFINE_Z = 4.5


@cache
def _scan_sync(key: bytes, orientation: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """conj(sync spectrum) (turned to ``orientation``) on a real tile's half spectrum (32 x 17),
    single precision, without its DC; and the Parseval weight of each coefficient (the inner
    columns stand for two)."""
    conj = patterns(key).oriented_conj[orientation]
    half = conj[:, : PERIOD // 2 + 1].astype(np.complex64)
    half[0, 0] = 0
    parseval = np.full(half.shape, 2.0, np.float32)
    parseval[:, [0, PERIOD // 2]] = 1.0
    return half, parseval


def _points(
    periods: np.ndarray, angles: np.ndarray, h: int, w: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where each lattice's tile harmonics (a real tile's 32 x 17 half spectrum, numpy's layout)
    lie among an h x w DFT's bins: x and y bin coordinates, (lattices x 32, 17) each, as
    ``cv2.remap`` reads them (wrapped into the DFT; it interpolates bilinearly, wrapping)."""
    m = np.fft.fftfreq(PERIOD, 1 / PERIOD)[None, :, None]  # signed row harmonic
    k = np.arange(PERIOD // 2 + 1)[None, None, :]
    c, s = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    inv = 1 / periods[:, None, None]
    bx, by = _wrap((k * c - m * s) * inv * w, w), _wrap((k * s + m * c) * inv * h, h)
    shape = (len(periods) * PERIOD, PERIOD // 2 + 1)
    return bx.reshape(shape).astype(np.float32), by.reshape(shape).astype(np.float32)


def _wrap(x: np.ndarray, n: int) -> np.ndarray:
    """``x % n`` (n > 0), bit for bit, in a fraction of the time: numpy's float remainder also
    computes the floor quotient. fmod is exact (and the identity on the scan's points, which
    lie within one DFT size of the origin), and a negative one is moved up by n: the addition
    numpy's remainder makes."""
    r: np.ndarray = x.copy() if -n < x.min() and x.max() < n else np.fmod(x, n)
    r += (r < 0) * float(n)
    return r


#: The DFT shape depends on the aspect ratio only (the base grid's short side is 256 at every
#: size), and portrait and landscape are two shapes. A table is 0.76 MB at 1:1, 1.07 MB at 4:3,
#: 1.14 MB at 3:2, 1.43 MB at 16:9, 1.53 MB at 2:1 (2.3 MB at 3:1), and takes 3-4 ms to build,
#: a third of an unmarked 1 MP detection (~10 ms): sixteen hold 1:1, 5:4, 4:3, 3:2, 16:10,
#: 16:9, 2:1 and 21:9 both ways (~20 MB per worker process) where eight (~10 MB) were rebuilt
#: on a server seeing the usual camera and screen ratios in both orientations.
@lru_cache(maxsize=16)
def _scan_table(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(periods, angles, x and y bin coordinates) of the coherent scan on an h x w DFT
    (``_points``), built once per DFT size (a server sees few): a scan is then a remap, a
    multiplication and small inverse FFTs. The steps are SCAN_STEP bins at the outermost
    harmonic."""
    n = max(h, w)
    step = SCAN_STEP / (HARMONICS * n)  # in 1 / period
    inverse = np.arange(1 / SCAN_PERIODS[1], 1 / SCAN_PERIODS[0], step)
    tilt_step = SCAN_STEP * PERIOD / (HARMONICS * np.sqrt(2) * n)
    tilts = np.arange(tilt_step, SCAN_TILT + tilt_step / 2, tilt_step)
    periods = np.concatenate([1 / inverse, np.full(2 * len(tilts), float(PERIOD))])
    angles = np.concatenate([np.zeros(len(inverse)), -tilts[::-1], tilts])
    xs, ys = _points(periods, angles, h, w)
    for table in (periods, angles, xs, ys):
        table.flags.writeable = False
    return periods, angles, xs, ys


#: The most map rows one ``cv2.remap`` takes (under SHRT_MAX, whole lattices of PERIOD rows).
_REMAP_ROWS = (32767 // PERIOD - 1) * PERIOD


def _coherent(
    dft: np.ndarray, key: bytes, xs: np.ndarray, ys: np.ndarray, orientation: int = 0
) -> np.ndarray:
    """The sync z of the lattices whose harmonics ``_points`` placed, without folding.

    Folding at a lattice and transforming the fold samples the image's spectrum at the
    lattice's reciprocal points; times conj(sync spectrum), a small inverse FFT gives the sync
    correlation at every offset: the matched filter the fold computes, for a bilinear read
    and a 32x32 inverse FFT. The correlation's mean is 0 (no DC) and its variance is the
    spectrum's energy (Parseval), so only its maximum is searched.
    """
    sync, parseval = _scan_sync(key, orientation)
    h, w = dft.shape
    spectrum = dft.view(np.float32).reshape(h, w, 2)
    # OpenCV's remap takes maps of fewer than 32767 rows (SHRT_MAX): a long panorama's scan
    # (the lattices grow with the DFT's long side: 27,936 rows at 10:1) is read in parts.
    pairs = np.concatenate(
        [
            cv2.remap(
                spectrum,
                xs[i : i + _REMAP_ROWS],
                ys[i : i + _REMAP_ROWS],
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_WRAP,
            )
            for i in range(0, len(xs), _REMAP_ROWS)
        ]
    )
    coeff = pairs.view(np.complex64).reshape(-1, PERIOD, PERIOD // 2 + 1)
    coeff *= sync
    corr = np.fft.irfft2(coeff, s=(PERIOD, PERIOD)).reshape(len(coeff), -1)
    parts = coeff.view(np.float32).reshape(len(coeff), -1)
    energy = (parts * parts) @ np.repeat(parseval.ravel(), 2)
    return corr.max(axis=1) / (np.sqrt(energy) / PERIOD**2 + 1e-12)


def _scanned(dft: np.ndarray, key: bytes) -> list[tuple[float, float]]:
    """The SCAN_KEEP lattices of the coherent scan whose sync correlation peaks highest.

    Finds a weakly marked photo's lattice where the power spectrum cannot: the Apollo Earth
    photo cropped to 90 % or rotated 2 degrees, whose lattice comb is one noise deviation above
    the background, ranks first here (scan z 6-7) on an unmarked maximum of ~4.5.
    """
    periods, angles, xs, ys = _scan_table(*dft.shape)
    z = _coherent(dft, key, xs, ys)
    picks: list[tuple[float, float]] = []
    for i in np.argsort(-z):
        if z[i] < SCAN_FOLD_Z:
            break
        lattice = float(periods[i]), float(angles[i])
        if not any(_same(lattice, other) for other in picks):
            picks.append(lattice)
            if len(picks) == SCAN_KEEP:
                break
    return picks


def _refine_coherent(
    dft: np.ndarray, key: bytes, period: float, angle: float, orientation: int = 0
) -> tuple[float, float]:
    """A scanned lattice refined on the coherent scan's own measure, a quarter step apart over
    one step either way (the comb, ``_refine``, cannot see a lattice the scan alone found)."""
    h, w = dft.shape
    n = max(h, w)
    quarter = np.arange(-4, 5) / 4
    inverse = 1 / period + quarter * SCAN_STEP / (HARMONICS * n)
    tilts = angle + quarter * SCAN_STEP * PERIOD / (HARMONICS * np.sqrt(2) * n)
    periods, angles = (grid.ravel() for grid in np.meshgrid(1 / inverse, tilts))
    z = _coherent(dft, key, *_points(periods, angles, h, w), orientation)
    best = int(np.argmax(z))
    return float(periods[best]), float(angles[best])


def _refine(spectrum: np.ndarray, period: float, angle: float) -> tuple[float, float]:
    """Period and angle refined on the comb, in turn (it is smooth and nearly separable)."""
    for step_p, step_a in ((0.0005, 0.03), (0.0005, 0.03), (0.00015, 0.01)):
        fine_p = period * np.exp(np.arange(-5, 6) * step_p)
        period = float(fine_p[np.argmax(_comb(spectrum, fine_p, angle))])
        fine_a = angle + np.radians(np.arange(-5, 6) * step_a)
        angle = float(fine_a[np.argmax(_comb(spectrum, period, fine_a))])
    return period, angle


def _polish(
    white: np.ndarray,
    pats: Patterns,
    period: float,
    angle: float,
    whole: bool = False,
    orientation: int = 0,
) -> tuple[float, float]:
    """Period and angle refined on the fold itself: the comb's maximum can sit 0.1-0.5 % off
    the true period (a crop to half the frame: 64.0 found as 63.85; Firefly's cat cropped to
    60 %: 53.48 as 53.26), which over a few tiles smears the fold. The share of the aligned
    fold's energy that lies in the 141 patterns' span (sync and bits: the whole watermark, not
    the sync peak alone, which can peak at a period whose bits do not decode) finds it among
    folds either side (ten folds, within 0.5 %, tried only when the refined lattice's fold
    reaches POLISH_Z but does not decode)."""

    shares: dict[tuple[float, float], float] = {}

    def share(p: float, a: float) -> float:
        # Each search step's centre is the previous step's winner: remembered, 11 folds, not 13.
        if (p, a) not in shares:
            fold = _fold(_unwarp(white, *_basis(p, a), whole))
            spectrum, _, dy, dx = _correlate(fold, pats, orientation)
            aligned = _oriented_tile(spectrum, dy, dx, orientation)
            proj = pats.bits_double @ aligned
            shares[p, a] = float(proj @ proj) / (float(aligned @ aligned) + 1e-9)
        return shares[p, a]

    for step, reach in ((0.0016, 3), (0.0005, 1)):
        periods = [period * float(np.exp(i * step)) for i in range(-reach, reach + 1) if i]
        period = max([period, *periods], key=lambda p: share(p, angle))
    return period, max([angle, angle - 0.0012, angle + 0.0012], key=lambda a: share(period, a))


def _basis(period: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(angle), np.sin(angle)
    return period * np.array([c, s]), period * np.array([-s, c])


#: Anti-aliasing before ``_unwarp`` shrinks a lattice of scale s (period s * PERIOD) back to
#: PERIOD: a Gaussian blur of sigma ANTIALIAS * sqrt(s^2 - 1) base pixels (0.55 at s = 2).
#: Bilinear sampling alone keeps one pixel in s and folds the rest of the whitened residual's
#: high-frequency noise onto the pattern's band. At a whole scale it is at its worst: a crop to
#: half the frame folded at exactly period 64 (the lattice the comb finds) gave sync z 3.0-3.4
#: on the Hubble photo at 12 MP where periods 0.3 % off (sampling between pixels, which
#: averages) gave 6-7; with the blur, 4.8. Stronger blurs take the pattern's top octave too
#: (sigma 0.87 at s = 2: median z 7.0 -> 6.6 over the photos).
ANTIALIAS = 0.32
#: A lattice within WHOLE_NUDGE of a whole scale (2, 3) is folded WHOLE_NUDGE above it: the
#: samples then drift a fraction of a pixel across the image instead of keeping one pixel in
#: s everywhere, which averages what the blur leaves aliased. A crop to half the Earth photo +
#: JPEG 75, folded at 64.0: 47 of 64 identifiers decoded; at 64.1 (+0.16 %) all 64, where
#: ``_polish``, which maximises the patterns' share of the fold, went on to 64.2-64.3 and lost
#: 7 (the bench's identifier among them: sync z 5.19).
WHOLE_NUDGE = 0.0016


def _unwarp(
    white: np.ndarray,
    v1: np.ndarray,
    v2: np.ndarray,
    whole: bool = False,
    shift: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Resample so that the lattice (v1, v2) becomes axis-aligned with period PERIOD, the
    samples moved by ``shift`` (x, y; output pixels).

    ``whole``: zero-pad the result to whole tiles, so that the fold sums every pixel. After a
    crop the grid is coarser (a crop to 80 % leaves 6.4 tiles a side) and the partial tile is
    up to a sixth of the image: the Apollo photo cropped to 80 % decodes only with it (sync z
    3.3 -> 5.8 at its lattice). But a lattice a little off is misregistered most at the far
    edge, which the padding adds: on the spectral search's lattices it cost two crops to 50 %
    + JPEG 75 their decode, so only the coherent scan's lattices are folded whole.
    """
    basis = np.column_stack([v1, v2]) / PERIOD  # lattice units -> image pixels
    scale = float(np.sqrt(abs(np.linalg.det(basis))))
    whole_scale = round(scale)
    if whole_scale >= 2 and abs(scale / whole_scale - 1) < WHOLE_NUDGE:
        # Scaled about the origin: the samples stay put there and drift towards the far edge.
        basis *= whole_scale * (1 + WHOLE_NUDGE) / scale
        scale = whole_scale * (1 + WHOLE_NUDGE)
    if scale > 1.05:
        # Three taps: sigma stays under 0.65 for the scales searched (to 1 / 0.45), 0.9 for
        # the upright ones (to 1 / UPRIGHT_DEEPEST).
        white = cv2.GaussianBlur(white, (3, 3), ANTIALIAS * np.sqrt(scale * scale - 1))
    h, w = white.shape
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64).T
    mapped = np.linalg.solve(basis, corners)
    lo, hi = mapped.min(axis=1), mapped.max(axis=1)
    size = np.ceil(hi - lo).astype(int)
    if whole:
        size = -(-size // PERIOD) * PERIOD
    # dst -> src: src = basis @ (dst + lo + shift)
    matrix = np.hstack([basis, (basis @ (lo + np.asarray(shift)))[:, None]]).astype(np.float32)
    return cv2.warpAffine(
        white,
        matrix,
        (int(size[0]), int(size[1])),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )


def _decode_lattice(
    white: np.ndarray,
    basis: tuple[np.ndarray, np.ndarray],
    key: bytes,
    want_bits: bool,
    whole: bool = False,
    orientation: int | None = None,
) -> Detection:
    """``_decode`` of the tile folded over the lattice ``basis`` (in ``orientation``, or the
    best), its bits read from the same
    lattice folded again in phase with the pattern (``_decode`` asks for that fold only when
    the first passes its sync gates).

    A crop moves the pattern by any fraction of a pixel, and resampled at that phase the
    pattern (high-passed: much of its energy near the tile's Nyquist frequency) is read between
    its own pixels in every tile alike, where bilinear sampling averages neighbours and the
    phase ramp of ``_align`` cannot restore what that lost. Moving the samples by the sync
    peak's fraction of a pixel puts them on the pattern's own pixels.
    """

    def phased(dx: float, dy: float) -> np.ndarray:
        return _fold(_unwarp(white, *basis, whole, shift=(dx, dy)))

    fold = _fold(_unwarp(white, *basis, whole))
    return _decode(fold, key, "resynchronised", want_bits, phased, orientation)


def on_base_grid(image: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``image`` area-resized onto the base grid of an image of ``shape`` (its own by default;
    a caller that shrank the image first gives the original's, whose grid it wants)."""
    bh, bw = base_size(*(shape or image.shape)[:2])
    return cv2.resize(image, (bw, bh), interpolation=cv2.INTER_AREA)


def whitened(rgb_or_y: np.ndarray) -> np.ndarray:
    """What the detector searches: the image's luminance on the base grid, whitened."""
    small = on_base_grid(rgb_or_y)
    return _whiten(luminance(small) if small.ndim == 3 else small.astype(np.float32))


def detect(
    rgb_or_y: np.ndarray,
    *,
    key: bytes = DEFAULT_KEY,
    resync: bool = True,
    bits: bool = False,
    canvas: Canvas | None = None,
) -> Detection:
    """Look for the watermark in an RGB (H, W, 3) or luminance (H, W) image of any size.

    ``resync=False`` skips the search for a rotated or rescaled grid: the quick check signing
    makes (only a watermark on the grid a new one would use can interfere with it).
    ``bits``: decode the message bits even where the sync test fails (for bit-accuracy
    measurements); by default an unsynchronised fold is rejected before the Viterbi decoder.

    An image shown inside a larger canvas (a border, letterboxing, a screenshot of a page) has
    its tiles shrunk on the canvas's base grid below any period searched: when the search fails
    and the canvas's frame is flat (``content_box``), the picture's box is searched again as
    an image of its own, and a detection there says where (``Detection.region``).
    ``canvas``: ``Canvas(rgb_or_y)``, for a caller that asks it for another box afterwards.
    """
    found = _detect_grid(rgb_or_y, key, resync, bits)
    if found.detected and resync and found.scale < 0.98:
        # Tiles smaller than the plain grid's (``_padded``): the picture does not fill the
        # frame. Where the canvas search finds its box and reads the same identifier there,
        # that box is where the picture is (``region``): a border, a page.
        inner = _in_canvas(rgb_or_y, key, bits, found, canvas)
        framed = inner.detected and inner.geometry == "in a canvas"
        return inner if framed and inner.identifier == found.identifier else found
    if found.detected or not resync:
        return found
    return _in_canvas(rgb_or_y, key, bits, found, canvas)


def detect_picture(rgb_or_y: np.ndarray, *, key: bytes = DEFAULT_KEY) -> Detection:
    """``detect``'s search of the picture inside a canvas alone, the canvas not searched as a
    whole (for a finer decode of a canvas whose whole was searched already)."""
    return _in_canvas(rgb_or_y, key, False, Detection(False, None, 0.0, 0.0, "in a canvas"))


def _in_canvas(
    rgb_or_y: np.ndarray, key: bytes, bits: bool, found: Detection, canvas: Canvas | None = None
) -> Detection:
    """The pictures that may be inside a canvas (``Canvas.boxes``) searched each as an image of
    its own, or ``found`` (what the whole gave) with the likeliest box searched in vain."""
    boxes = (canvas or Canvas(rgb_or_y)).boxes()
    for x, y, w, h in boxes:
        inner = _detect_grid(rgb_or_y[y : y + h, x : x + w], key, True, bits)
        if inner.detected:
            return replace(inner, geometry="in a canvas", region=(x, y, w, h))
        if _tilted(rgb_or_y[y : y + h, x : x + w]):
            dx, dy = round(w * TILT_INSET), round(h * TILT_INSET)
            x, y, w, h = x + dx, y + dy, w - 2 * dx, h - 2 * dy
            inner = _detect_grid(rgb_or_y[y : y + h, x : x + w], key, True, bits)
            if inner.detected:
                return replace(inner, geometry="in a canvas", region=(x, y, w, h))
    return replace(found, region=boxes[0]) if boxes else found


#: A picture shown tilted in a page (1-5 degrees) leaves the page's colour in the four corners
#: of its box, and the box is larger than the picture by cos a + aspect x sin a (1.10 at 4
#: degrees, 3:2): on the box's grid the tile period falls under the 0.98 x PERIOD searched.
#: Such a box is searched again taken in by TILT_INSET a side (the period then 1.2 x / 1.10 of
#: PERIOD at 4 degrees): a screenshot of a picture tilted 5 degrees, as PNG, decoded 3 in 12.
TILT_INSET = 0.1
#: ... a corner is the page's when its TILT_CORNER share of the box's short side (at least 2
#: px) a side is within 2 levels: a photo's corners seldom are, three of four.
TILT_CORNER = 0.01


def _tilted(box: np.ndarray) -> bool:
    """Whether at least three of the four corners of a picture's box are flat (the page
    showing between the box and a tilted picture)."""
    h, w = box.shape[:2]
    c = max(2, round(min(h, w) * TILT_CORNER))
    flat = 0
    for corner in (box[:c, :c], box[:c, -c:], box[-c:, :c], box[-c:, -c:]):
        level = corner if corner.ndim == 2 else corner.astype(np.int16).sum(axis=2)
        spread = int(level.max()) - int(level.min())
        flat += spread <= (2 if corner.ndim == 2 else 6)
    return flat >= 3


def _detect_grid(rgb_or_y: np.ndarray, key: bytes, resync: bool, bits: bool) -> Detection:
    """``detect`` on the image's own base grid."""
    white = whitened(rgb_or_y)
    # Signing's quick check looks for a mark on the grid a new one would use: upright only.
    best = _decode(_fold(white), key, "aligned", bits, orientation=None if resync else 0)
    if best.detected or not resync:
        return best
    pats = patterns(key)
    dft = _dft(white)
    spectrum = _power(dft)
    lattices = _lattices(spectrum)
    # The coherent scan's finds after the spectral search's: (period, angle, scanned). One the
    # spectral search also found is folded again, whole (``_unwarp``): the Apollo photo cropped
    # to 80 % decodes only so (its spectral fold, 0.1 % off and not whole: every message bit
    # right at sync z 4.8, but too many coded bits corrected to be accepted).
    candidates = [(p, a, False) for p, a in lattices] + [
        (p, a, True) for p, a in _scanned(dft, key)
    ]
    for period, angle, scanned in candidates:
        # The shortlist's grid (0.2 % in period, 0.1 degree) and the scan's are close enough to
        # try as they are; only a fold that shows the sync pattern at all is worth refining.
        basis = _basis(period, angle)
        found = _decode_lattice(white, basis, key, bits, scanned)
        if not found.detected and found.sync_z >= (SCAN_REFINE_Z if scanned else REFINE_Z):
            # Refined in the orientation the fold showed.
            turn = found.orientation
            if scanned:
                refined = _refine_coherent(dft, key, period, angle, turn)
            else:
                refined = _refine(spectrum, period, angle)
            # A lattice that did not move folds as it did: decoded again only if it moved.
            if refined != (period, angle):
                period, angle = refined
                basis = _basis(period, angle)
                found = _decode_lattice(white, basis, key, bits, scanned, turn)
            if not found.detected and found.sync_z >= POLISH_Z:
                polished = _polish(white, pats, period, angle, scanned, turn)
                if polished != (period, angle):
                    basis = _basis(*polished)
                    found = _decode_lattice(white, basis, key, bits, scanned, turn)
        if found.detected:
            v1 = basis[0]
            tilt = float(np.degrees(np.arctan2(v1[1], v1[0])))
            return replace(found, scale=float(np.hypot(*v1)) / PERIOD, angle=tilt)
        best = found if found.sync_z > best.sync_z else best
    # Last, a rectangular lattice (a resize without the aspect ratio): found only where the
    # watermark stands out in the spectrum, so an unmarked image seldom folds it.
    stretched = _stretched(spectrum)
    if stretched is not None:
        px, py = stretched
        found = _decode_lattice(white, (np.array([px, 0.0]), np.array([0.0, py])), key, bits)
        if found.detected:
            scale = float(np.sqrt(px * py)) / PERIOD
            return replace(found, scale=scale, angle=0.0, aspect=py / px)
        best = found if found.sync_z > best.sync_z else best
    # ... and a square one under the upright range (a band on one side), read the same way.
    padded = _padded(spectrum)
    if padded is not None:
        found = _decode_lattice(white, _basis(padded, 0.0), key, bits)
        if found.detected:
            return replace(found, scale=padded / PERIOD, angle=0.0)
        best = found if found.sync_z > best.sync_z else best
    return best
