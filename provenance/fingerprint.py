"""Fingerprints: a 64-bit DCT hash (pHash) of an image's luminance, and a MinHash sketch of a
text's words and characters.

Knows nothing of C2PA: pixels or text in, an integer out. The image hash is robust to
re-encoding, resizing and mild colour changes; not to large crops (it describes the whole
frame). The text sketch is robust to edits of a few words or characters, in any script.
"""

from __future__ import annotations

import hashlib
import unicodedata

import cv2
import numpy as np

from .splitmix import splitmix64 as _mix

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


TEXT_FINGERPRINT_ALG = "org.provenance.text-minhash.1"
#: Bits in a text sketch: 1-bit MinHashes, half over units and half over unit bigrams. The
#: registry keeps the first 64 as its (pre-filter) fingerprint and all of them as the binding
#: value. 64 bits alone cannot separate a 10 %-edited copy from unrelated text (measured on
#: Japanese: edited copies down to 0.75, unrelated pairs up to 0.80); 512 can (see
#: bench/text_fingerprint.py).
TEXT_SKETCH_BITS = 512

_SEEDS = _mix(np.arange(1, TEXT_SKETCH_BITS + 1, dtype=np.uint64) * np.uint64(0x632BE59BD9B4E019))
_CHUNK = 4096  # features hashed at once: bounds memory at _CHUNK x 128 x 8 bytes


def _spaceless(cp: int) -> bool:
    """Scripts written without spaces between words, where each character is a unit: Han
    (Chinese, Japanese kanji), kana, Hangul (Korean words take particles, so syllables
    match better than words), Thai, Lao, Khmer, Myanmar."""
    return (
        0x3040 <= cp <= 0x30FF  # hiragana, katakana
        or 0x31F0 <= cp <= 0x31FF
        or 0x3400 <= cp <= 0x4DBF  # Han extension A
        or 0x4E00 <= cp <= 0x9FFF  # Han
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3FFFF  # Han extensions B-H
        or 0x1100 <= cp <= 0x11FF  # Hangul jamo
        or 0x3130 <= cp <= 0x318F
        or 0xAC00 <= cp <= 0xD7AF  # Hangul syllables
        or 0x0E00 <= cp <= 0x0EFF  # Thai, Lao
        or 0x1000 <= cp <= 0x109F  # Myanmar
        or 0x1780 <= cp <= 0x17FF  # Khmer
    )


class _UnitTable(dict[int, str]):
    """``str.translate`` table, filled on first use of each character: letters, digits and
    marks stay (marks keep Arabic harakat, Indic vowel signs inside their words), characters
    of spaceless scripts become words of their own, everything else a space."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        kind = unicodedata.category(ch)[0]
        value = (f" {ch} " if _spaceless(cp) else ch) if kind in "LNM" else " "
        self[cp] = value
        return value


_UNITS = _UnitTable()


def text_units(text: str) -> list[str]:
    """What the sketch compares: words, and single characters of spaceless scripts, after
    NFKC and case folding (full-width forms, ligatures and case do not matter). Text with
    no letters or digits (emoji, punctuation) falls back to its visible characters, so such
    texts do not all look alike."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded.translate(_UNITS).split() or [c for c in folded if not c.isspace()]


def _unit_hashes(units: list[str]) -> np.ndarray:
    """A 64-bit hash per unit (blake2b once per distinct unit)."""
    index = {u: i for i, u in enumerate(dict.fromkeys(units))}
    ids = np.fromiter(map(index.__getitem__, units), np.int64, len(units))
    table = np.fromiter(
        (int.from_bytes(hashlib.blake2b(u.encode(), digest_size=8).digest(), "big") for u in index),
        np.uint64,
        len(index),
    )
    return table[ids]


def _min_hashes(features: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    lowest = np.full(len(seeds), np.iinfo(np.uint64).max, dtype=np.uint64)
    for at in range(0, len(features), _CHUNK):
        chunk = _mix(features[at : at + _CHUNK, None] ^ seeds[None, :])
        lowest = np.minimum(lowest, chunk.min(axis=0))
    return lowest


def text_sketch(text: str) -> int | None:
    """A ``TEXT_SKETCH_BITS``-bit sketch of the text; None for text with nothing visible.

    Bit k is the lowest bit of a MinHash (seed k) over the set of units (even k) or of unit
    bigrams (odd k), so two texts agree on a bit with probability (1 + J) / 2, J being the
    Jaccard similarity of those sets: about 1/2 for texts that share nothing. Character
    units make it work for Chinese, Japanese, Korean and Thai as it does for spaced scripts.
    Cost: linear in the text's length.
    """
    units = text_units(text)
    if not units:
        return None
    hashes = _unit_hashes(units)
    with np.errstate(over="ignore"):
        pairs = _mix(hashes[:-1] * np.uint64(31) ^ hashes[1:]) if len(hashes) > 1 else hashes
    words = np.unique(hashes)
    bigrams = np.unique(pairs)
    bits = np.empty(TEXT_SKETCH_BITS, dtype=np.uint64)
    bits[0::2] = _min_hashes(words, _SEEDS[0::2])
    bits[1::2] = _min_hashes(bigrams, _SEEDS[1::2])
    return int("".join("1" if b & np.uint64(1) else "0" for b in bits), 2)


def sketch_similarity(a: int, b: int) -> float:
    """Share of agreeing sketch bits: 1.0 identical, about 0.5 unrelated."""
    return 1.0 - ((a ^ b).bit_count() / TEXT_SKETCH_BITS)
