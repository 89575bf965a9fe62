"""Text provenance: a statistical watermark for text that a language model generates.

Knows nothing of C2PA and imports nothing of the library but ``errors``, ``files`` and
``splitmix`` (``tests/test_layout.py`` checks it): signed C2PA manifests inside text are
``provenance.text_manifest``, which builds on c2pa. ``watermark`` holds the green-list scheme
and its torch-free detector; ``ngram`` a small numpy language model that generates with it, for
offline tests and benches; ``llm`` (the ``llm`` extra only) the Hugging Face ``transformers``
logits processor.
"""

from .watermark import (
    TEXT_WATERMARK_ALG,
    TextWatermarkKey,
    TextWatermarkResult,
    WatermarkProcessor,
    detect_text,
    detect_tokens,
    green_mask,
    load_tokenizer,
)

__all__ = [
    "TEXT_WATERMARK_ALG",
    "TextWatermarkKey",
    "TextWatermarkResult",
    "WatermarkProcessor",
    "detect_text",
    "detect_tokens",
    "green_mask",
    "load_tokenizer",
]
