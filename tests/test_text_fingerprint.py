"""The text fingerprint (a MinHash sketch): edited copies match, unrelated texts do not, in
scripts with and without spaces. Texts come from Faker's word lists (a dev dependency)."""

from __future__ import annotations

import random

import pytest

from bench.text_fingerprint import corpus, edit
from provenance import ManifestRegistry, ManifestSpec, verify
from provenance.fingerprint import sketch_similarity, text_sketch, text_units
from provenance.text_manifest import sign_text, strip_wrappers
from provenance.verify import TEXT_SIMILARITY

LANGUAGES = ["zh_CN", "zh_TW", "ja_JP", "ko", "ar_AA", "en_US", "mixed"]


def test_units_by_script():
    assert text_units("香港的讀者") == ["香", "港", "的", "讀", "者"]
    assert text_units("Hello, \uff37\uff2f\uff32\uff2c\uff24 café!") == ["hello", "world", "café"]
    assert text_units("한국어 텍스트") == ["한", "국", "어", "텍", "스", "트"]
    assert text_units("مَرْحَبًا بالعالم") == ["مَرْحَبًا", "بالعالم"]  # harakat stay in the word
    assert text_units("AI生成的text") == ["ai", "生", "成", "的", "text"]
    assert text_units("🙂 !!") == ["🙂", "!", "!"]  # no words: the visible characters
    assert text_units(" \n\t") == [] and text_sketch(" \n") is None


def _sketch(text: str) -> int:
    sketch = text_sketch(text)
    assert sketch is not None, f"no fingerprint for {text!r}"
    return sketch


@pytest.mark.parametrize("language", LANGUAGES)
def test_edited_copies_match_and_unrelated_texts_do_not(language):
    rng = random.Random(language)
    texts = corpus(language, 20, rng)
    vocabulary = sorted({u for t in texts for u in text_units(t)})
    sketches = [_sketch(t) for t in texts]
    for text, sketch in zip(texts, sketches, strict=True):
        assert sketch_similarity(sketch, _sketch(edit(text, 0.10, vocabulary, rng))) >= (
            TEXT_SIMILARITY
        )
    unrelated = [sketch_similarity(a, b) for i, a in enumerate(sketches) for b in sketches[:i]]
    assert max(unrelated) < TEXT_SIMILARITY


def test_texts_without_words_do_not_all_share_one_fingerprint():
    texts = ["🙂🙂🎉", "!!!", "…", "🚀 ✨ 🌙", "¯\\_(ツ)_/¯", "—", "(((", "🇭🇰🇨🇳"]
    sketches = [_sketch(t) for t in texts]
    assert len(set(sketches)) == len(texts)
    for i, a in enumerate(sketches):
        for b in sketches[:i]:
            assert sketch_similarity(a, b) < TEXT_SIMILARITY


def test_chinese_text_recovered_from_the_registry(credentials, tmp_path):
    registry = ManifestRegistry(tmp_path / "m.sqlite3")
    rng = random.Random(15)
    texts = corpus("zh_TW", 30, rng)
    vocabulary = sorted({u for t in texts for u in text_units(t)})
    signed = sign_text(texts[0], credentials, ManifestSpec(generator="Acme LM"), registry=registry)
    for other in texts[1:10]:  # unrelated texts registered beside it
        sign_text(other, credentials, ManifestSpec(), registry=registry)
    copy = edit(strip_wrappers(signed.text), 0.10, vocabulary, rng)
    verdict = verify(copy.encode(), media_type="text/plain", registry=registry)
    assert [m.manifest_id for m in verdict.matches] == [signed.manifest_id]
    assert "possible match" in verdict.summary
    stranger = verify(texts[20].encode(), media_type="text/plain", registry=registry)
    assert stranger.matches == []
