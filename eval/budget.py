"""The token budget per batch: `--max-tokens`, else a size that fits the hardware.

Why: one fixed number is wrong somewhere. On a CPU, batches past a few thousand tokens are
no faster (the GEMMs are already large) and only cost memory, so the default stays 8,192. On
a GPU the budget decides how full the device is: with `--max-tokens` unset, rbkit reads the
free memory of every CUDA device the models sit on (after the weights are loaded) and divides
a safe share of the smallest by what one token costs in flight:

    per token = 2 x K/V bytes (the packed prefix store, and the past a call gathers)
              + activations of one layer (about 6 x hidden + 3 x intermediate values)

in the model's dtype. Scores do not depend on the budget (batch invariance), only speed
and memory do. Under a launcher every rank takes the smallest budget of all ranks, so all
ranks plan the same batches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DEFAULT_CPU_TOKENS = 8192
FREE_SHARE = 0.6  # of the free device memory; the rest absorbs allocator slack and DPO logit chunks
MIN_TOKENS = 1024
MAX_TOKENS = 1 << 18  # past this, batches only add latency to the first result


def bytes_per_token(config: Any, dtype_bytes: int) -> int:
    """What one token of a batch holds in device memory while a decoder trunk runs (see module doc)."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    hidden = int(getattr(text, "hidden_size", 0) or getattr(text, "n_embd", 0) or 1024)
    layers = int(getattr(text, "num_hidden_layers", 0) or getattr(text, "n_layer", 0) or 24)
    heads = int(getattr(text, "num_attention_heads", 0) or 16)
    kv_heads = int(getattr(text, "num_key_value_heads", 0) or heads)
    head_dim = int(getattr(text, "head_dim", 0) or hidden // heads)
    intermediate = int(getattr(text, "intermediate_size", 0) or 4 * hidden)
    kv = 2 * layers * kv_heads * head_dim * dtype_bytes
    return 2 * kv + (6 * hidden + 3 * intermediate) * dtype_bytes


def cuda_devices(model: Any) -> set[int]:
    """Indices of the CUDA devices holding any of a model's parameters."""
    return {p.device.index or 0 for p in model.parameters() if p.device.type == "cuda"}


def probe(models: Iterable[Any]) -> int | None:
    """A budget from free CUDA memory for the given (loaded) models, or None when none is on a GPU."""
    import torch

    models = [m for m in models if m is not None]
    devices = set().union(*(cuda_devices(m) for m in models)) if models else set()
    if not devices:
        return None
    free = min(torch.cuda.mem_get_info(d)[0] for d in devices)
    cost = max(bytes_per_token(m.config, next(m.parameters()).element_size()) for m in models)
    tokens = int(FREE_SHARE * free // cost)
    return max(MIN_TOKENS, min(MAX_TOKENS, tokens // 256 * 256))


def models_of(scorer: Any) -> list[Any]:
    """The torch models behind a built-in scorer (a wrapped one included); [] for custom heads."""
    inner = getattr(scorer, "inner", scorer)
    return [m for m in (getattr(inner, "model", None), getattr(inner, "policy", None), getattr(inner, "reference", None))
            if m is not None and hasattr(m, "parameters") and hasattr(m, "config")]


def token_budget(requested: int | None, scorer: Any) -> tuple[int, str]:
    """(budget, where it came from: "option" | "probe" | "default")."""
    if requested is not None:
        return requested, "option"
    probed = probe(models_of(scorer))
    if probed is not None:
        return probed, "probe"
    return DEFAULT_CPU_TOKENS, "default"
