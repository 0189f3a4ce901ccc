"""The machine's own fp32 matmul throughput, and the FLOPs a Llama forward costs per token.

The peak is what torch itself reaches on this CPU with its default threads: a square GEMM
and the GEMM shapes SmolLM2's layers actually run (8192 tokens against the MLP and attention
projections), each repeated for a fixed time after a warm-up, through torch's BLAS sgemm
(`torch.mm`: MKL) and through oneDNN with a packed weight (what rbkit's trunk runs on the
CPU, eval.cpu_linear); the best is the ceiling an evaluator's achieved FLOP/s is compared
with. On AMD processors the two differ by about 2x.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

SECONDS_PER_SHAPE = 2.0


def _gflops(m: int, k: int, n: int, seconds: float, onednn: bool = False) -> float:
    import torch

    a = torch.randn(m, k, dtype=torch.float32)
    b = torch.randn(k, n, dtype=torch.float32)
    if onednn:
        from rbkit.eval.cpu_linear import PackedLinear

        linear = torch.nn.Linear(k, n, bias=False)
        with torch.no_grad():
            linear.weight.copy_(b.T)
        packed = PackedLinear(linear)

        def call() -> None:
            with torch.inference_mode():
                packed(a)
    else:
        def call() -> None:
            torch.mm(a, b)
    call()  # warm-up (allocations, kernel selection)
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        call()
        calls += 1
    return 2.0 * m * k * n * calls / elapsed / 1e9


def measure(hidden: int, intermediate: int, seconds: float = SECONDS_PER_SHAPE) -> dict[str, Any]:
    """GFLOP/s per shape and the best of them (the peak used in the report)."""
    import torch

    shapes = {
        "square 2048": (2048, 2048, 2048),
        f"8192x{hidden}x{intermediate} (MLP up)": (8192, hidden, intermediate),
        f"8192x{intermediate}x{hidden} (MLP down)": (8192, intermediate, hidden),
        f"8192x{hidden}x{hidden} (attention proj.)": (8192, hidden, hidden),
    }
    result = {name: round(_gflops(*shape, seconds), 1) for name, shape in shapes.items()}
    if torch.backends.mkldnn.is_available():
        result.update({f"{name}, oneDNN": round(_gflops(*shape, seconds, onednn=True), 1)
                       for name, shape in shapes.items() if not name.startswith("square")})
    return {"threads": torch.get_num_threads(), "gflops": result, "peak_gflops": max(result.values())}


@dataclass(frozen=True)
class LlamaCost:
    """FLOPs of a decoder forward, from its config (multiply-add = 2 FLOPs)."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> LlamaCost:
        heads = cfg["num_attention_heads"]
        return cls(cfg["num_hidden_layers"], cfg["hidden_size"], heads, cfg.get("num_key_value_heads", heads),
                   cfg.get("head_dim") or cfg["hidden_size"] // heads, cfg["intermediate_size"], cfg["vocab_size"])

    @property
    def per_token(self) -> float:
        """Projections and MLP of every layer, per token position."""
        q = self.heads * self.head_dim
        kv = 2 * self.kv_heads * self.head_dim
        per_layer = self.hidden * (q + kv) + q * self.hidden + 3 * self.hidden * self.intermediate
        return 2.0 * self.layers * per_layer

    @property
    def per_attended(self) -> float:
        """Scores and weighted sum for one (query, key) pair, all layers."""
        return 4.0 * self.layers * self.heads * self.head_dim

    @property
    def per_logit_row(self) -> float:
        """The vocabulary projection of one position."""
        return 2.0 * self.hidden * self.vocab
