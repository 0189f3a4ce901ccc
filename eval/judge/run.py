"""`rbkit eval --kind judge` end to end: rows -> judge requests -> cached completions -> results.

The backend (local transformers or an OpenAI-compatible endpoint) and the request cache are
the shared generation layer's (`rbkit.eval.generation`): every completion is stored the moment
it arrives, so a killed run resumes with the requests it had not finished and a rerun sends
none. Failed requests (after the backend's retries) are not cached: they count as 0.5 like an
unparseable verdict, are reported as `errors`, and are asked again by the next run.

The result folder is the evaluator's usual one (results.json, scores.parquet: accuracy where a
classifier's goes, so report and compare work unchanged) plus `judgments.jsonl`, every
request's text and parsed verdict, and the `judge` block in results.json.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rbkit.core.files import atomic_write
from rbkit.core.jsonio import canonical_json
from rbkit.eval import results as results_io
from rbkit.eval.data import Pair
from rbkit.eval.errors import DatasetError
from rbkit.eval.generation.run import run_requests
from rbkit.eval.generation.store import default_cache_dir, identity_digest
from rbkit.eval.generation.types import Backend, SamplingParams
from rbkit.eval.judge.plan import Mode, plan_pairwise, plan_ratings
from rbkit.eval.judge.prompts import JudgePrompt
from rbkit.eval.judge.tally import Judged, judge_all, judge_block, pairwise_rows, rating_rows
from rbkit.eval.runner import EvalConfig, EvalOutcome, load_dataset_spec, peak_rss_mb, summarise
from rich.console import Console

JUDGMENTS = "judgments.jsonl"


@dataclass(frozen=True)
class JudgeOptions:
    """What a judge run adds to EvalConfig: the prompt, answer orders and sampling."""

    prompts: Mapping[str, JudgePrompt]  # by mode: "pairwise" and/or "ratings"
    mode: str | None = None  # None: ratings for best-of-N data, else pairwise
    orders: int = 2
    params: SamplingParams = SamplingParams(max_new_tokens=512, temperature=0.0)
    backend_options: dict[str, Any] | None = None  # concurrency, timeout, retries: recorded, not keyed


def pick_mode(requested: str | None, best_of_n: bool) -> Mode:
    """Ratings for best-of-N data (RewardBench 2), pairwise otherwise, unless asked."""
    if requested is None:
        return "ratings" if best_of_n else "pairwise"
    if requested not in ("pairwise", "ratings"):
        raise DatasetError(f"--judge-mode {requested!r}: expected pairwise or ratings")
    return requested  # type: ignore[return-value]


def judge_model_record(identity: dict[str, Any]) -> dict[str, Any]:
    """results.json `model` for a judge: the backend's identity, fingerprinted (never a key)."""
    fp = identity.get("fingerprint")
    if not (isinstance(fp, str) and len(fp) == 64):
        fp = hashlib.sha256(canonical_json(identity).encode()).hexdigest()
    return {"id": str(identity.get("model")), "path": str(identity.get("path") or ""),
            "revision": identity.get("revision"), "fingerprint": fp}


