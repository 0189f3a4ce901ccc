"""fp32 Linear layers on the CPU through oneDNN's prepacked GEMM instead of the BLAS sgemm.

Why: torch's fp32 `linear` on the CPU calls MKL's sgemm, which on AMD processors takes a
generic path; oneDNN picks its kernels from the instruction set alone. On the bench machine
(AMD EPYC Zen 5, AVX-512), with each weight packed once into oneDNN's blocked layout, the
decoder's GEMMs run 2.2-2.4x faster per core (`bench/speed_profile.py` prints both). The
arithmetic is the same fp32; only the summation order differs, so each output moves by a
few ulp, like a different batch composition: scores stay within the 1e-5 batch-invariance
tolerance (tests/eval/test_cpu_linear.py).

Only the trunk's Linear layers are packed (the score head and the LM head keep theirs, so
`model.score` / `get_output_embeddings()` stay ordinary modules), and only when the model
sits whole on the CPU in fp32 with oneDNN built in; anything else is left as it is.
"""

from __future__ import annotations

from typing import Any

import torch

ROWS_HINT = 4096  # the token positions of a typical trunk call (eval.prefix_cache.SUB_BATCH_TOKENS)


class PackedLinear(torch.nn.Module):
    """A Linear layer whose weight is kept in oneDNN's packed layout (inference only)."""

    def __init__(self, linear: torch.nn.Linear, rows_hint: int = ROWS_HINT):
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        self.packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), rows_hint)
        self.bias = None if linear.bias is None else linear.bias.detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, oneDNN packed"


def packable(model: Any) -> bool:
    """Whole on the CPU, fp32, no accelerate hooks, and a torch built with oneDNN."""
    if not torch.backends.mkldnn.is_available() or not isinstance(model, torch.nn.Module):
        return False
    if any(hasattr(m, "_hf_hook") for m in model.modules()):
        return False
    params = list(model.parameters())
    return bool(params) and all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params)


def pack_trunk(model: Any) -> int:
    """Swap the fp32 Linear layers of `model`'s trunk (its base model) for packed ones; how many."""
    if not packable(model):
        return 0
    trunk = getattr(model, getattr(model, "base_model_prefix", ""), None)
    if not isinstance(trunk, torch.nn.Module) or trunk is model:
        return 0
    slots = [(parent, name) for parent in trunk.modules() for name, child in parent.named_children()
             if type(child) is torch.nn.Linear]
    for parent, name in slots:  # one layer at a time, so that at most one extra copy is alive
        old = getattr(parent, name)
        setattr(parent, name, PackedLinear(old))
        storage = old.weight.untyped_storage().data_ptr()  # tied or a view of another weight: keep
        shared = any(p.untyped_storage().data_ptr() == storage for p in model.parameters())
        if not shared:
            _release_pages(old.weight)
        del old
    return len(slots)


def _release_pages(weight: torch.Tensor) -> None:
    """Give the pages of a weight that was just packed back to the OS (Linux `madvise`).

    Why: transformers maps safetensors files into memory, and every tensor of a file keeps the
    mapping alive, so dropping the unpacked weight alone frees nothing: packing would read the
    file's pages in and keep them beside the packed copy (+400 MB peak RSS for SmolLM2-135M,
    above the original evaluator's). Only whole pages inside the tensor are released; the
    tensor is dropped right after and never read again (a file page would be read back from
    disk, an anonymous one would read zeros)."""
    import ctypes
    import mmap
    import sys

    if sys.platform != "linux":
        return
    page = mmap.PAGESIZE
    begin = weight.data_ptr()
    start = (begin + page - 1) // page * page
    end = (begin + weight.numel() * weight.element_size()) // page * page
    if end <= start:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.madvise(start, end - start, 4)  # MADV_DONTNEED; a failure only leaves the pages resident


def pack_scorer(scorer: Any) -> int:
    """Pack the trunks of a built-in scorer's models (classifier, DPO policy and reference);
    a custom head's models are its own business."""
    from rbkit.eval.dpo import DPOScorer
    from rbkit.eval.heads import SequenceClassifier

    if type(scorer) not in (SequenceClassifier, DPOScorer):
        return 0
    models = [getattr(scorer, attr, None) for attr in ("model", "policy", "reference")]
    return sum(pack_trunk(m) for m in models if m is not None)


def packed_linears(scorer: Any) -> int:
    """How many packed layers a scorer (or the scorer it wraps) runs (the run block records it)."""
    inner = getattr(scorer, "inner", scorer)
    models = [getattr(inner, attr, None) for attr in ("model", "policy", "reference")]
    return sum(1 for m in models if isinstance(m, torch.nn.Module) for x in m.modules() if isinstance(x, PackedLinear))
