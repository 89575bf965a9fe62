"""A generation-time watermark for language-model text (green list, after Kirchenbauer et al.).

At each step the vocabulary is split, by a keyed hash of the previous token, into a "green"
fraction ``gamma`` and the rest; the generator adds ``delta`` to green logits, so watermarked text
holds more green tokens than chance. The detector needs only the token ids (from the same
tokenizer) and the key — no model, no torch:

* each distinct (previous token, token) pair is scored once, so repetitive text cannot inflate
  the count;
* the number of green tokens among T scored ones is Binomial(T, gamma) for text written without
  the key; the p-value is that binomial's exact upper tail, and "watermarked" means
  p < ``p_threshold`` (default 1e-6): the false-positive rate is bounded by the threshold.

The green test is the same vectorised 64-bit hash (splitmix64) for the detector (numpy) and for
generation (numpy here, torch in ``llm``), so both agree bit for bit on every platform.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ProvenanceError
from ..files import write_output
from ..splitmix import M1 as _M1
from ..splitmix import splitmix64 as _splitmix

TEXT_WATERMARK_ALG = "org.provenance.kgw.1"
DEFAULT_P_THRESHOLD = 1e-6

_TOKEN_MIX = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True)
class TextWatermarkKey:
    """The secret and the scheme's parameters. ``delta`` matters only when generating."""

    secret: bytes
    gamma: float = 0.25
    delta: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 < self.gamma < 1.0:
            raise ValueError("gamma must be between 0 and 1")
        if len(self.secret) < 16:
            raise ValueError("the secret must have at least 16 bytes")

    def __repr__(self) -> str:  # never show the secret
        return f"TextWatermarkKey(id={self.key_id}, gamma={self.gamma}, delta={self.delta})"

    @property
    def key_id(self) -> str:
        """A public name for the key (a hash of it), to say which key detected what."""
        return hashlib.sha256(b"key-id" + self.secret).hexdigest()[:12]

    @property
    def seed(self) -> np.uint64:
        return np.uint64(
            int.from_bytes(hashlib.blake2b(self.secret, digest_size=8).digest(), "big")
        )

    @classmethod
    def generate(cls, **kwargs: float) -> TextWatermarkKey:
        return cls(secrets.token_bytes(32), **kwargs)  # type: ignore[arg-type]

    def to_text(self) -> str:
        return f"{TEXT_WATERMARK_ALG} gamma={self.gamma} delta={self.delta} {self.secret.hex()}\n"

    @classmethod
    def from_text(cls, text: str, source: str = "key") -> TextWatermarkKey:
        parts = text.split()
        try:
            if parts[0] != TEXT_WATERMARK_ALG:
                raise ValueError
            params = dict(p.split("=", 1) for p in parts[1:-1])
            return cls(
                bytes.fromhex(parts[-1]),
                gamma=float(params.get("gamma", 0.25)),
                delta=float(params.get("delta", 2.0)),
            )
        except (ValueError, IndexError):
            raise ProvenanceError(f"{source} is not a {TEXT_WATERMARK_ALG} key file") from None

    def save(self, path: Path, *, replace: bool = False) -> None:
        """Write the key to ``path`` (mode 0600: it is a secret), atomically; an existing file
        is only replaced if ``replace``."""
        write_output(path, self.to_text().encode(), replace=replace, mode=0o600)

    @classmethod
    def from_file(cls, path: Path | str) -> TextWatermarkKey:
        try:
            return cls.from_text(Path(path).read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise ProvenanceError(
                f"cannot read the text watermark key {path}: {exc.strerror}"
            ) from exc


def _green(prev: np.ndarray, tokens: np.ndarray, key: TextWatermarkKey) -> np.ndarray:
    """Whether each ``tokens`` entry is green after the matching ``prev`` (broadcasting)."""
    with np.errstate(over="ignore"):
        mixed = _splitmix(
            key.seed ^ (prev.astype(np.uint64) * _M1) ^ (tokens.astype(np.uint64) * _TOKEN_MIX)
        )
    limit = np.uint64(int(key.gamma * 2**64) - 1)
    return mixed <= limit


def green_mask(prev: np.ndarray | int, vocab_size: int, key: TextWatermarkKey) -> np.ndarray:
    """The green tokens after each previous token: bool array (len(prev), vocab_size)."""
    prev_arr = np.atleast_1d(np.asarray(prev, dtype=np.int64))[:, None]
    return _green(prev_arr, np.arange(vocab_size, dtype=np.int64)[None, :], key)


def watermark_logits(
    logits: np.ndarray, prev: np.ndarray | int, key: TextWatermarkKey
) -> np.ndarray:
    """Logits with ``delta`` added to the green tokens (numpy generators; see ``llm``)."""
    logits = np.atleast_2d(logits)
    return logits + key.delta * green_mask(prev, logits.shape[-1], key)


class WatermarkProcessor:
    """The watermark as a logits processor over numpy arrays, with transformers' calling
    convention: ``processor(input_ids (batch, seq), scores (batch, vocab)) -> scores``. For
    numpy or ONNX generators; ``llm.WatermarkLogitsProcessor`` is the torch one."""

    def __init__(self, key: TextWatermarkKey) -> None:
        self.key = key

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return watermark_logits(scores, np.asarray(input_ids)[:, -1], self.key)


@dataclass(frozen=True)
class TextWatermarkResult:
    detected: bool
    p_value: float
    z_score: float
    scored_tokens: int
    green_tokens: int
    key_id: str
    alg: str = TEXT_WATERMARK_ALG

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly (log-space sum)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    log_terms = [
        math.lgamma(n + 1)
        - math.lgamma(i + 1)
        - math.lgamma(n - i + 1)
        + i * math.log(p)
        + (n - i) * math.log1p(-p)
        for i in range(k, n + 1)
    ]
    top = max(log_terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in log_terms))


def detect_tokens(
    ids: Sequence[int], key: TextWatermarkKey, *, p_threshold: float = DEFAULT_P_THRESHOLD
) -> TextWatermarkResult:
    """Score token ids against ``key``: z-score and exact binomial p-value."""
    arr = np.asarray(ids, dtype=np.int64)
    if arr.size < 2:
        return TextWatermarkResult(False, 1.0, 0.0, 0, 0, key.key_id)
    pairs = np.unique(np.stack([arr[:-1], arr[1:]], axis=1), axis=0)
    green = int(_green(pairs[:, 0], pairs[:, 1], key).sum())
    n = len(pairs)
    z = (green - key.gamma * n) / math.sqrt(n * key.gamma * (1 - key.gamma))
    p = binomial_tail(green, n, key.gamma)
    return TextWatermarkResult(p < p_threshold, p, round(z, 3), n, green, key.key_id)


def load_tokenizer(path: Path | str):  # type: ignore[no-untyped-def]
    """A Hugging Face ``tokenizer.json`` from a path (nothing is downloaded)."""
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # the Rust side raises plain Exceptions
        raise InputError(f"cannot load the tokenizer {path}: {exc}") from None


def detect_text(
    text: str,
    tokenizer,
    key: TextWatermarkKey,
    *,  # type: ignore[no-untyped-def]
    p_threshold: float = DEFAULT_P_THRESHOLD,
) -> TextWatermarkResult:
    """Tokenise ``text`` with the generator's tokenizer, then :func:`detect_tokens`."""
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    return detect_tokens(ids, key, p_threshold=p_threshold)
