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
* **Re-synchronisation.** A crop shifts the tiles (found by cross-correlating the folded tile
  with the sync pattern) and changes the scale of the base grid; a rotation tilts it. When the
  plain fold fails, the detector finds the tile lattice (period and angle) from the
  autocorrelation of the image's high-pass residual, undoes it, and folds again.
* **Masking.** The pattern is scaled by local texture, stronger where the eye misses it.

Detection is a few numpy FFTs on a 256 px image, whatever the input size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

from . import payload

ALG = "org.provenance.ssw.1"
BASE = 256
PERIOD = 32
#: Public default key: anyone may detect (that is the point of a soft binding).
DEFAULT_KEY = b"org.provenance.ssw.1 public key"
#: Share of the pattern's energy given to the synchronisation pattern.
SYNC_SHARE = 0.2
#: Embedding strength: RMS of the luminance change, in 8-bit levels, before masking.
STRENGTH = 3.6
#: A fold is considered synchronised when the sync correlation peak stands this many standard
#: deviations above the correlation surface (chance over 1024 shifts: about 1e-6).
SYNC_Z = 5.0
MIN_SIDE = 256


@dataclass(frozen=True)
class Patterns:
    sync: np.ndarray  # (PERIOD, PERIOD)
    bits: np.ndarray  # (CODED_BITS, PERIOD * PERIOD)


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
        _PATTERNS[key] = Patterns(chosen[0].reshape(PERIOD, PERIOD), chosen[1:])
    return _PATTERNS[key]


def base_size(height: int, width: int) -> tuple[int, int]:
    scale = BASE / min(height, width)
    return max(BASE, round(height * scale)), max(BASE, round(width * scale))


