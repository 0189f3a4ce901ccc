"""Reward heads: how a loaded model turns a batch into one score per sequence.

Any `AutoModelForSequenceClassification` works through the built-in `classifier` head.
Custom heads (a value head on a causal LM, a model with its own scoring code) plug in without
touching rbkit, either with the decorator

    from rbkit.eval.heads import register_head

    @register_head("my-rm")
    def load_my_rm(model: ModelRef, options: LoadOptions) -> Scorer: ...

or, from another package, with an entry point in the `rbkit.heads` group
(`my-rm = my_pkg.rm:load_my_rm`). `rbkit eval --head my-rm` selects it.

The built-in head pools each sequence at its own last real token (attention-mask length)
for decoder models, so padding, pad == EOS and batch size cannot move a score (defect 1 of
the original, whose pooling looks for the first pad id); encoder models use their own pooling
with the attention mask.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

import torch
from rbkit.eval.batching import Batch
from rbkit.eval.errors import ModelError
from rbkit.eval.models import ModelRef
from rbkit.eval.placement import Placement, input_device, load_kwargs, placed

ENTRY_POINT_GROUP = "rbkit.heads"


@dataclass(frozen=True)
class LoadOptions:
    dtype: torch.dtype = torch.float32
    device: str = "cpu"
    random_head_seed: int | None = None  # allow a checkpoint without a score head: seeded random head
    trust_remote_code: bool = False
    device_map: str | None = None  # accelerate placement ("auto", ...) instead of one device
    max_memory: dict[str | int, str | int] | None = None  # caps per device for device_map
    offload_folder: Path | None = None  # where device_map offloads to disk
    attn_implementation: str | None = None  # passed to transformers (eager, sdpa, flash_attention_2, ...)

    @property
    def placement(self) -> Placement:
        return Placement(self.device, self.device_map, self.max_memory, self.offload_folder, self.attn_implementation)

    def from_pretrained_kwargs(self) -> dict[str, Any]:
        """dtype, device placement and attention: the weights load straight onto their device."""
        return {**load_kwargs(self.placement, self.dtype), "trust_remote_code": self.trust_remote_code}


class Scorer(Protocol):
    """What the runner needs from a loaded model."""

    kind: str  # "classifier" or "dpo"
    head: str
    tokenizer: Any
    context_length: int | None
    needs_boundaries: bool  # True when scores need the response start (DPO)
    pad_id: int
    notices: list[str]

    def score(self, batch: Batch) -> torch.Tensor:
        """One float64 score per sequence of the batch, on the CPU."""
        ...

    def describe(self) -> dict[str, Any]: ...


HeadFactory = Callable[[ModelRef, LoadOptions], Scorer]
_HEADS: dict[str, HeadFactory] = {}


def register_head(name: str) -> Callable[[HeadFactory], HeadFactory]:
    def wrap(factory: HeadFactory) -> HeadFactory:
        if name in _HEADS and _HEADS[name] is not factory:
            raise ValueError(f"reward head {name!r} is registered twice")
        _HEADS[name] = factory
        return factory

    return wrap


def get_head(name: str) -> HeadFactory:
    if name in _HEADS:
        return _HEADS[name]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            factory = ep.load()
            _HEADS.setdefault(name, factory)
            return factory
    known = sorted({*_HEADS, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})
    raise ModelError(f"unknown reward head {name!r}; known: {', '.join(known)}")


def available_heads() -> list[str]:
    return sorted({*_HEADS, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


# --- shared loading helpers --------------------------------------------------------------------


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Keep transformers' own progress bars and load reports out of rbkit's output."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def load_tokenizer(model: ModelRef, options: LoadOptions) -> Any:
    from transformers import AutoTokenizer

    try:
        with quiet_transformers():
            return AutoTokenizer.from_pretrained(model.path, trust_remote_code=options.trust_remote_code)
    except Exception as exc:
        raise ModelError(f"{model.id}: cannot load its tokenizer ({type(exc).__name__}: {exc})") from exc


def context_length(config: Any) -> int | None:
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(text, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def choose_pad(tokenizer: Any, notices: list[str], *, needed: bool) -> int:
    """The padding id. Padding is masked and never pooled, so any id works unless the model's
    own code looks for it (`needed`)."""
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is not None:
        return int(pad)
    if needed:
        raise ModelError(
            "the tokenizer has no pad token and this model's own pooling needs one to find each row's end; "
            "add a pad token to the tokenizer (tokenizer.pad_token = ...) and save it"
        )
    fallback = getattr(tokenizer, "eos_token_id", None)
    fallback = int(fallback) if fallback is not None else 0
    notices.append(
        f"the tokenizer has no pad token: padding with id {fallback}, which is masked and never pooled "
        "(scores do not depend on it)"
    )
    return fallback


# --- the built-in classifier head ----------------------------------------------------------------

HEAD_PREFIXES = ("score.", "classifier.", "v_head.", "value_head.", "pooler.")


@dataclass
class SequenceClassifier:
    """`AutoModelForSequenceClassification`, scored at each sequence's own last token."""

    model: Any
    tokenizer: Any
    pooling: str  # "last-token" (decoders: base model + score at the last real token) or "native"
    context_length: int | None
    pad_id: int
    random_head_seed: int | None
    notices: list[str] = field(default_factory=list)
    kind: str = "classifier"
    head: str = "classifier"
    needs_boundaries: bool = False

    @torch.inference_mode()
    def score(self, batch: Batch) -> torch.Tensor:
        device = input_device(self.model)  # under a device map, model.device may be `meta`
        ids = batch.input_ids.to(device)
        mask = batch.attention_mask.to(device)
        if self.pooling == "last-token":
            base = getattr(self.model, self.model.base_model_prefix)
            hidden = base(input_ids=ids, attention_mask=mask).last_hidden_state
            at = hidden.device  # the last layer's device
            last = hidden[torch.arange(hidden.shape[0], device=at), batch.lengths.to(at) - 1]
            logits = head_scores(self.model.score, last)
        else:
            logits = self.model(input_ids=ids, attention_mask=mask).logits
        return logits[:, 0].to("cpu", torch.float64)

    def describe(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "architecture": type(self.model).__name__,
            "pooling": self.pooling,
            "num_labels": int(self.model.config.num_labels),
            "random_head_seed": self.random_head_seed,
            **placed(self.model),
        }


