"""The watermark as a Hugging Face ``transformers`` logits processor (the ``llm`` extra).

Only this module imports torch and transformers; the detector (``watermark``) needs neither.
The green lists come from the same numpy hash, so text generated here is detected there.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

from .watermark import TextWatermarkKey, green_mask


class WatermarkLogitsProcessor(LogitsProcessor):
    """Adds ``key.delta`` to the logits of the green tokens after each sequence's last token.

    Use it in ``model.generate(..., logits_processor=LogitsProcessorList([processor]))``, with
    the tokenizer whose ``tokenizer.json`` the verifier is given.
    """

    def __init__(self, key: TextWatermarkKey) -> None:
        self.key = key

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        prev = input_ids[:, -1].detach().cpu().numpy()
        mask = torch.from_numpy(green_mask(prev, scores.shape[-1], self.key)).to(scores.device)
        return scores + self.key.delta * mask.to(scores.dtype)  # type: ignore[return-value]
