"""Text watermark detection rate by length and after word substitution.

A numpy bigram model (trained on CPython's documentation prose, offline) generates text with the
key (gamma 0.25, delta 2.0); the torch-free detector scores it. For each length (25/50/100/200
tokens) and each substitution rate (10/30/50 % of the words of 200-token texts replaced by
words drawn from the corpus' unigram distribution): the share detected at p < 1e-3 and p < 1e-6,
and beside it the false-positive rate measured in the same run on text generated without the
key. Then the same by length for Chinese, on a real subword tokenizer: a byte-level BPE (the
kind LLMs use for Chinese) trained here with the ``tokenizers`` library on Simplified and
Traditional Chinese paragraphs generated from Faker's word lists (bench/text_fingerprint.py),
a bigram model over its tokens generating through the numpy ``WatermarkProcessor``, and
detection from the decoded text, re-tokenised (``detect_text``), as a verifier would see it.
Table to stdout, JSON to bench/results/text_watermark.json.

    uv run python -m bench.text_watermark [--samples 200] [--chinese-texts 2000]
"""

from __future__ import annotations

import argparse

import numpy as np

from bench._common import table, write_json
from bench.text_fingerprint import corpus
from provenance.text import TextWatermarkKey, detect_text, detect_tokens, ngram


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--chinese-texts", type=int, default=2000)
    args = parser.parse_args()
    texts = ngram.corpus()
    tokenizer = ngram.build_tokenizer(texts)
    sequences = [e.ids for e in tokenizer.encode_batch(texts)]
    model = ngram.BigramModel(sequences, tokenizer.get_vocab_size())
    key = TextWatermarkKey(b"bench key: not a secret, 32 bytes", gamma=0.25, delta=2.0)
    rng = np.random.default_rng(2026)

    def start() -> list[int]:
        return [int(rng.integers(1, 1000))]

    def rates(p_values: list[float]) -> tuple[str, str]:
        p = np.asarray(p_values)
        return f"{100 * (p < 1e-3).mean():.1f}%", f"{100 * (p < 1e-6).mean():.1f}%"

    rows = []
    for length in (25, 50, 100, 200):
        marked = [
            detect_tokens(model.generate(start(), length, rng, key), key).p_value
            for _ in range(args.samples)
        ]
        plain = [
            detect_tokens(model.generate(start(), length, rng), key).p_value
            for _ in range(args.samples)
        ]
        d3, d6 = rates(marked)
        f3, f6 = rates(plain)
        rows.append(
            {
                "text": f"{length} tokens",
                "detected @1e-3": d3,
                "detected @1e-6": d6,
                "false pos @1e-3": f3,
                "false pos @1e-6": f6,
            }
        )
    for share in (0.1, 0.3, 0.5):
        p_values = []
        for _ in range(args.samples):
            ids = np.array(model.generate(start(), 200, rng, key))
            hit = rng.random(len(ids)) < share
            ids[hit] = rng.choice(len(model.unigram), hit.sum(), p=model.unigram)
            p_values.append(detect_tokens(ids.tolist(), key).p_value)
        d3, d6 = rates(p_values)
        rows.append(
            {
                "text": f"200 tokens, {int(share * 100)}% words replaced",
                "detected @1e-3": d3,
                "detected @1e-6": d6,
                "false pos @1e-3": "",
                "false pos @1e-6": "",
            }
        )
    rows += chinese_rows(args, key, rng, rates)
    print(
        table(
            rows, ["text", "detected @1e-3", "detected @1e-6", "false pos @1e-3", "false pos @1e-6"]
        )
    )
    print(
        f"\n{args.samples} texts per row; gamma {key.gamma}, delta {key.delta}; "
        "false positives measured on text generated without the key"
    )
    print(f"wrote {write_json('text_watermark', {'rows': rows, 'samples': args.samples})}")


def chinese_rows(args, key, rng, rates) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    import random

    picker = random.Random(2026)
    texts = corpus("zh_CN", args.chinese_texts, picker) + corpus(
        "zh_TW", args.chinese_texts, picker
    )
    tokenizer = ngram.build_bpe_tokenizer(texts, vocab_size=3000)
    sequences = [e.ids for e in tokenizer.encode_batch(texts)]
    model = ngram.BigramModel(sequences, tokenizer.get_vocab_size())
    chars_per_token = sum(map(len, texts)) / sum(map(len, sequences))
    rows = []
    for length in (25, 50, 100, 200):

        def p_value(marked: bool, length: int = length) -> float:
            ids = model.generate(
                [int(rng.integers(300, 2000))], length, rng, key if marked else None
            )
            return detect_text(tokenizer.decode(ids), tokenizer, key).p_value

        d3, d6 = rates([p_value(True) for _ in range(args.samples)])
        f3, f6 = rates([p_value(False) for _ in range(args.samples)])
        rows.append(
            {
                "text": f"Chinese, {length} BPE tokens (~{length * chars_per_token:.0f} chars)",
                "detected @1e-3": d3,
                "detected @1e-6": d6,
                "false pos @1e-3": f3,
                "false pos @1e-6": f6,
            }
        )
    return rows


if __name__ == "__main__":
    main()
