"""Opt-in (``pytest -m llm``, needs the llm extra and a CPU torch): a GPT-2 built from a config
generates through the transformers logits processor; the torch-free detector finds the mark."""

from __future__ import annotations

import pytest

from provenance.text import TextWatermarkKey, detect_text, detect_tokens, ngram

pytestmark = pytest.mark.llm
torch = pytest.importorskip("torch", reason="the llm tests need torch (see the README)")
transformers = pytest.importorskip("transformers", reason="the llm tests need the llm extra")


def _chinese_tokenizer():
    import random

    from bench.text_fingerprint import corpus

    picker = random.Random(11)
    texts = corpus("zh_CN", 400, picker) + corpus("zh_TW", 400, picker)
    return ngram.build_bpe_tokenizer(texts, vocab_size=2000)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_gpt2_from_config_generates_detectable_text(language):
    from provenance.text.llm import WatermarkLogitsProcessor

    tokenizer = (
        ngram.build_tokenizer(ngram.corpus(), vocab_size=2000)
        if language == "en"
        else _chinese_tokenizer()
    )
    config = transformers.GPT2Config(
        vocab_size=tokenizer.get_vocab_size(), n_positions=256, n_embd=64, n_layer=2, n_head=2
    )
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config).eval()
    key = TextWatermarkKey(b"llm test key, at least 16 bytes", gamma=0.25, delta=2.0)
    prompt = torch.tensor([[tokenizer.encode("the" if language == "en" else "我们").ids[0]]])

    def generate(processors: list) -> list[int]:
        with torch.no_grad():
            out = model.generate(
                prompt,
                do_sample=True,
                max_new_tokens=120,
                pad_token_id=0,
                logits_processor=transformers.LogitsProcessorList(processors),
            )
        return out[0].tolist()

    marked = generate([WatermarkLogitsProcessor(key)])
    plain = generate([])
    assert detect_tokens(marked, key).detected
    assert detect_text(tokenizer.decode(marked), tokenizer, key).p_value < 1e-6
    assert not detect_tokens(plain, key).detected
