"""Perceptual image fingerprint: a 64-bit DCT hash (pHash) of the luminance.

Knows nothing of C2PA: pixels in, an integer out. Robust to re-encoding, resizing and mild
colour changes; not to large crops (it describes the whole frame).
"""

from __future__ import annotations

import hashlib

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


TEXT_FINGERPRINT_ALG = "org.provenance.text-simhash.1"


def text_hash(text: str, shingle: int = 3) -> int:
    """A 64-bit SimHash over word ``shingle``-grams (case and punctuation folded).

    A light edit changes a few shingles and so a few bits; unrelated texts differ in about
    half of them. Compared with :func:`similarity`, like the image hash.
    """
    words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    grams = [" ".join(words[i : i + shingle]) for i in range(max(1, len(words) - shingle + 1))]
    weights = np.zeros(BITS)
    for gram in grams:
        digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
        bits = np.unpackbits(np.frombuffer(digest, dtype=np.uint8)).astype(np.int64)
        weights += 2 * bits - 1
    return int("".join("1" if w > 0 else "0" for w in weights), 2)
