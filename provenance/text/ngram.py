"""A small numpy bigram language model and word-level tokenizer, trained offline.

Not a product feature: a real, if simple, text generator that needs no torch and no download, so
that tests and benches can close the loop (generate with the watermark, detect without it). Its
corpus is the English prose of Python's own documentation topics, which ship with CPython
(``pydoc_data``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np

from .watermark import TextWatermarkKey, WatermarkProcessor


def corpus() -> list[str]:
    """Paragraphs of English prose from CPython's ``pydoc_data`` (no code blocks)."""
    from pydoc_data.topics import topics

    paragraphs = []
    for text in topics.values():
        for block in re.split(r"\n\s*\n", text):
            line = " ".join(block.split())
            words = line.split()
            # Prose: long enough, mostly alphabetic words, not an indented code sample.
            if (
                len(words) >= 12
                and not block.startswith("   ")
                and sum(w.isalpha() for w in words) > 0.7 * len(words)
            ):
                paragraphs.append(line)
    return paragraphs


def build_tokenizer(texts: Sequence[str], vocab_size: int = 5000):  # type: ignore[no-untyped-def]
    """A word-level Hugging Face tokenizer trained on ``texts`` (save it as tokenizer.json)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=["[UNK]"])
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def build_bpe_tokenizer(texts: Sequence[str], vocab_size: int = 4000):  # type: ignore[no-untyped-def]
    """A byte-level BPE tokenizer (GPT-2's kind, the kind LLMs use for Chinese) trained on
    ``texts``: any script, no unknown tokens, and decode gives back the exact text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


class BigramModel:
    """P(token | previous) interpolated with P(token); sampling with an optional watermark."""

    def __init__(
        self, sequences: Sequence[Sequence[int]], vocab_size: int, mix: float = 0.8
    ) -> None:
        self.vocab_size, self.mix = vocab_size, mix
        unigram = np.ones(vocab_size)
        self.next: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        pairs: dict[int, dict[int, int]] = {}
        for seq in sequences:
            for a, b in itertools.pairwise(seq):
                pairs.setdefault(a, {})
                pairs[a][b] = pairs[a].get(b, 0) + 1
            for t in seq:
                unigram[t] += 1
        self.unigram = unigram / unigram.sum()
        for a, followers in pairs.items():
            ids = np.fromiter(followers.keys(), dtype=np.int64)
            counts = np.fromiter(followers.values(), dtype=np.float64)
            self.next[a] = (ids, counts / counts.sum())

    def logits(self, prev: int) -> np.ndarray:
        probs = (1 - self.mix) * self.unigram
        if prev in self.next:
            ids, p = self.next[prev]
            probs = probs.copy()
            probs[ids] += self.mix * p
        else:
            probs = self.unigram
        return np.log(probs)

    def generate(
        self,
        prompt: Sequence[int],
        length: int,
        rng: np.random.Generator,
        key: TextWatermarkKey | None = None,
        temperature: float = 1.0,
    ) -> list[int]:
        out = list(prompt)
        processor = WatermarkProcessor(key) if key is not None else None
        for _ in range(length):
            logits = self.logits(out[-1]) / temperature
            if processor is not None:
                logits = processor(np.array([out]), logits[None, :])[0]
            p = np.exp(logits - logits.max())
            out.append(int(rng.choice(self.vocab_size, p=p / p.sum())))
        return out[len(prompt) :]
