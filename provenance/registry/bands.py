"""Multi-index hashing over the 64-bit fingerprints: four 16-bit bands, each indexed.

Two fingerprints at most ``d`` bits apart differ in at most ``d // 4`` bits of some band
(pigeonhole), so probing each band with every value within that radius finds every candidate;
the exact Hamming distance is then checked on the candidates only. Knows nothing of SQL.
"""

from __future__ import annotations

import itertools
import math

from ..fingerprint import BITS

BANDS = 4
BAND_BITS = BITS // BANDS
BAND_MASK = (1 << BAND_BITS) - 1
#: Past this radius (similarity below ~0.75) the probes outnumber a plain scan of a small
#: registry's fingerprints; the backends then scan the fingerprint table (never the manifests).
MAX_RADIUS = 3


def max_distance(min_similarity: float) -> int:
    """The largest Hamming distance whose similarity is still ``min_similarity``."""
    return max(0, math.floor(BITS * (1.0 - min_similarity) + 1e-9))


def band_values(fingerprint: int) -> tuple[int, ...]:
    """The bands, most significant first (the registries' columns b0..b3)."""
    return tuple((fingerprint >> (BITS - BAND_BITS * (i + 1))) & BAND_MASK for i in range(BANDS))


def _within(value: int, radius: int) -> list[int]:
    out = [value]
    for r in range(1, radius + 1):
        for bits in itertools.combinations(range(BAND_BITS), r):
            flipped = value
            for b in bits:
                flipped ^= 1 << b
            out.append(flipped)
    return out


def probes(fingerprint: int, min_similarity: float) -> list[list[int]] | None:
    """Per band, the values to look up; None when the radius is too wide to be worth it."""
    radius = max_distance(min_similarity) // BANDS
    if radius > MAX_RADIUS:
        return None
    return [_within(v, radius) for v in band_values(fingerprint)]


def to_signed(value: int | None) -> int | None:
    """64-bit unsigned -> signed (SQLite and PostgreSQL integers are signed 64-bit)."""
    return None if value is None else value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int | None) -> int | None:
    return None if value is None else value + (1 << 64) if value < 0 else value
