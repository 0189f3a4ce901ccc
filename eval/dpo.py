"""DPO implicit rewards: response log-probs under the policy, minus the same under a reference.

    reward = sum log p_policy(response | prompt) - sum log p_ref(response | prompt)

Reference-free variants score the policy alone: `sum`, `avg` (per response token) and `norm`
(negative L2 norm of the per-token log-probs). Only response positions ever reach the
vocabulary projection, and they do so in chunks: the target token's log-softmax is gathered
chunk by chunk, so no (batch, length, vocab) fp32 tensor exists (defect 5 of the original).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import torch
from rbkit.eval.batching import Batch
from rbkit.eval.errors import ModelError
from rbkit.eval.heads import (
    LoadOptions,
    choose_pad,
    context_length,
    load_tokenizer,
    quiet_transformers,
)
from rbkit.eval.models import ModelRef
from rbkit.eval.placement import input_device, placed

Reduction = Literal["sum", "avg", "norm"]
CHUNK_BYTES = 64 << 20  # fp32 logits per chunk


def load_causal_lm(model: ModelRef, options: LoadOptions) -> Any:
    from transformers import AutoModelForCausalLM

    try:
        with quiet_transformers():
            loaded, info = AutoModelForCausalLM.from_pretrained(
                model.path, output_loading_info=True, **options.from_pretrained_kwargs()
            )
    except ValueError as exc:
        raise ModelError(f"{model.id}: not loadable as a causal language model for --kind dpo ({exc})") from exc
    except ImportError as exc:  # an --attn-implementation whose package is not installed
        raise ModelError(f"{model.id}: cannot load it as asked ({exc})") from exc
    missing = sorted(set(info.get("missing_keys") or ()))
    if missing:
        raise ModelError(f"{model.id}: checkpoint lacks weights {', '.join(missing[:5])}; not a complete causal LM")
    return loaded.eval()  # already on its device(s): loaded there directly


def _final_logits(model: Any, hidden: torch.Tensor) -> torch.Tensor:
    """The model's own logits for `hidden` rows, including scalings some families apply."""
    logits = model.get_output_embeddings()(hidden).float()
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    scale = getattr(cfg, "logit_scale", None)  # Cohere
    if isinstance(scale, (int, float)):
        logits = logits * scale
    scaling = getattr(cfg, "logits_scaling", None)  # Granite
    if isinstance(scaling, (int, float)) and scaling:
        logits = logits / scaling
    cap = getattr(cfg, "final_logit_softcapping", None)  # Gemma 2
    if isinstance(cap, (int, float)) and cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


@torch.inference_mode()
def response_logps(model: Any, batch: Batch, chunk_bytes: int = CHUNK_BYTES) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probs of every response token, and the sequence each belongs to.

    Token t of sequence s (start_s <= t < length_s) is predicted from the hidden state at
    t - 1; those rows alone are projected to the vocabulary, `chunk` rows at a time.
    """
    device = input_device(model)  # under a device map, model.device may be `meta`
    base = getattr(model, model.base_model_prefix)
    ids = batch.input_ids.to(device)
    hidden = base(input_ids=ids, attention_mask=batch.attention_mask.to(device)).last_hidden_state
    device = hidden.device  # the last layer's device
    ids = ids.to(device)
    seq_idx, pos = [], []
    for s in range(ids.shape[0]):
        start = max(1, int(batch.starts[s]))
        end = int(batch.lengths[s])
        seq_idx.append(torch.full((end - start,), s, dtype=torch.long))
        pos.append(torch.arange(start, end, dtype=torch.long))
    rows = torch.cat(seq_idx).to(device)
    cols = torch.cat(pos).to(device)
    targets = ids[rows, cols]
    picked = hidden[rows, cols - 1]
    vocab = model.get_output_embeddings().weight.shape[0]
    chunk = max(1, chunk_bytes // (4 * vocab))
    out = torch.empty(rows.shape[0], dtype=torch.float32, device=device)
    for i in range(0, rows.shape[0], chunk):
        logits = _final_logits(model, picked[i : i + chunk]).to(device)
        out[i : i + chunk] = logits.gather(1, targets[i : i + chunk, None]).squeeze(1) - torch.logsumexp(logits, dim=1)
    return out.to("cpu", torch.float64), rows.to("cpu")


def reduce(logps: torch.Tensor, owner: torch.Tensor, n: int, how: Reduction) -> torch.Tensor:
    """Per-sequence sum / mean / negative L2 norm of per-token log-probs (float64)."""
    total = torch.zeros(n, dtype=torch.float64).index_add_(0, owner, logps)
    if how == "sum":
        return total
    count = torch.zeros(n, dtype=torch.float64).index_add_(0, owner, torch.ones_like(logps))
    if how == "avg":
        return total / count
    squares = torch.zeros(n, dtype=torch.float64).index_add_(0, owner, logps * logps)
    return -squares.sqrt()


@dataclass
class DPOScorer:
    policy: Any
    reference: Any | None
    tokenizer: Any
    reduction: Reduction | Literal["ref"]
    context_length: int | None
    pad_id: int
    notices: list[str] = field(default_factory=list)
    kind: str = "dpo"
    head: str = "dpo"
    needs_boundaries: bool = True

    def score(self, batch: Batch) -> torch.Tensor:
        n = batch.input_ids.shape[0]
        lp, owner = response_logps(self.policy, batch)
        if self.reference is None:
            return reduce(lp, owner, n, self.reduction)  # type: ignore[arg-type]
        ref_lp, ref_owner = response_logps(self.reference, batch)
        return reduce(lp, owner, n, "sum") - reduce(ref_lp, ref_owner, n, "sum")

    def describe(self) -> dict[str, Any]:
        return {
            "head": "dpo",
            "architecture": type(self.policy).__name__,
            "reward": "policy - reference (sum of response log-probs)" if self.reference is not None
            else f"reference-free {self.reduction}",
            "reduction": self.reduction,
            **placed(self.policy),
            **({"reference_device": str(input_device(self.reference))} if self.reference is not None else {}),
        }


def load_dpo(policy: ModelRef, reference: ModelRef | None, reduction: Reduction, options: LoadOptions,
             ref_device: str | None = None) -> DPOScorer:
    """The policy on `options`' placement; the reference there too, or alone on `ref_device`
    (a second GPU, or the CPU), so that two large models need not share one device."""
    tokenizer = load_tokenizer(policy, options)
    model = load_causal_lm(policy, options)
    ref_model = None
    if reference is not None:
        ref_tok = load_tokenizer(reference, options)
        if ref_tok.get_vocab() != tokenizer.get_vocab():
            raise ModelError(f"{reference.id}: its tokenizer differs from {policy.id}'s; DPO rewards need one vocabulary")
        ref_options = options if ref_device is None else replace(options, device=ref_device, device_map=None)
        ref_model = load_causal_lm(reference, ref_options)
    notices: list[str] = []
    pad = choose_pad(tokenizer, notices, needed=False)
    limits = [c for c in (context_length(model.config), ref_model and context_length(ref_model.config)) if c]
    return DPOScorer(model, ref_model, tokenizer, "ref" if ref_model is not None else reduction,
                     min(limits) if limits else None, pad, notices)
