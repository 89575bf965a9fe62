"""The text watermark, closed offline: a numpy bigram model generates with the key, the
torch-free detector finds it, and text written without the key stays below the threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from provenance import TextDetector, TextWatermarkKey, verify
from provenance.cli import main
from provenance.text import detect_text, detect_tokens, green_mask, load_tokenizer, ngram
from provenance.text.watermark import binomial_tail


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    texts = ngram.corpus()
    tokenizer = ngram.build_tokenizer(texts)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tokenizer.save(str(path))
    tokenizer = load_tokenizer(path)  # what users do: a tokenizer.json by path
    sequences = [e.ids for e in tokenizer.encode_batch(texts)]
    return tokenizer, path, ngram.BigramModel(sequences, tokenizer.get_vocab_size()), texts


@pytest.fixture(scope="module")
def key() -> TextWatermarkKey:
    return TextWatermarkKey(b"0123456789abcdef-test-key", gamma=0.25, delta=2.0)


def test_green_fraction_is_gamma(key):
    mask = green_mask(np.arange(50), 5000, key)
    assert mask.shape == (50, 5000)
    assert abs(mask.mean() - 0.25) < 0.01
    assert not np.array_equal(mask[0], mask[1])  # depends on the previous token


def test_binomial_tail_is_exact():
    assert binomial_tail(0, 10, 0.25) == 1.0
    assert binomial_tail(11, 10, 0.25) == 0.0
    assert binomial_tail(10, 10, 0.25) == pytest.approx(0.25**10)
    assert binomial_tail(1, 1, 0.25) == pytest.approx(0.25)


def test_generated_text_is_detected_through_decode_and_retokenise(lm, key):
    tokenizer, _, model, _ = lm
    rng = np.random.default_rng(1)
    for _ in range(5):
        ids = model.generate([rng.integers(1, 500)], 100, rng, key)
        text = tokenizer.decode(ids)
        result = detect_text(text, tokenizer, key)
        assert result.detected and result.p_value < 1e-6, result
        assert result.z_score > 4.75


def test_unmarked_text_stays_below_the_threshold(lm, key):
    tokenizer, _, model, texts = lm
    rng = np.random.default_rng(2)
    p_values = [
        detect_tokens(model.generate([rng.integers(1, 500)], 200, rng), key).p_value
        for _ in range(40)
    ]
    p_values += [detect_text(t, tokenizer, key).p_value for t in texts[:100]]
    assert min(p_values) > 1e-6
    # Under the null the p-values are roughly uniform: not all tiny, not all one.
    assert 0.2 < float(np.median(p_values)) < 0.8


def test_another_key_does_not_detect(lm, key):
    _, _, model, _ = lm
    rng = np.random.default_rng(3)
    ids = model.generate([5], 150, rng, key)
    other = TextWatermarkKey(b"another secret key, 32 bytes.....")
    assert not detect_tokens(ids, other).detected


def test_repetition_cannot_fake_a_watermark(key):
    # One green pair repeated a thousand times counts once.
    mask = green_mask(7, 100, key)[0]
    green_token = int(np.flatnonzero(mask)[0])
    result = detect_tokens([7, green_token] * 1000, key)
    assert result.scored_tokens == 2 and not result.detected


def test_key_file_round_trip_and_repr_hides_the_secret(tmp_path, key, capsys):
    assert TextWatermarkKey.from_text(key.to_text()) == key
    assert key.secret.hex() not in repr(key)
    out = tmp_path / "k.key"
    assert main(["text-key", str(out)]) == 0
    assert (out.stat().st_mode & 0o777) == 0o600
    assert TextWatermarkKey.from_file(out).key_id in capsys.readouterr().out


def test_verify_reports_text_watermark_evidence(lm, key, tmp_path, capsys):
    tokenizer, tok_path, model, texts = lm
    rng = np.random.default_rng(4)
    marked = tmp_path / "marked.txt"
    marked.write_text(tokenizer.decode(model.generate([11], 120, rng, key)))
    plain = tmp_path / "plain.md"
    plain.write_text(" ".join(texts[:3]))
    detector = TextDetector(key, tokenizer)
    verdict = verify(marked, text_detectors=[detector])
    assert verdict.media_type == "text/plain"
    assert verdict.ai.generated is True and verdict.ai.evidence == ["text-watermark"]
    assert verdict.text_watermark is not None and verdict.text_watermark["p_value"] < 1e-6
    assert "language-model watermark" in verdict.summary
    assert verify(plain, text_detectors=[detector]).ai.generated is None

    key_file = tmp_path / "wm.key"
    key_file.write_text(key.to_text())
    assert (
        main(
            [
                "verify",
                str(marked),
                str(plain),
                "--json",
                "--text-watermark",
                f"{key_file}={tok_path}",
            ]
        )
        == 0
    )
    both = json.loads(capsys.readouterr().out)
    assert [v["ai"]["generated"] for v in both] == [True, None]


def test_chinese_on_a_byte_level_bpe_tokenizer(key, tmp_path):
    """Chinese through a real subword tokenizer (byte-level BPE trained here, with the
    ``tokenizers`` library, on Simplified and Traditional Chinese text from Faker's word
    lists), generated through the numpy logits processor, detected from the decoded text."""
    import random

    from bench.text_fingerprint import corpus
    from provenance.text import WatermarkProcessor

    picker = random.Random(11)
    texts = corpus("zh_CN", 400, picker) + corpus("zh_TW", 400, picker)
    path = tmp_path / "tokenizer.json"
    ngram.build_bpe_tokenizer(texts, vocab_size=1500).save(str(path))
    tokenizer = load_tokenizer(path)
    sequences = [e.ids for e in tokenizer.encode_batch(texts)]
    assert max(map(len, texts)) / max(map(len, sequences)) > 1.3  # merges, not bytes
    model = ngram.BigramModel(sequences, tokenizer.get_vocab_size())
    # The processor has transformers' calling convention and adds delta to green logits only.
    scores = np.zeros((2, 1500))
    boosted = WatermarkProcessor(key)(np.array([[3, 7], [4, 9]]), scores)
    assert np.array_equal(boosted, key.delta * green_mask(np.array([7, 9]), 1500, key))
    rng = np.random.default_rng(4)
    for _ in range(5):
        text = tokenizer.decode(model.generate([int(rng.integers(300, 1400))], 100, rng, key))
        assert sum("\u4e00" <= c <= "\u9fff" for c in text) > 100  # Chinese characters
        assert detect_text(text, tokenizer, key).detected
    plain = [
        detect_text(
            tokenizer.decode(model.generate([int(rng.integers(300, 1400))], 100, rng)),
            tokenizer,
            key,
        ).p_value
        for _ in range(20)
    ]
    assert min(plain) > 1e-6
