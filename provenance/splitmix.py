"""splitmix64's finaliser over numpy arrays: a fast, well-spread 64-bit hash of each element.

Shared by the text fingerprint (MinHash seeds and features) and the text watermark (the keyed
green list); both depend on these exact constants, so changing them changes stored sketches and
detection.
"""

from __future__ import annotations

import numpy as np

M1 = np.uint64(0x9E3779B97F4A7C15)
M2 = np.uint64(0xBF58476D1CE4E5B9)
M3 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + M1
        x = (x ^ (x >> np.uint64(30))) * M2
        x = (x ^ (x >> np.uint64(27))) * M3
        return x ^ (x >> np.uint64(31))
