"""Text provenance: a statistical watermark for text that a language model generates.

Knows nothing of C2PA (the signed-manifest-in-text part is a later step). ``watermark`` holds the
green-list scheme and its torch-free detector; ``ngram`` a small numpy language model that
generates with it, for offline tests and benches; ``llm`` (the ``llm`` extra only) the Hugging
Face ``transformers`` logits processor.
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
