"""What each dtype promises about scores: the stated tolerances, in one place.

Why: in fp32 a score does not depend on which pairs share its batch beyond ~1e-6 (rounding
differs with GEMM shapes), so rbkit promises 1e-5 absolute, and decisions never change. In
bf16/fp16 every layer rounds to 8/11 significant bits, and a different batch shape can move a
hidden state by one step of that grid; the promise is then relative to the run's scale:

    |score(batching A) - score(batching B)| <= BATCH_TOLERANCE[dtype] x max |score| of the run

(bf16 2e-2, fp16 5e-3; measured on CPU: at most 1.1e-2 for bf16 on a random tiny classifier,
3e-5 relative for DPO sums). A pair's decision is therefore the same under any batching
unless its margin |chosen - rejected| is within twice that bound: such near-ties are not
resolvable at that precision (use fp32 to settle them). The classifier head itself reads
the bf16 states in fp32 (eval.heads.head_scores), so distinct answers do not tie merely
because the head's output was rounded.

The prefix-sharing self-check (eval.prefix_cache) compares the shared-prefix path with the
full forward on one pair: fp32 within 1e-4 (relative and absolute, as before); bf16 within
3e-2 and fp16 within 1e-2 of the larger |score| of that pair. A cache that does not
reproduce the model's forward (a sliding window, a broken past) misses by far more.
"""

from __future__ import annotations

import torch

BATCH_TOLERANCE = {torch.float32: 1e-5, torch.bfloat16: 2e-2, torch.float16: 5e-3}
BATCH_TOLERANCE_IS_RELATIVE = {torch.float32: False, torch.bfloat16: True, torch.float16: True}
PREFIX_CHECK_TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 3e-2, torch.float16: 1e-2}


def prefix_check_passes(mine: torch.Tensor, plain: torch.Tensor, dtype: torch.dtype) -> bool:
    """Whether the shared-prefix scores of one pair reproduce its full-forward scores at `dtype`."""
    tol = PREFIX_CHECK_TOLERANCE.get(dtype, PREFIX_CHECK_TOLERANCE[torch.float32])
    if dtype == torch.float32 or dtype not in PREFIX_CHECK_TOLERANCE:
        return bool(torch.allclose(mine, plain, rtol=tol, atol=tol))
    scale = float(plain.abs().max().clamp_min(1e-6))
    return bool((mine - plain).abs().max() <= tol * scale)


def batch_bound(dtype: torch.dtype, scores: list[float]) -> float:
    """The largest batch-composition difference a score may show in a run with these scores."""
    tol = BATCH_TOLERANCE[dtype]
    return tol * max((abs(s) for s in scores), default=0.0) if BATCH_TOLERANCE_IS_RELATIVE[dtype] else tol