def run_judge(cfg: EvalConfig, backend: Backend, options: JudgeOptions, console: Console | None = None) -> EvalOutcome:
    started = time.perf_counter()
    console = console or Console(stderr=True)
    say = (lambda m: console.print(f"[dim]{m}[/]", highlight=False)) if cfg.progress else (lambda m: None)
    if cfg.bootstrap < 0:
        raise DatasetError("--bootstrap must be >= 0")
    if cfg.out is not None:
        results_io.prepare(cfg.out)
    dataset = load_dataset_spec(cfg.dataset, cfg.subsets, cfg.dataset_revision)
    if cfg.sample is not None:
        dataset = dataset.sample(cfg.sample, cfg.seed)
    pairs = dataset.pairs
    mode = pick_mode(options.mode, dataset.best_of_n)
    if mode not in options.prompts:
        raise DatasetError(f"--judge-mode {mode}: the judge prompt given is for {', '.join(options.prompts)} mode")
    prompt = options.prompts[mode]
    if mode == "pairwise":
        planned = plan_pairwise(pairs, prompt, options.params, options.orders, cfg.seed)
    else:
        planned = plan_ratings(pairs, prompt, options.params)
    say(f"{len(pairs)} rows in {len(dataset.subsets)} subsets: {len(planned)} judge requests "
        f"({mode}, prompt {prompt.name}{', both orders' if mode == 'pairwise' and options.orders == 2 else ''})")
    identity = dict(backend.identity())
    t0 = time.perf_counter()
    completions = run_requests(backend, [p.request for p in planned], cache=cfg.cache, progress=cfg.progress,
                               description="judging")
    gen_seconds = time.perf_counter() - t0
    judged = judge_all(planned, completions, mode)
    rows = pairwise_rows(pairs, judged) if mode == "pairwise" else rating_rows(pairs, judged, cfg.ties)

    blocks, comparability = summarise(rows, dataset, cfg)
    block = judge_block(pairs, judged, options.orders if mode == "pairwise" else 1, mode)
    notices = judge_notices(block["overall"], mode)
    for n in notices:
        console.print(f"[yellow]note:[/] {n}", highlight=False)
    sent = [c for c in completions if not c.cached]
    rows_sent = {p.row for p, c in zip(planned, completions, strict=True) if not c.cached}
    key = hashlib.sha256(canonical_json({"backend": identity, "prompt": prompt.sha256,
                                         "params": options.params.to_record(), "mode": mode,
                                         "orders": options.orders}).encode()).hexdigest()
    results = {
        "format": results_io.FORMAT,
        "rbkit_version": results_io.software_versions()["rbkit"],
        "benchmark": blocks["benchmark"],
        "kind": "judge",
        "model": {**judge_model_record(identity), "default": identity.get("model") == "SmolLM2-135M-Instruct"},
        "ref_model": None,
        "dataset": {**dataset.description, "rows": len(pairs), "subsets": dataset.subsets,
                    "empty_subsets": dataset.empty_subsets},
        "config": {
            "kind": "judge", "head": "judge", "reduction": None, "ties": cfg.ties, "max_length": None,
            "truncation": None, "dtype": identity.get("dtype") or cfg.dtype, "device": cfg.device,
            # the scorers' token budget per batch; a judge batches by --batch-size (local) or --concurrency (API)
            "max_tokens": cfg.max_tokens if cfg.max_tokens is not None else 8192, "batch_size": cfg.batch_size,
            "bootstrap": {"resamples": cfg.bootstrap, "seed": cfg.seed, "confidence": 0.95},
            "template": f"judge:{prompt.name}", "random_head_seed": None,
        },
        "scorer": {"head": "judge", "architecture": f"generative judge ({identity.get('backend', 'unknown')})"},
        "rendering": {"template": f"judge:{prompt.name}", "template_sha256": prompt.sha256,
                      "chat": "the judge's own chat template" if identity.get("backend") != "openai"
                      else "the endpoint's chat template"},
        "dtype": identity.get("dtype") if identity.get("dtype") in ("float32", "bfloat16", "float16") else None,
        "software": results_io.software_versions(),
        "notices": notices,
        "cache": {"key": key, "path": str(default_cache_dir() / f"{identity_digest(identity)[:32]}.jsonl")
                  if cfg.cache else None},
        "subsets": blocks["subsets"],
        "sections": blocks["sections"],
        "overall": blocks["overall"],
        "comparability": comparability,
        "judge": {
            "backend": str(identity.get("backend", "unknown")),
            "model": str(identity.get("model")),
            "prompt": {"name": prompt.name, "sha256": prompt.sha256, "origin": prompt.origin},
            "params": options.params.to_record(),
            "backend_options": options.backend_options or {},
            "orders": options.orders if mode == "pairwise" else 1,
            "mode": mode,
            "unparseable_credit": 0.5 if mode == "pairwise" else 0.0,
            **block,
        },
        "run": {
            "seconds": round(time.perf_counter() - started, 3),
            "scoring_seconds": round(gen_seconds, 3),
            "rows_scored": len(rows_sent),
            "rows_cached": len(pairs) - len(rows_sent),
            "pairs_per_second": round(len(rows_sent) / gen_seconds, 3) if rows_sent and gen_seconds > 0 else None,
            "tokens": sum(c.prompt_tokens + c.completion_tokens for c in sent),
            "padded_tokens": 0,
            "padding_fraction": None,
            "batches": 0,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "requests_sent": len(sent),
            "requests_cached": len(completions) - len(sent),
            "completion_tokens": sum(c.completion_tokens for c in sent),
        },
    }
    if cfg.out is not None:
        results_io.write(cfg.out, results, rows)
        write_judgments(cfg.out / JUDGMENTS, pairs, judged)
    else:
        results_io.validate(results)
    return EvalOutcome(results, rows, cfg.out, notices)


def judge_notices(overall: dict[str, Any], mode: Mode) -> list[str]:
    out = []
    if overall["errors"]:
        out.append(f"{overall['errors']} of {overall['requests']} judge requests failed after retries; each counts "
                   f"{'0.5' if mode == 'pairwise' else 'as the lowest rating'} and is asked again by the next run")
    if overall["unparseable"]:
        out.append(f"{overall['unparseable']} of {overall['requests']} judge outputs had no readable "
                   f"{'verdict (each counts 0.5)' if mode == 'pairwise' else 'rating (each scores 0)'}; see {JUDGMENTS}")
    return out


def write_judgments(path: Path, pairs: Sequence[Pair], judged: Sequence[Judged]) -> None:
    """Every request's raw text and parsed value, in plan order (one JSON object a line)."""
    lines = [canonical_json(j.to_record(pairs[j.row])) for j in judged]
    atomic_write(path, "\n".join(lines) + ("\n" if lines else ""))
