"""The local transformers backend: chat template, batched left-padded decoding, per-request seeds.

rbkit runs its own decoding loop (model forward with a KV cache) instead of `generate()` so
that every row of a batch keeps its own sampling parameters, stop strings, token budget and,
above all, its own random generator; a row that finishes leaves the batch (its KV-cache rows
are dropped), so the others stop paying for it.

Determinism (what is guaranteed):
- Greedy (temperature 0): the same requests in the same batches give bit-identical text.
  Across batch sizes (and as finished rows leave a batch), left padding is masked and positions count from each row's first real
  token, so a row's logits change only by float rounding (about 1e-6); a near-tie between
  the two best tokens can still flip. Sampling: each request draws from its own
  `torch.Generator` seeded with `params.seed` (derived from stable ids by the caller), so its
  draws never depend on its neighbours in the batch or on their order; the same rounding
  caveat applies to the probabilities.
- The on-disk cache pins the first answer to each request, so reruns are exact whatever the
  batch size.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rbkit.eval.generation.errors import GenerationError
from rbkit.eval.generation.types import Completion, GenerationRequest, SamplingParams

DTYPES = ("float32", "bfloat16", "float16")


class TransformersBackend:
    """A causal LM from a local folder (or the Hub cache), generating on CPU or CUDA."""

    kind = "transformers"

    def __init__(self, model: Any, *, name: str, batch_size: int = 8, dtype: str = "float32", device: str = "cpu") -> None:
        """`model` is an `rbkit.eval.models.ModelRef`; `name` is how the user named it."""
        import torch
        from rbkit.eval.heads import quiet_transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if dtype not in DTYPES:
            raise GenerationError(f"dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
        if batch_size < 1:
            raise GenerationError(f"batch size {batch_size}: expected at least 1")
        self.ref = model
        self.name = name
        self.batch_size = batch_size
        self.dtype = dtype
        self.device = device
        with quiet_transformers():
            self.tokenizer = AutoTokenizer.from_pretrained(model.path)
            if not getattr(self.tokenizer, "chat_template", None):
                raise GenerationError(
                    f"model {name}: its tokenizer has no chat template, so chats cannot be rendered for it; "
                    "use an instruction-tuned model (or add a chat_template to its tokenizer_config.json)"
                )
            self.model = AutoModelForCausalLM.from_pretrained(model.path, dtype=getattr(torch, dtype)).to(device).eval()
        eos = self.model.generation_config.eos_token_id if self.model.generation_config else None
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            eos_ids.add(self.tokenizer.eos_token_id)
        self.eos_ids = frozenset(eos_ids)
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (min(self.eos_ids) if self.eos_ids else 0)

    def identity(self) -> Mapping[str, Any]:
        return {
            "backend": self.kind,
            "model": self.name,
            "revision": self.ref.revision,
            "fingerprint": self.ref.fingerprint,
            "dtype": self.dtype,
        }

    def prompt_ids(self, request: GenerationRequest) -> list[int]:
        """The chat rendered by the model's own template, with the assistant turn opened."""
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Completion]:
        """Batches of similar prompt length; each batch's completions are yielded when it ends."""
        encoded = [(req, self.prompt_ids(req)) for req in requests]
        order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i][1]), i))
        for start in range(0, len(order), self.batch_size):
            yield from self._batch([encoded[i] for i in order[start : start + self.batch_size]])

    def _batch(self, items: list[tuple[GenerationRequest, list[int]]]) -> list[Completion]:
        import torch

        rows = len(items)
        width = max(len(ids) for _, ids in items)
        input_ids = torch.full((rows, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((rows, width), dtype=torch.long)
        for i, (_, ids) in enumerate(items):
            input_ids[i, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[i, width - len(ids) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        generators = [torch.Generator().manual_seed(req.params.seed) for req, _ in items]
        produced: list[list[int]] = [[] for _ in items]
        finish: list[str | None] = [None] * rows
        budget = max(req.params.max_new_tokens for req, _ in items)
        from rbkit.eval.prefix_cache import (  # `cache` or `past_key_values`
            _cache_argument,
            _returned_cache,
        )

        cache_arg = _cache_argument(self.model)
        extra = {cache_arg: None, **_last_logits_only(self.model)}
        step_ids = input_ids
        alive = list(range(rows))  # the batch rows still decoding, as indices into `items`
        with torch.inference_mode():
            for _ in range(budget):
                out = self.model(
                    input_ids=step_ids.to(self.device), attention_mask=mask.to(self.device),
                    position_ids=positions.to(self.device), use_cache=True, **extra,
                )
                cache = extra[cache_arg] = _returned_cache(out)
                logits = out.logits[:, -1, :].float().cpu()
                for j, i in enumerate(alive):
                    if finish[i] is not None:  # only where the cache cannot drop rows
                        continue
                    token = pick_token(logits[j], items[i][0].params, generators[i])
                    produced[i].append(token)
                    finish[i] = self._finished(produced[i], items[i][0].params)
                keep = [j for j, i in enumerate(alive) if finish[i] is None]
                if not keep:
                    break
                if len(keep) < len(alive) and hasattr(cache, "batch_select_indices"):
                    # finished rows leave the batch: no more compute spent on them
                    cache.batch_select_indices(torch.tensor(keep, device=self.device))
                    mask, positions = mask[keep], positions[keep]
                    alive = [alive[j] for j in keep]
                step_ids = torch.tensor([produced[i][-1] if finish[i] is None else self.pad_id for i in alive], dtype=torch.long)[:, None]
                mask = torch.cat([mask, torch.ones((len(alive), 1), dtype=torch.long)], dim=1)
                positions = positions[:, -1:] + 1
        return [self._completion(req, ids, produced[i], finish[i] or "length") for i, (req, ids) in enumerate(items)]

    def _finished(self, tokens: list[int], params: SamplingParams) -> str | None:
        if tokens[-1] in self.eos_ids:
            return "stop"
        if params.stop and any(s in self._text(tokens) for s in params.stop):
            return "stop"
        if len(tokens) >= params.max_new_tokens:
            return "length"
        return None

    def _text(self, tokens: list[int]) -> str:
        body = tokens[:-1] if tokens and tokens[-1] in self.eos_ids else tokens
        return self.tokenizer.decode(body, skip_special_tokens=True)

    def _completion(self, req: GenerationRequest, prompt: list[int], tokens: list[int], finish: str) -> Completion:
        text = cut_at_stop(self._text(tokens), req.params.stop)
        return Completion(
            request_id=req.id, text=text, finish_reason=finish,  # type: ignore[arg-type]
            prompt_tokens=len(prompt), completion_tokens=len(tokens),
            model=self.name, revision=self.ref.revision,
        )


def _last_logits_only(model: Any) -> dict[str, int]:
    """Ask for the last position's logits only (the LM head over a whole prompt is a fifth of
    SmolLM2's prefill); the argument's name depends on the transformers version."""
    import inspect

    params = inspect.signature(model.forward).parameters
    for name in ("logits_to_keep", "num_logits_to_keep"):
        if name in params:
            return {name: 1}
    return {}


def pick_token(logits: Any, params: SamplingParams, generator: Any) -> int:
    """Greedy at temperature 0; else temperature, nucleus (top-p) and one draw from `generator`."""
    import torch

    if params.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, sorted_idx = torch.sort(probs, descending=True, stable=True)
        keep = (sorted_probs.cumsum(-1) - sorted_probs) < params.top_p  # always keeps the first
        sorted_probs = torch.where(keep, sorted_probs, torch.zeros_like(sorted_probs))
        probs = torch.zeros_like(probs).scatter(0, sorted_idx, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """The text before the first stop string (the stop string itself is not returned, as in the API)."""
    cut = min((text.find(s) for s in stop if s and s in text), default=-1)
    return text if cut < 0 else text[:cut]
