"""The watermark payload: a versioned 40-bit identifier with check bits, and its channel code.

Message (64 bits, most significant first)::

    version (4) | identifier (40) | check (20)

``check`` is the first 20 bits of BLAKE2s(version | identifier) keyed with the codec key: a
decode that passes it is the embedded message with probability 1 - 2^-20 per attempt, and the
detector adds a synchronisation test on top (see ``codec``), so a wrong payload is not reported.

The 64 bits (plus 6 zero tail bits) go through a rate-1/2 convolutional code (constraint length
7, generators 171/133 octal, the NASA/CCSDS code) to 140 coded bits, decoded by soft-decision
Viterbi: about 5 dB of coding gain, which buys robustness for the same visibility. When the
likeliest message fails its check bits, ``list_viterbi`` gives the next likeliest for the
detector to try (each try is another 2^-20 chance of a wrong message passing).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np

VERSION = 1
ID_BITS = 40
CHECK_BITS = 20
MESSAGE_BITS = 4 + ID_BITS + CHECK_BITS
_K = 7
_G = (0o171, 0o133)
CODED_BITS = 2 * (MESSAGE_BITS + _K - 1)
MAX_ID = (1 << ID_BITS) - 1


def _check(version: int, identifier: int, key: bytes) -> int:
    digest = hashlib.blake2s(
        version.to_bytes(1, "big") + identifier.to_bytes(5, "big"), key=key, digest_size=4
    ).digest()
    return int.from_bytes(digest, "big") >> (32 - CHECK_BITS)


def _to_bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def _from_bits(bits: np.ndarray) -> int:
    return int("".join(str(int(b)) for b in bits), 2)


def pack(identifier: int, key: bytes, version: int = VERSION) -> np.ndarray:
    """The 64 message bits for ``identifier``."""
    if not 0 <= identifier <= MAX_ID:
        raise ValueError(f"identifier must fit in {ID_BITS} bits")
    bits = _to_bits(version, 4) + _to_bits(identifier, ID_BITS)
    bits += _to_bits(_check(version, identifier, key), CHECK_BITS)
    return np.array(bits, dtype=np.uint8)


@dataclass(frozen=True)
class Message:
    version: int
    identifier: int


def unpack(bits: np.ndarray, key: bytes) -> Message | None:
    """The message if its check bits agree, else None."""
    version = _from_bits(bits[:4])
    identifier = _from_bits(bits[4 : 4 + ID_BITS])
    check = _from_bits(bits[4 + ID_BITS :])
    if version != VERSION or check != _check(version, identifier, key):
        return None
    return Message(version, identifier)


# -- convolutional code -------------------------------------------------------------------------

_STATES = 1 << (_K - 1)


def _parity(x: int) -> int:
    return bin(x).count("1") & 1


# For each state and input bit: the next state and the two output bits.
_NEXT = np.zeros((_STATES, 2), dtype=np.int64)
_OUT = np.zeros((_STATES, 2, 2), dtype=np.int8)
for _s in range(_STATES):
    for _b in (0, 1):
        _reg = (_b << (_K - 1)) | _s
        _NEXT[_s, _b] = _reg >> 1
        _OUT[_s, _b] = [_parity(_reg & g) for g in _G]


def encode(message: np.ndarray) -> np.ndarray:
    """Convolutionally encode ``message`` bits (zero-terminated): 2 * (n + 6) bits."""
    state = 0
    out = []
    for b in [*message.tolist(), *([0] * (_K - 1))]:
        out.extend(_OUT[state, b].tolist())
        state = int(_NEXT[state, b])
    return np.array(out, dtype=np.uint8)


# Each next state n = (b << 5) | (s >> 1) has two predecessors s, both with input bit b = n >> 5.
_PRED = np.array(
    [[((n & (_STATES // 2 - 1)) << 1) | low for low in (0, 1)] for n in range(_STATES)]
)
_PRED_BIT = np.arange(_STATES) >> (_K - 2)


#: The two predecessors' expected coded bits (as -1/+1) for each next state: (next, 2 preds, 2).
_EXPECTED = 2 * _OUT[_PRED, _PRED_BIT[:, None]].astype(np.float64) - 1


def _branch(soft: np.ndarray) -> np.ndarray:
    """Every step's branch metrics at once, (steps, next state, 2 predecessors): the detector
    decodes folds of unmarked images too."""
    pairs = soft.reshape(len(soft) // 2, 2)
    return (_EXPECTED[None] * pairs[:, None, None, :]).sum(axis=3)


def viterbi(soft: np.ndarray) -> np.ndarray:
    """Soft-decision decode, the most likely message: ``soft[i] > 0`` means coded bit i is
    more likely 1. :func:`list_viterbi` with a list of one."""
    return list_viterbi(soft, 1)[0]


@functools.cache
def _slots(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The list decoder's bookkeeping for ``size`` paths a state: a path is a *slot*,
    ``state * size + rank``. For each next state, the slots of its 2 * size candidates (its two
    predecessors' paths, predecessor-major); each state's first candidate in the flattened
    candidates; and the input bit that leads into each slot's state."""
    came_from = (_PRED[:, :, None] * size + np.arange(size)).reshape(_STATES, 2 * size)
    first = np.arange(_STATES)[:, None] * (2 * size)
    return came_from, first, np.repeat(_PRED_BIT, size)


def list_viterbi(soft: np.ndarray, size: int) -> list[np.ndarray]:
    """The ``size`` most likely messages, best first (a parallel list Viterbi decoder; ``size``
    1 is the plain Viterbi decoder).

    Each state keeps its ``size`` best paths instead of one. The others are what the check bits
    choose among when the best path fails them: at a per-bit SNR near 1 (a crop to half the
    frame after JPEG 75) the right message is often second or fifth. Each extra path the check
    bits are asked about is another 2^-CHECK_BITS chance of a wrong message passing them, so
    the caller accepts at most ``size`` times that.
    """
    steps = len(soft) // 2
    branch = _branch(soft)
    if size > 1:
        branch = np.repeat(branch, size, axis=2)  # (steps, next state, 2 * size)
    came_from, first, bit = _slots(size)
    metric = np.full(_STATES * size, -np.inf)  # by slot
    metric[0] = 0.0
    back = np.zeros((steps, _STATES * size), dtype=np.int16)  # each slot's previous slot
    for t in range(steps):
        cand = metric[came_from] + branch[t]
        # Best first; on ties the first candidate (predecessor 0, then the better rank). One
        # path: argmax, the same choice for a fraction of a stable sort's cost (every decode
        # of a fold starts with the best path).
        if size == 1:
            order = cand.argmax(axis=1)[:, None]
        else:
            order = np.argsort(-cand, axis=1, kind="stable")[:, :size]
        picked = (order + first).ravel()
        back[t] = came_from.ravel()[picked]
        metric = cand.ravel()[picked]
    # Back from state 0 (the encoder's zero tail ends there), one slot a step for every path.
    slot = np.flatnonzero(np.isfinite(metric[:size]))
    decoded = np.zeros((len(slot), steps), dtype=np.uint8)
    for t in range(steps - 1, -1, -1):
        decoded[:, t] = bit[slot]
        slot = back[t, slot]
    return list(decoded[:, : steps - (_K - 1)])