def head_scores(head: Any, last: torch.Tensor) -> torch.Tensor:
    """The score head on last-token states, in fp32 for a linear head whatever the model's dtype.

    Why: in bf16 the head's own output keeps 8 significant bits, so distinct answers tie
    exactly and batch-composition jitter of one bf16 step flips decisions. Reading the same
    bf16 states through an fp32 head costs nothing and changes no fp32 score."""
    if isinstance(head, torch.nn.Linear) and last.dtype != torch.float32 and not head.weight.is_meta:
        bias = None if head.bias is None else head.bias.float()
        return torch.nn.functional.linear(last.to(head.weight.device).float(), head.weight.float(), bias)
    return head(last)


def _is_decoder(config: Any) -> bool:
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING

    return type(config) in MODEL_FOR_CAUSAL_LM_MAPPING and not getattr(config, "is_encoder_decoder", False)


def _seeded_head(model: Any, missing: set[str], seed: int) -> None:
    """Initialise the missing head weights from `seed` alone (reproducible across runs and versions)."""
    gen = torch.Generator().manual_seed(seed)
    std = float(getattr(model.config, "initializer_range", 0.02) or 0.02)
    params = dict(model.named_parameters())
    for name in sorted(missing):
        p = params[name]
        if p.device.type == "meta":  # offloaded by a device map: there is no tensor here to fill
            raise ModelError(f"--random-head: the score head ({name}) was offloaded by the device map; "
                             "give the first device more --max-memory")
        with torch.no_grad():
            if name.endswith("bias"):
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32).mul_(std).to(p.dtype))


@register_head("classifier")
def load_sequence_classifier(model: ModelRef, options: LoadOptions) -> SequenceClassifier:
    from transformers import AutoModelForSequenceClassification

    try:
        with quiet_transformers():
            loaded, info = AutoModelForSequenceClassification.from_pretrained(
                model.path, output_loading_info=True, **options.from_pretrained_kwargs()
            )
    except ValueError as exc:
        raise ModelError(f"{model.id}: not loadable as a sequence classifier ({exc})") from exc
    except ImportError as exc:  # an --attn-implementation whose package is not installed
        raise ModelError(f"{model.id}: cannot load it as asked ({exc})") from exc
    missing = set(info.get("missing_keys") or ())
    head_missing = {k for k in missing if k.startswith(HEAD_PREFIXES)}
    body_missing = missing - head_missing
    if body_missing:
        raise ModelError(f"{model.id}: checkpoint lacks weights {', '.join(sorted(body_missing)[:5])}")
    if head_missing and options.random_head_seed is None:
        raise ModelError(
            f"{model.id} has no score head ({', '.join(sorted(head_missing))} missing from the checkpoint; "
            "transformers would fill it with random numbers). For a language model use --kind dpo; "
            "to benchmark throughput on purpose, pass --random-head SEED"
        )
    if head_missing:
        _seeded_head(loaded, head_missing, options.random_head_seed)  # type: ignore[arg-type]
    num_labels = int(loaded.config.num_labels)
    if num_labels != 1:
        raise ModelError(f"{model.id}: the score head has {num_labels} outputs; rbkit scores one scalar "
                         "(register a custom head with eval.heads.register_head for this model)")
    tokenizer = load_tokenizer(model, options)
    notices: list[str] = []
    last_token = _is_decoder(loaded.config) and isinstance(getattr(loaded, "score", None), torch.nn.Module)
    pad = choose_pad(tokenizer, notices, needed=not last_token)
    if not last_token and getattr(loaded.config, "pad_token_id", None) is None:
        loaded.config.pad_token_id = pad
    loaded.eval()  # already on its device(s): loaded there directly
    return SequenceClassifier(
        loaded,
        tokenizer,
        "last-token" if last_token else "native",
        context_length(loaded.config),
        pad,
        options.random_head_seed if head_missing else None,
        notices,
    )
