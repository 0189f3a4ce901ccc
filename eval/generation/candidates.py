"""Candidate completions for new subsets: prompts in, one parquet row per (prompt, sample) out.

The candidates file is meant to be a pinned source of a subset spec, so it is deterministic:
rows in prompt-file order then sample order, seeds derived from (seed, prompt id, sample),
no timestamps, fixed parquet options, written atomically. Same prompts, model and parameters
give the same bytes (the completion cache makes a rerun exact even where the model is not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbkit.core.files import atomic_write
from rbkit.core.jsonio import canonical_json
from rbkit.eval.generation.errors import GenerationError
from rbkit.eval.generation.types import Completion, GenerationRequest, Message, SamplingParams

OUTPUT_COLUMNS = (
    "prompt_id", "prompt", "sample", "completion", "model", "revision", "backend", "params", "seed",
    "finish_reason", "prompt_tokens", "completion_tokens",
)
ROLES = ("system", "user", "assistant")


class PromptError(GenerationError):
    """A prompts-file row that cannot be asked: `file:row field: reason`."""

    def __init__(self, file: str, row: int, field: str, reason: str) -> None:
        super().__init__(f"{file}:{row} {field}: {reason}")


@dataclass(frozen=True)
class Prompt:
    id: str
    row: int
    messages: tuple[Message, ...]
    text: str  # the `prompt` column: the text, or canonical JSON of a chat
    extra: Mapping[str, Any] = field(default_factory=dict)  # other fields, carried into every row


def prompt_from_record(
    rec: Mapping[str, Any], *, label: str, row: int, id_field: str, prompt_field: str, system: str | None
) -> Prompt:
    """One prompt: a string (one user turn) or a chat (a list of {role, content})."""
    if id_field not in rec:
        raise PromptError(label, row, id_field, f"missing field (the stable prompt id; --id-field names another field, fields here: {sorted(rec)})")
    pid = rec[id_field]
    if isinstance(pid, bool) or not isinstance(pid, (str, int)) or str(pid).strip() == "":
        raise PromptError(label, row, id_field, f"expected a non-empty string or integer id, got {pid!r}")
    if prompt_field not in rec:
        raise PromptError(label, row, prompt_field, f"missing field (--prompt-field names another field, fields here: {sorted(rec)})")
    value = rec[prompt_field]
    if isinstance(value, str):
        if not value.strip():
            raise PromptError(label, row, prompt_field, "empty text")
        messages: tuple[Message, ...] = (Message("user", value),)
        text = value
    elif isinstance(value, list) and value:
        turns = []
        for i, turn in enumerate(value):
            if not (isinstance(turn, Mapping) and turn.get("role") in ROLES and isinstance(turn.get("content"), str)):
                raise PromptError(label, row, f"{prompt_field}[{i}]", "expected {role: system|user|assistant, content: text}")
            turns.append(Message(turn["role"], turn["content"]))
        messages = tuple(turns)
        text = canonical_json([{"role": m.role, "content": m.content} for m in messages])
    else:
        raise PromptError(label, row, prompt_field, f"expected text or a list of chat turns, got {type(value).__name__}")
    if system is not None:
        messages = (Message("system", system), *messages)
    extra = {k: v for k, v in rec.items() if k not in (id_field, prompt_field)}
    clash = sorted(set(extra) & set(OUTPUT_COLUMNS))
    if clash:
        raise PromptError(label, row, clash[0], f"the candidates file writes its own {clash[0]!r} column; rename this field")
    return Prompt(str(pid), row, messages, text, extra)


def check_unique(prompts: Sequence[Prompt], label: str, id_field: str) -> None:
    seen: dict[str, int] = {}
    for p in prompts:
        if p.id in seen:
            raise PromptError(label, p.row, id_field, f"id {p.id!r} also on row {seen[p.id]}; ids must be unique")
        seen[p.id] = p.row


def sample_seed(seed: int, prompt_id: str, sample: int) -> int:
    """A 31-bit seed from stable ids (fits every API's seed field)."""
    digest = hashlib.sha256(f"{seed}\x1f{prompt_id}\x1f{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def build_requests(prompts: Sequence[Prompt], n: int, params: SamplingParams, seed: int) -> list[GenerationRequest]:
    """n requests per prompt, ids `<prompt id>#<sample>`. Greedy requests all use seed 0: the
    seed cannot change them, and equal requests are asked once (the cache key is the question)."""
    from dataclasses import replace

    out = []
    for p in prompts:
        for s in range(n):
            request_seed = sample_seed(seed, p.id, s) if params.temperature > 0 else 0
            out.append(GenerationRequest(f"{p.id}#{s}", p.messages, replace(params, seed=request_seed)))
    return out


def params_record(params: SamplingParams, system: str | None) -> str:
    """The `params` column: everything but the per-sample seed (its own column)."""
    rec = params.to_record()
    rec.pop("seed")
    rec["system"] = system
    return canonical_json(rec)


def candidate_rows(
    prompts: Sequence[Prompt], n: int, requests: Sequence[GenerationRequest], completions: Sequence[Completion],
    *, backend: str, params_json: str,
) -> list[dict[str, Any]]:
    by_id = {c.request_id: c for c in completions}
    seeds = {r.id: r.params.seed for r in requests}
    rows = []
    for p in prompts:
        for s in range(n):
            rid = f"{p.id}#{s}"
            c = by_id[rid]
            rows.append({
                "prompt_id": p.id, "prompt": p.text, "sample": s, "completion": c.text, "model": c.model,
                "revision": c.revision, "backend": backend, "params": params_json, "seed": seeds[rid],
                "finish_reason": c.finish_reason, "prompt_tokens": c.prompt_tokens,
                "completion_tokens": c.completion_tokens, **p.extra,
            })
    return rows


def write_candidates(rows: Sequence[dict[str, Any]], prompts: Sequence[Prompt], path: Path, label: str) -> None:
    """The parquet file: fixed columns, then the prompt file's other fields in sorted order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fixed = pa.schema([
        ("prompt_id", pa.string()), ("prompt", pa.string()), ("sample", pa.int32()), ("completion", pa.string()),
        ("model", pa.string()), ("revision", pa.string()), ("backend", pa.string()), ("params", pa.string()),
        ("seed", pa.int64()), ("finish_reason", pa.string()), ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
    ])
    extra_names = sorted({k for p in prompts for k in p.extra})
    arrays = [pa.array([r[name] for r in rows], type=fixed.field(name).type) for name in OUTPUT_COLUMNS]
    fields = list(fixed)
    for name in extra_names:
        values = [r.get(name) for r in rows]
        try:
            arr = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise GenerationError(f"{label}: field {name!r} holds values of different types across rows ({exc})") from None
        arrays.append(arr)
        fields.append(pa.field(name, arr.type))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd", use_dictionary=False, write_statistics=False))


def spec_stanza(name: str, path: str, sha256: str) -> str:
    """What to paste into a subset spec (schemas/subset-spec.schema.json `sources`)."""
    import json

    return f"[sources.{name}]\npath = {json.dumps(path)}\nsha256 = \"{sha256}\"\n"
