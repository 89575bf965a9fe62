"""Perceptual image fingerprint: a 64-bit DCT hash (pHash) of the luminance.

Knows nothing of C2PA: pixels in, an integer out. Robust to re-encoding, resizing and mild
colour changes; not to large crops (it describes the whole frame).
"""

from __future__ import annotations

import cv2
import numpy as np

BITS = 64


def image_hash(luminance: np.ndarray) -> int:
    """The 64-bit pHash of a luminance image (any size)."""
    small = cv2.resize(luminance.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8].ravel()[1:]  # drop DC: brightness shifts do not matter
    bits = np.append(low > np.median(low), low[0] > 0)  # 63 AC bits + the sign of the first
    return int("".join("1" if b else "0" for b in bits), 2)


def similarity(a: int, b: int) -> float:
    """1.0 for identical hashes, about 0.5 for unrelated images."""
    return 1.0 - ((a ^ b).bit_count() / BITS)