def luminance(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def tile(identifier: int, key: bytes = DEFAULT_KEY) -> np.ndarray:
    """The unit-variance 32x32 tile that carries ``identifier``."""
    pats = patterns(key)
    coded = payload.encode(payload.pack(identifier, key)).astype(np.float32) * 2 - 1
    n = len(coded)
    w_sync = np.sqrt(SYNC_SHARE / (1 - SYNC_SHARE) * n)
    t = w_sync * pats.sync.ravel() + coded @ pats.bits
    return (t / np.sqrt(w_sync**2 + n)).reshape(PERIOD, PERIOD)


def _local_std(img: np.ndarray, size: int = 5) -> np.ndarray:
    mean = cv2.blur(img, (size, size))
    sq = cv2.blur(img * img, (size, size))
    return np.sqrt(np.maximum(sq - mean * mean, 0))


def embed(
    rgb: np.ndarray, identifier: int, *, key: bytes = DEFAULT_KEY, strength: float = STRENGTH
) -> np.ndarray:
    """Return a watermarked copy of an RGB uint8 image (H, W, 3)."""
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image is {w}x{h}; the watermark needs a short side of {MIN_SIDE} px")
    bh, bw = base_size(h, w)
    # Resize first, then take luminance (linear, so the order does not matter): no
    # full-resolution float copy of the image.
    y_base = luminance(cv2.resize(rgb, (bw, bh), interpolation=cv2.INTER_AREA))
    # Texture mask: flat areas get less (visible there), textured areas more; mean square 1.
    activity = _local_std(y_base) + 1.0
    mask = np.clip(activity / np.median(activity), 0.4, 2.5)
    mask /= np.sqrt(np.mean(mask**2))
    reps = (bh // PERIOD + 1, bw // PERIOD + 1)
    pattern = np.tile(tile(identifier, key), reps)[:bh, :bw]
    residual = cv2.resize(
        (strength * mask * pattern).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR
    )
    out = np.empty_like(rgb)
    for c in range(rgb.shape[2]):  # one channel at a time bounds the float temporaries
        channel = residual + rgb[..., c]
        np.rint(channel, out=channel)
        np.clip(channel, 0, 255, out=channel)
        out[..., c] = channel
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


def _whiten(y: np.ndarray) -> np.ndarray:
    """High-pass residual, normalised by local contrast so strong edges do not dominate."""
    r = y - cv2.GaussianBlur(y, (0, 0), 1.0)
    return r / (_local_std(r, 7) + 1.0)


def _fold(img: np.ndarray) -> np.ndarray:
    h, w = img.shape
    th, tw = h // PERIOD, w // PERIOD
    return img[: th * PERIOD, : tw * PERIOD].reshape(th, PERIOD, tw, PERIOD).sum(axis=(0, 2))


def _subpixel(a: float, b: float, c: float) -> float:
    """Offset of a peak from its middle sample, by a parabola through three samples."""
    d = a - 2 * b + c
    return 0.0 if abs(d) < 1e-12 else float(np.clip(0.5 * (a - c) / d, -0.5, 0.5))


def _sync(acc: np.ndarray, pats: Patterns) -> tuple[np.ndarray, float]:
    """Align the folded tile by the sync pattern: (aligned tile, z-score of the peak).

    The shift is found to a fraction of a pixel (a crop rarely moves the grid by whole base
    pixels) and undone exactly with a phase ramp: the folded tile is periodic.
    """
    spectrum = np.fft.fft2(acc)
    corr = np.fft.ifft2(spectrum * np.conj(np.fft.fft2(pats.sync))).real
    py, px = np.unravel_index(int(np.argmax(corr)), corr.shape)
    z = float((corr[py, px] - corr.mean()) / (corr.std() + 1e-9))
    n = PERIOD
    dy = py + _subpixel(corr[(py - 1) % n, px], corr[py, px], corr[(py + 1) % n, px])
    dx = px + _subpixel(corr[py, (px - 1) % n], corr[py, px], corr[py, (px + 1) % n])
    f = np.fft.fftfreq(n)
    ramp = np.exp(2j * np.pi * (f[:, None] * dy + f[None, :] * dx))
    return np.fft.ifft2(spectrum * ramp).real, z


def _decode(acc: np.ndarray, key: bytes, geometry: str) -> Detection:
    pats = patterns(key)
    aligned, z = _sync(acc, pats)
    soft = pats.bits @ aligned.ravel()
    soft /= np.abs(soft).mean() + 1e-9
    bits = payload.viterbi(soft)
    message = payload.unpack(bits, key) if z >= SYNC_Z else None
    if message is None:
        return Detection(False, None, 0.0, z, geometry, bits)
    recoded = payload.encode(bits).astype(np.float64) * 2 - 1
    confidence = float(np.clip((soft * recoded).sum() / np.abs(soft).sum(), 0.0, 1.0))
    return Detection(True, message.identifier, confidence, z, geometry, bits)


def _spectrum(y: np.ndarray) -> np.ndarray:
    """Power spectrum, divided by its local mean: the host's 1/f slope becomes flat (~1) while
    the pattern's lattice lines stand out, at low frequencies as well as high."""
    h, w = y.shape
    window = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    power = np.abs(np.fft.fft2((y - y.mean()) * window)) ** 2
    power = np.fft.fftshift(power).astype(np.float32)
    return power / (cv2.blur(power, (15, 15)) + 1e-9)


def _comb(
    spectrum: np.ndarray, periods: np.ndarray, angles: np.ndarray, harmonics: int
) -> np.ndarray:
    """Mean normalised power at the reciprocal-lattice points of each (period, angle)."""
    h, w = spectrum.shape
    k, m = np.meshgrid(np.arange(-harmonics, harmonics + 1), np.arange(1, harmonics + 1))
    k = np.concatenate([np.arange(1, harmonics + 1), k.ravel()])  # a half-plane suffices
    m = np.concatenate([np.zeros(harmonics, dtype=int), m.ravel()])
    cos, sin = np.cos(angles)[None, :, None], np.sin(angles)[None, :, None]
    inv = 1.0 / periods[:, None, None]
    fx = (k * cos - m * sin) * inv * w + w // 2
    fy = (k * sin + m * cos) * inv * h + h // 2
    inside = (fx >= 0) & (fx < w - 1) & (fy >= 0) & (fy < h - 1)
    x0, y0 = np.clip(fx.astype(int), 0, w - 2), np.clip(fy.astype(int), 0, h - 2)
    ax, ay = fx - x0, fy - y0
    value = (
        spectrum[y0, x0] * (1 - ax) * (1 - ay)
        + spectrum[y0, x0 + 1] * ax * (1 - ay)
        + spectrum[y0 + 1, x0] * (1 - ax) * ay
        + spectrum[y0 + 1, x0 + 1] * ax * ay
    )
    return np.where(inside, value, 0).sum(axis=2) / np.maximum(inside.sum(axis=2), 1)


def _peaks(spectrum: np.ndarray, count: int = 80) -> np.ndarray:
    """Frequencies (cycles/px, x and y) of the strongest local maxima in a half-plane."""
    h, w = spectrum.shape
    local_max = spectrum >= cv2.dilate(spectrum, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(local_max & (spectrum > 3.0))
    fy, fx = (ys - h // 2) / h, (xs - w // 2) / w
    keep = (fy > 0) | ((fy == 0) & (fx > 0))
    order = np.argsort(spectrum[ys, xs][keep])[::-1][:count]
    return np.column_stack([fx[keep][order], fy[keep][order]])


def _votes(peaks: np.ndarray, periods: np.ndarray, angles: np.ndarray, tol: float) -> np.ndarray:
    """For each (period, angle): how many peaks sit on that lattice (within ``tol``)."""
    c, s = np.cos(angles)[None, :], np.sin(angles)[None, :]
    along = (peaks[:, :1] * c + peaks[:, 1:] * s).astype(np.float32)  # (peaks, angles)
    across = (-peaks[:, :1] * s + peaks[:, 1:] * c).astype(np.float32)
    votes = np.empty((len(periods), len(angles)), dtype=np.int32)
    for start in range(0, len(periods), 64):  # in blocks: bounded temporaries
        p = periods[start : start + 64].astype(np.float32)[:, None, None]
        u, v = p * along[None], p * across[None]
        off2 = (u - np.rint(u)) ** 2 + (v - np.rint(v)) ** 2
        votes[start : start + 64] = (off2 < tol * tol).sum(axis=1)
    return votes


def _lattices(white: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Candidate tile lattices, best first: basis vectors (x, y) on the base grid.

    A periodic pattern puts its energy on a reciprocal lattice of frequencies. The strongest
    spectral peaks vote for the (period, angle) whose lattice they fit; the comb (mean power
    over all lattice points, which penalises a lattice denser than the true one) ranks the
    leading candidates and refines them.
    """
    spectrum = _spectrum(white)
    peaks = _peaks(spectrum)
    if len(peaks) < 8:
        return []
    # Periods from the plain grid (32) up to a crop to 45 % of the frame; tilts up to 5 degrees.
    periods = PERIOD * np.exp(np.arange(np.log(0.98), np.log(1 / 0.45), 0.002))
    angles = np.radians(np.arange(-5.0, 5.01, 0.1))
    votes = _votes(peaks, periods, angles, 0.12)
    finalists: list[tuple[int, float, float]] = []
    for idx in np.argsort(votes.ravel())[::-1][:5]:
        pi, ai = divmod(int(idx), len(angles))
        finalists.append((int(votes[pi, ai]), float(periods[pi]), float(angles[ai])))
    finalists.sort(key=lambda f: -f[0])
    ranked = sorted(
        finalists[:5],
        key=lambda f: -_comb(spectrum, np.array([f[1]]), np.array([f[2]]), 12)[0, 0],
    )
    lattices = []
    for _, period, angle in ranked[:3]:
        for step_p, step_a in ((0.0005, 0.03), (0.00015, 0.01)):
            fine_p = period * np.exp(np.arange(-5, 6) * step_p)
            fine_a = angle + np.radians(np.arange(-5, 6) * step_a)
            score = _comb(spectrum, fine_p, fine_a, harmonics=12)
            best_p, best_a = divmod(int(np.argmax(score)), score.shape[1])
            period, angle = float(fine_p[best_p]), float(fine_a[best_a])
        c, s = np.cos(angle), np.sin(angle)
        lattices.append((period * np.array([c, s]), period * np.array([-s, c])))
    return lattices


def _unwarp(white: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """Resample so that the lattice (v1, v2) becomes axis-aligned with period PERIOD."""
    basis = np.column_stack([v1, v2]) / PERIOD  # lattice units -> image pixels
    h, w = white.shape
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64).T
    mapped = np.linalg.solve(basis, corners)
    lo, hi = mapped.min(axis=1), mapped.max(axis=1)
    size = np.ceil(hi - lo).astype(int)
    # dst -> src: src = basis @ (dst + lo)
    matrix = np.hstack([basis, (basis @ lo)[:, None]]).astype(np.float32)
    return cv2.warpAffine(
        white.astype(np.float32),
        matrix,
        (int(size[0]), int(size[1])),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )


def detect(rgb_or_y: np.ndarray, *, key: bytes = DEFAULT_KEY, resync: bool = True) -> Detection:
    """Look for the watermark in an RGB (H, W, 3) or luminance (H, W) image of any size.

    ``resync=False`` skips the search for a rotated or rescaled grid: the quick check signing
    makes (only a watermark on the grid a new one would use can interfere with it).
    """
    h, w = rgb_or_y.shape[:2]
    bh, bw = base_size(h, w)
    small = cv2.resize(rgb_or_y, (bw, bh), interpolation=cv2.INTER_AREA)
    y_base = luminance(small) if small.ndim == 3 else small.astype(np.float32)
    white = _whiten(y_base)
    best = _decode(_fold(white), key, "aligned")
    if best.detected or not resync:
        return best
    for v1, v2 in _lattices(white):
        found = _decode(_fold(_unwarp(white, v1, v2)), key, "resynchronised")
        if found.detected:
            return found
        best = found if found.sync_z > best.sync_z else best
    return best
