"""Could a cheap statistic reject unmarked images before the watermark's lattice search?

An unmarked image pays for the whole search (spectrum, lattice vote, comb, candidate folds):
the aligned fold cannot rule out a cropped or rotated mark. A rejection stage before the search
must never reject a marked image the search would find. This bench measures candidate
statistics, each computed from what the detector has in hand before the search (the whitened
base grid and its normalised spectrum), on

* marked images that need the search: every photo of bench/robustness.py marked, then every
  attack there, keeping those the aligned fold misses and the full detector finds (1 MP, and
  ``--big`` photos at 12 MP);
* unmarked images: bench/robustness.py's random crops, flips and scalings.

For each statistic (higher = more like a mark): the marked minimum and 1st percentile, the
unmarked percentiles, and the share of unmarked images a threshold at the marked minimum (no
miss in this set) or at its 1st percentile (1 % missed) would reject. A stage is worth having
only if the first share is large. Table to stdout, JSON to bench/results/rejection.json.

    uv run python -m bench.rejection [--unmarked 300] [--big 5]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from PIL import Image

from bench._common import table, write_json
from bench.robustness import ATTACKS, RNG, _resample, photos, unmarked_images
from provenance.watermark import codec, embed_rgb

#: Periods from the plain grid up to a crop to 45 % of the frame, tilts up to 5 degrees (the
#: lattice search's own coarse grid).
PERIODS, ANGLES = np.meshgrid(
    codec.PERIOD * np.exp(np.arange(np.log(0.98), np.log(1 / 0.45), 0.01)),
    np.radians(np.arange(-5.0, 5.01, 0.5)),
)


def _lattice_autocorrelation(spectrum: np.ndarray) -> float:
    """How far the autocorrelation (the normalised spectrum's Fourier transform) stands up, in
    deviations, at the four shortest vectors of the best lattice of the search's grid: a tiled
    pattern repeats at its lattice vectors whatever its content."""
    h = spectrum.shape[0]
    auto: np.ndarray = np.fft.rfft2(np.fft.ifftshift(spectrum)).real.astype(np.float32)
    auto = cv2.dilate(np.roll(auto, h // 2, axis=0), np.ones((3, 3), np.uint8))
    lag_y, lag_x = np.mgrid[0 : auto.shape[0], 0 : auto.shape[1]]
    ring = auto[(np.hypot(lag_y - h // 2, lag_x) > 16) & (np.hypot(lag_y - h // 2, lag_x) < 100)]
    p, a = PERIODS.ravel(), ANGLES.ravel()
    c, s = np.cos(a), np.sin(a)

    def at(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        flip = dx < 0  # the autocorrelation is even: the half-plane holds every lag
        dx, dy = np.where(flip, -dx, dx), np.where(flip, -dy, dy)
        row = np.clip(np.rint(dy + h // 2).astype(int), 0, h - 1)
        return auto[row, np.clip(np.rint(dx).astype(int), 0, auto.shape[1] - 1)]

    mean = (
        at(p * c, p * s)
        + at(-p * s, p * c)
        + at(p * (c - s), p * (s + c))
        + at(p * (c + s), p * (s - c))
    ) / 4
    return float(((mean - np.median(ring)) / ring.std()).max())


def _peak_count(threshold: float) -> Callable[[np.ndarray, np.ndarray], float]:
    def count(spectrum: np.ndarray, peaks: np.ndarray) -> float:
        local_max = spectrum >= cv2.dilate(spectrum, np.ones((3, 3), np.uint8))
        return float((local_max & (spectrum > threshold)).sum())

    return count


STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "autocorrelation at lattice vectors (z)": lambda sp, pk: _lattice_autocorrelation(sp),
    "most peaks on one coarse lattice": lambda sp, pk: float(
        codec._votes(pk, PERIODS, ANGLES, 0.25).max() if len(pk) else 0
    ),
    "spectral peaks above 5x local mean": _peak_count(5.0),
    "spectral peaks above 8x local mean": _peak_count(8.0),
    "mean power of the 20 strongest peaks": lambda sp, pk: float(
        np.sort(sp[sp >= cv2.dilate(sp, np.ones((3, 3), np.uint8))])[::-1][:20].mean()
    ),
    "spectrum kurtosis": lambda sp, pk: float(((sp - sp.mean()) ** 4).mean() / sp.var() ** 2),
}


#: Not a power statistic: the best sync z of the detector's coherent scan (the matched filter
#: over every upright period and small tilt). It does not cover a lattice both tilted and
#: rescaled, which the spectral search finds: a gate on it would need that family measured too.
SCAN = "coherent scan: best sync z"


def _measure(rgb: np.ndarray) -> tuple[bool, dict[str, float]]:
    """(whether the aligned fold alone detects the mark, each statistic)."""
    white = codec.whitened(rgb)
    aligned = codec._decode(codec._fold(white), codec.DEFAULT_KEY, "aligned").detected
    dft = codec._dft(white)
    spectrum = codec._power(dft)
    peaks = codec._peaks(spectrum)
    values = {name: fn(spectrum, peaks) for name, fn in STATISTICS.items()}
    xs, ys = codec._scan_table(*dft.shape)[2:]
    values[SCAN] = float(codec._coherent(dft, codec.DEFAULT_KEY, xs, ys).max())
    return aligned, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--unmarked", type=int, default=300)
    parser.add_argument("--big", type=int, default=5, help="photos also marked at 12 MP")
    args = parser.parse_args()

    pics = photos()
    sets = pics + [
        (f"{n} @ 12 MP", np.asarray(_resample(Image.fromarray(rgb), 12)))
        for n, rgb in pics[: args.big]
    ]
    marked: list[dict[str, float]] = []
    for _, rgb in sets:
        identifier = int(RNG.integers(0, 1 << 40))
        image = Image.fromarray(embed_rgb(rgb, identifier))
        for attack in ATTACKS.values():
            attacked = np.asarray(attack(image).convert("RGB"))
            if min(attacked.shape[:2]) < codec.MIN_SIDE:
                continue
            aligned, values = _measure(attacked)
            if not aligned and codec.detect(attacked).identifier == identifier:
                marked.append(values)
    unmarked = [_measure(rgb)[1] for rgb in unmarked_images(pics, args.unmarked)]

    rows: list[dict[str, Any]] = []
    for name in [*STATISTICS, SCAN]:
        m = np.array([v[name] for v in marked])
        u = np.array([v[name] for v in unmarked])
        p10, p50, p90 = np.percentile(u, [10, 50, 90])
        rows.append(
            {
                "statistic": name,
                "marked min / p1": f"{m.min():.2f} / {np.percentile(m, 1):.2f}",
                "unmarked p10 / p50 / p90": f"{p10:.2f} / {p50:.2f} / {p90:.2f}",
                "unmarked rejected, 0 misses": f"{(u < m.min()).mean() * 100:.0f}%",
                "at 1 % missed": f"{(u < np.percentile(m, 1)).mean() * 100:.0f}%",
            }
        )
    print(
        f"{len(marked)} marked images that need the lattice search (of {len(sets)} photos x "
        f"{len(ATTACKS)} attacks), {len(unmarked)} unmarked images:\n"
    )
    print(table(rows, list(rows[0])))
    print(f"\nwrote {write_json('rejection', {'rows': rows, 'marked': len(marked)})}")


if __name__ == "__main__":
    main()
