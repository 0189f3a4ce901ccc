"""Where a model's weights go when it loads, and where its inputs must be sent.

Why one place: the classifier, the DPO policy and the DPO reference all load the same way.
Weights are read straight onto their device in the requested dtype (transformers'
`device_map` with `low_cpu_mem_usage`), so a 70B bf16 checkpoint never becomes a full fp32
copy in host memory first. `--device-map auto` hands placement to accelerate: layers spread
over the visible GPUs, then the CPU, then an offload folder on disk (`max_memory` caps each).
Such a model's parameters may sit on `meta` while hooks stream them in, so the device that
inputs go to is the embedding's execution device, never `model.device`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

ATTN_IMPLEMENTATIONS = ("eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention")


@dataclass(frozen=True)
class Placement:
    """How to load: one device, or an accelerate device map with its memory caps and offload folder."""

    device: str = "cpu"
    device_map: str | None = None  # "auto" | "balanced" | "balanced_low_0" | "sequential"
    max_memory: dict[str | int, str | int] | None = None  # {"cpu": "2GiB", 0: "70GiB"}
    offload_folder: Path | None = None  # default: a temporary folder when the map offloads to disk
    attn_implementation: str | None = None  # None: transformers' default (sdpa where supported)


def parse_max_memory(text: str | None) -> dict[str | int, str | int] | None:
    """`cpu=2GiB,0=70GiB` -> {"cpu": "2GiB", 0: "70GiB"} (a GPU index becomes an int; bare numbers are bytes)."""
    if not text:
        return None
    out: dict[str | int, str | int] = {}
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"--max-memory {text!r}: expected DEVICE=SIZE[,DEVICE=SIZE...], e.g. cpu=2GiB,0=70GiB")
        k: str | int = int(key) if key.strip().isdigit() else key.strip()
        v = value.strip()
        out[k] = int(v) if v.isdigit() else v
    return out


def load_kwargs(placement: Placement, dtype: torch.dtype) -> dict[str, Any]:
    """Keyword arguments for `from_pretrained`: weights land on their device in `dtype`, nowhere else first."""
    kwargs: dict[str, Any] = {"dtype": dtype, "low_cpu_mem_usage": True}
    if placement.device_map:
        kwargs["device_map"] = placement.device_map
        if placement.max_memory:
            kwargs["max_memory"] = placement.max_memory
        kwargs["offload_folder"] = str(placement.offload_folder or tempfile.mkdtemp(prefix="rbkit-offload-"))
    else:
        kwargs["device_map"] = placement.device
    if placement.attn_implementation:
        kwargs["attn_implementation"] = placement.attn_implementation
    return kwargs


def _as_device(value: Any) -> torch.device:
    if isinstance(value, int):
        return torch.device("cuda", value)
    if value in ("disk", "meta"):  # offloaded weights run on the CPU
        return torch.device("cpu")
    return torch.device(value)


def input_device(model: Any) -> torch.device:
    """The device a model's input ids must be on: its embedding's execution device."""
    emb = model.get_input_embeddings()
    hook = getattr(emb, "_hf_hook", None) or getattr(model, "_hf_hook", None)
    executes = getattr(hook, "execution_device", None)
    if executes is not None:
        return _as_device(executes)
    return emb.weight.device


def placed(model: Any) -> dict[str, Any]:
    """{"device_map": module -> device} for a model accelerate spread out (results.json's scorer
    block shows where each part ran); {} for a model on one device."""
    mapping = getattr(model, "hf_device_map", None) or {}
    devices = {str(v) for v in mapping.values()}
    if len(devices) <= 1 and not devices & {"disk", "meta"}:
        return {}
    return {"device_map": {k: str(v) for k, v in mapping.items()}}
