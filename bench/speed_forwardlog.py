"""Record what each transformer trunk forward actually computes, identically on both sides.

Wraps the base model class's `forward` (LlamaModel in both transformers 4.51 and 5.x: the
classifier, the causal LM and rbkit's scorers all go through it) and records, per call, the
rows, the padded width, the cached (past) width and each row's real new tokens and real
past tokens. From these the report derives computed tokens, padding and FLOPs the same way
for both evaluators. Standard library only: it also runs in the original's venv.
"""

from __future__ import annotations

import time
from typing import Any


def _past_width(past: Any) -> int:
    if past is None:
        return 0
    get = getattr(past, "get_seq_length", None)
    if get is not None:
        return int(get())
    return int(past[0][0].shape[-2])  # legacy tuple cache


class ForwardLog:
    """Per-forward shapes and the time window from the first forward to the last."""

    def __init__(self) -> None:
        # [rows, padded width, past width, real new tokens, sum over rows of real past tokens,
        #  sum over rows of real_new * (real_past + (real_new + 1) / 2)  (causal attention terms)]
        self.forwards: list[list[float]] = []
        self.first: float | None = None
        self.last: float | None = None

    def wrap(self, cls: type) -> None:
        inner = cls.forward
        log = self

        def forward(model, input_ids=None, attention_mask=None, *args, **kwargs):
            start = time.perf_counter()
            if log.first is None:
                log.first = start
            out = inner(model, input_ids, attention_mask, *args, **kwargs)
            log.last = time.perf_counter()
            log.record(input_ids, attention_mask, kwargs.get("cache", kwargs.get("past_key_values")))
            return out

        forward.__wrapped__ = inner  # signature introspection still sees the real one
        cls.forward = forward

    def record(self, input_ids: Any, attention_mask: Any, past: Any) -> None:
        rows, width = (int(x) for x in input_ids.shape)
        past_w = _past_width(past)
        if attention_mask is not None and attention_mask.dim() == 2:
            new = attention_mask[:, -width:].sum(-1).tolist()
            old = attention_mask[:, : attention_mask.shape[1] - width].sum(-1).tolist()
        else:
            new, old = [width] * rows, [past_w] * rows
        attn = sum(n * (o + (n + 1) / 2) for n, o in zip(new, old, strict=True))
        self.forwards.append([rows, width, past_w, int(sum(new)), int(sum(old)), float(attn)])

    @property
    def seconds(self) -> float:
        return (self.last or 0.0) - (self.first or 0.0)
