"""`rbkit eval` end to end: rows -> model -> cached scores -> results folder.

The order matters for resume: the dataset and the model's fingerprint decide the cache file,
rows already in it are not even tokenised, and every finished batch is appended before the
next one starts, so a killed run restarts where it stopped and ends with the same result.
"""

from __future__ import annotations

import math
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from rbkit.eval import aggregate as agg
from rbkit.eval import distributed as dp
from rbkit.eval import results as results_io
from rbkit.eval.batching import collate, plan
from rbkit.eval.budget import token_budget
from rbkit.eval.cache import CachedRow, ScoreCache, cache_key
from rbkit.eval.comparability import assess, label_overall
from rbkit.eval.cpu_linear import packed_linears
from rbkit.eval.data import Dataset, Pair, is_build_folder, load_build_folder, load_file
from rbkit.eval.errors import DatasetError, ModelError
from rbkit.eval.heads import LoadOptions, Scorer, get_head
from rbkit.eval.models import ModelRef, fingerprint, resolve
from rbkit.eval.placement import ATTN_IMPLEMENTATIONS, parse_max_memory
from rbkit.eval.prefix_cache import Work, with_prefix_sharing
from rbkit.eval.render import TRUNCATION_POLICY, EncodedPair, Renderer
from rbkit.eval.scoring import TiesPolicy
from rbkit.eval.sections import resolve as resolve_sections
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DEFAULT_DATASET = Path("out")
ENCODE_CHUNK = 256


@dataclass
class EvalConfig:
    model: str | None = None  # None: the default SmolLM2 model (reference-free DPO)
    revision: str | None = None
    kind: str | None = None  # classifier | dpo; None: classifier for --model, dpo for the default
    head: str = "classifier"
    ref_model: str | None = None
    reduction: str = "avg"  # reference-free DPO: sum | avg | norm
    dataset: str | None = None
    dataset_revision: str | None = None
    subsets: Sequence[str] = ()
    sample: int | None = None  # at most N rows per subset (quick runs); weights keep full sizes
    out: Path | None = None
    template: str | None = None  # None/auto: the tokenizer's, else tulu; or "tulu"/"tokenizer"/PATH
    compat: str | None = None  # "rewardbench-0.1.4": the original's inputs, quirks included (eval.compat)
    max_length: int | None = None
    ties: TiesPolicy = "wrong"
    dtype: str = "float32"
    device: str = "auto"
    max_tokens: int | None = None  # None: 8192 on CPU, probed from free memory on GPU (eval.budget)
    device_map: str | None = None  # accelerate placement across devices/CPU/disk ("auto")
    max_memory: str | None = None  # with device_map: "cpu=2GiB,0=70GiB"
    offload_folder: Path | None = None  # with device_map: where weights offloaded to disk go
    attn_implementation: str | None = None  # passed to transformers: eager | sdpa | flash_attention_2 | ...
    ref_device: str | None = None  # DPO reference on its own device (default: the policy's)
    batch_size: int | None = None
    bootstrap: int = 1000
    seed: int = 0
    random_head_seed: int | None = None
    trust_remote_code: bool = False
    cache: bool = True  # False: score everything, keep nothing (benchmarks)
    prefix_sharing: bool = True  # compute each pair's shared prompt once (eval.prefix_cache)
    onednn: bool = True  # CPU fp32: the trunk's Linear layers through oneDNN's packed GEMM (eval.cpu_linear)
    progress: bool = True


@dataclass
class EvalOutcome:
    results: dict[str, Any]
    rows: list[agg.RowScore]
    out: Path | None
    notices: list[str] = field(default_factory=list)


# --- datasets ------------------------------------------------------------------------------------


def load_dataset_spec(spec: str | None, subsets: Sequence[str] = (), revision: str | None = None) -> Dataset:
    """A build folder, a parquet/JSONL file, or a published Hub split (`repo[:split][@rev]`)."""
    if spec is None:
        if is_build_folder(DEFAULT_DATASET):
            return load_build_folder(DEFAULT_DATASET, subsets)
        raise DatasetError(
            f"no --dataset given and no build folder at ./{DEFAULT_DATASET}; run `rbkit build` first, or pass "
            "--dataset with a build folder, a .parquet/.jsonl file, or allenai/reward-bench[:split]"
        )
    path = Path(spec).expanduser()
    if path.is_dir():
        if not is_build_folder(path):
            raise DatasetError(f"{path}: a folder but not an rbkit build (no build.json)")
        return load_build_folder(path, subsets)
    if path.is_file():
        return load_file(path, subsets)
    from rbkit.eval.published import load_published, parse

    ref = parse(spec)
    if ref is None:
        raise DatasetError(
            f"--dataset {spec!r}: no such file or folder, and not a published split "
            "(allenai/reward-bench[:filtered|raw], allenai/pref-test-sets[:split], allenai/reward-bench-2)"
        )
    return load_published(ref, subsets, revision)


# --- models --------------------------------------------------------------------------------------


def pick_device(name: str) -> str:
    """`auto` picks CUDA when present; anything else must name a device torch knows and has."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"--device {name!r}: expected auto, cpu, cuda or cuda:N") from exc
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise ModelError(f"--device {name}: no such CUDA device here ({torch.cuda.device_count()} visible)")
    return name


def load_options(cfg: EvalConfig, device: str) -> LoadOptions:
    """Dtype and placement: one device, or an accelerate device map; attention as asked."""
    if cfg.device_map is None and (cfg.max_memory or cfg.offload_folder):
        raise ModelError("--max-memory and --offload-folder only apply with --device-map")
    if cfg.attn_implementation is not None and cfg.attn_implementation not in ATTN_IMPLEMENTATIONS:
        raise ModelError(f"--attn-implementation {cfg.attn_implementation!r}: expected one of {', '.join(ATTN_IMPLEMENTATIONS)}")
    try:
        max_memory = parse_max_memory(cfg.max_memory)
    except ValueError as exc:
        raise ModelError(str(exc)) from exc
    return LoadOptions(
        dtype=DTYPES[cfg.dtype],
        device=device,
        random_head_seed=cfg.random_head_seed,
        trust_remote_code=cfg.trust_remote_code,
        device_map=cfg.device_map,
        max_memory=max_memory,
        offload_folder=cfg.offload_folder,
        attn_implementation=cfg.attn_implementation,
    )


def load_scorer(cfg: EvalConfig, say: Callable[[str], None],
                device: str | None = None) -> tuple[Scorer, ModelRef, ModelRef | None, str, bool]:
    """(scorer, model, reference, kind, is_default_model)."""
    options = load_options(cfg, device or pick_device(cfg.device))
    default = cfg.model is None
    if default:
        from rbkit.eval.default_model import DEFAULT_ID, default_model_dir

        folder = default_model_dir(progress=say)
        model = ModelRef(DEFAULT_ID, folder, None, fingerprint(folder))
    else:
        model = resolve(cfg.model, cfg.revision)  # type: ignore[arg-type]
    kind = cfg.kind or ("dpo" if default or cfg.ref_model else "classifier")
    reference = resolve(cfg.ref_model, option="--ref-model") if cfg.ref_model else None
    if reference is not None and kind != "dpo":
        raise ModelError("--ref-model only applies to --kind dpo")
    if kind == "dpo":
        from rbkit.eval.dpo import load_dpo

        if cfg.reduction not in ("sum", "avg", "norm"):
            raise ModelError(f"--dpo-reduction {cfg.reduction!r}: expected sum, avg or norm")
        if cfg.ref_device is not None and reference is None:
            raise ModelError("--ref-device only applies with --ref-model")
        ref_device = pick_device(cfg.ref_device) if cfg.ref_device else None
        scorer: Scorer = load_dpo(model, reference, cfg.reduction, options, ref_device)  # type: ignore[arg-type]
    elif kind == "classifier":
        scorer = get_head(cfg.head)(model, options)
    else:
        raise ModelError(f"--kind {kind!r}: expected classifier or dpo")
    if cfg.onednn:
        from rbkit.eval.cpu_linear import pack_scorer

        pack_scorer(scorer)  # CPU fp32 only; scores move by fp32 rounding (eval.cpu_linear)
    return scorer, model, reference, kind, default


# --- progress ------------------------------------------------------------------------------------


class PairsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        pairs = task.fields.get("pairs", 0)
        rate = pairs / elapsed if elapsed > 0 else 0.0
        return Text(f"{pairs}/{task.fields.get('total_pairs', 0)} pairs, {rate:.1f} pairs/s", style="cyan")


def make_progress(console: Console, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=24),
        PairsPerSecond(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


# --- the run -------------------------------------------------------------------------------------


def scoring_config(cfg: EvalConfig, scorer: Scorer, renderer: Renderer, kind: str, reference: ModelRef | None,
                   device: str) -> dict[str, Any]:
    """Everything that can change a score: keys the cache and lands in results.json."""
    desc = scorer.describe()
    return {
        "kind": kind,
        "head": scorer.head,
        "pooling": desc.get("pooling"),
        "reduction": getattr(scorer, "reduction", None),
        "reference": reference.fingerprint if reference else None,
        "random_head_seed": desc.get("random_head_seed"),
        "template_sha256": renderer.describe()["template_sha256"],
        "max_length": cfg.max_length,
        "dtype": cfg.dtype,
        "device": device.split(":")[0],
        "compat": cfg.compat,
        "prefix_sharing": cfg.prefix_sharing,  # same scores by design, but a resume never mixes the two
        # only when set, so that the keys of existing caches stay as they were
        **({"attn_implementation": cfg.attn_implementation} if cfg.attn_implementation else {}),
        **({"device_map": cfg.device_map} if cfg.device_map else {}),
    }


def make_renderer(cfg: EvalConfig, scorer: Scorer, kind: str) -> Renderer:
    """rbkit's clean rendering, or with --compat the original's inputs (which fix template and lengths)."""
    if cfg.compat is None:
        return Renderer(scorer.tokenizer, cfg.template, max_length=cfg.max_length, context_length=scorer.context_length)
    from rbkit.eval.compat import CompatRenderer, check_mode

    check_mode(cfg.compat)
    if cfg.template not in (None, "auto") or cfg.max_length is not None:
        raise ModelError(f"--compat {cfg.compat} renders as the original does (the tokenizer's template, else "
                         "FastChat tulu; its own length limits): --template and --max-length do not combine with it")
    tok = scorer.tokenizer
    model = getattr(getattr(scorer, "inner", scorer), "model", None)  # under prefix sharing: the wrapped scorer
    pad = getattr(getattr(model, "config", None), "pad_token_id", None)
    if tok.pad_token_id is None or pad is None:  # the original's CLI: EOS, else the tokenizer's pad id
        pad = tok.eos_token_id if tok.pad_token_id is None else tok.pad_token_id
    return CompatRenderer(scorer.tokenizer, cfg.compat, kind=kind, pool_pad_id=pad if kind == "classifier" else None,
                          context_length=scorer.context_length)


def run(cfg: EvalConfig, console: Console | None = None) -> EvalOutcome:
    """Score the dataset; under torchrun/accelerate launch each rank scores its share and rank 0
    writes the results (the other ranks return an outcome with empty results)."""
    started = time.perf_counter()
    console = console or Console(stderr=True)
    launch = dp.detect()
    if not launch.main:  # one progress bar and one set of notes per launch
        cfg = replace(cfg, progress=False)
        console = Console(stderr=True, quiet=True)
    say = (lambda m: console.print(f"[dim]{m}[/]", highlight=False)) if cfg.progress else (lambda m: None)
    if cfg.bootstrap < 0 or (cfg.max_tokens is not None and cfg.max_tokens < 1) or (
            cfg.batch_size is not None and cfg.batch_size < 1):
        raise DatasetError("--bootstrap must be >= 0, --max-tokens and --batch-size >= 1")
    if cfg.dtype not in DTYPES:
        raise ModelError(f"--dtype {cfg.dtype!r}: expected one of {', '.join(DTYPES)}")
    if cfg.max_length is not None and cfg.max_length < 1:
        raise DatasetError(f"--max-length {cfg.max_length}: must be at least 1 token")
    pick_device(cfg.device)  # a bad --device stops the run before any work
    device = pick_device(dp.rank_device(cfg.device, launch, torch.cuda.is_available()))
    if launch.main and cfg.out is not None:
        results_io.prepare(cfg.out)
    group = dp.Group(launch, device) if launch.distributed else None
    try:
        outcome = _run(cfg, console, say, started, launch, device, group)
        if group is not None:  # a rank with few or no batches must not tear the group down while
            group.barrier()    # rank 0 still receives from it (seen as SIGABRT in that rank's gloo)
        return outcome
    finally:
        if group is not None:
            group.close()


def _run(cfg: EvalConfig, console: Console, say: Callable[[str], None], started: float, launch: dp.Launch,
         device: str, group: dp.Group | None) -> EvalOutcome:
    dataset = load_dataset_spec(cfg.dataset, cfg.subsets, cfg.dataset_revision)
    if cfg.sample is not None:
        dataset = dataset.sample(cfg.sample, cfg.seed)
    say(f"{len(dataset.pairs)} rows in {len(dataset.subsets)} subsets from {dataset.description.get('path') or dataset.description.get('repo')}")
    scorer, model, reference, kind, is_default = load_scorer(cfg, say, device)
    max_tokens, budget_source = token_budget(cfg.max_tokens, scorer)
    if group is not None and budget_source == "probe":  # one batch plan for all ranks
        max_tokens = group.smallest(max_tokens)
    cfg = replace(cfg, max_tokens=max_tokens)
    if budget_source == "probe":
        say(f"token budget {max_tokens} per batch, from free device memory (--max-tokens sets it)")
    if cfg.prefix_sharing:
        scorer = with_prefix_sharing(scorer, max_tokens)
    renderer = make_renderer(cfg, scorer, kind)
    config_key = scoring_config(cfg, scorer, renderer, kind, reference, device)
    notices = list(scorer.notices)
    if cfg.compat is not None:
        notices.append(f"--compat {cfg.compat}: inputs built as the original evaluator builds them, quirks included "
                       "(not rbkit's clean rendering; see eval/compat.py)")
    if renderer.name == "tulu":
        notices.append("the tokenizer has no chat template: rendered with rbkit's explicit `tulu` fallback")
    for n in notices:
        console.print(f"[yellow]note:[/] {n}", highlight=False)
    for name in dataset.empty_subsets:
        console.print(f"[yellow]note:[/] subset {name} has no rows; it is reported with n=0 and left out of its section",
                      highlight=False)

    pairs = dataset.pairs
    shards: list[dict[str, Any]] | None = None
    if group is not None and not launch.main:  # rank 0 creates the cache file (and drops a torn line) first
        group.barrier()
    with ScoreCache.open(model.fingerprint, config_key, persist=cfg.cache) as cache:
        todo = [i for i, p in enumerate(pairs) if cache.get(p.content_hash) is None] if launch.main else []
        if group is not None:
            if launch.main:
                group.barrier()
            todo = group.broadcast(todo)  # rank 0's view: every rank plans the same rows
        cached = len(pairs) - len(todo)
        if cached:
            say(f"resuming: {cached} of {len(pairs)} rows already scored ({cache.path})")
        if group is None:
            stats = score_missing(pairs, todo, scorer, renderer, cache, cfg, console)
        else:
            stats, shards = score_shard(pairs, todo, scorer, renderer, cache, cfg, console, launch, group)
            if shards is None:  # not rank 0: its rows are with rank 0 now
                return EvalOutcome({}, [], None, list(scorer.notices))
        notices += [n for n in scorer.notices if n not in notices]  # raised while scoring (prefix fallback)
        row_scores = [cache.get(p.content_hash) for p in pairs]
        cache_path = cache.path
    scored: list[CachedRow] = [r for r in row_scores if r is not None]
    assert len(scored) == len(pairs)

    rows = agg.credit_rows(pairs, [r.scores for r in scored], [r.truncated for r in scored], cfg.ties,
                           [r.lengths for r in scored])
    blocks, comparability = summarise(rows, dataset, cfg)
    seconds = time.perf_counter() - started
    results = {
        "format": results_io.FORMAT,
        "rbkit_version": results_io.software_versions()["rbkit"],
        "benchmark": blocks["benchmark"],
        "kind": kind,
        "model": {**model.to_record(), "default": is_default},
        "ref_model": reference.to_record() if reference else None,
        "dataset": {**dataset.description, "rows": len(pairs), "subsets": dataset.subsets,
                    "empty_subsets": dataset.empty_subsets},
        "config": {
            "kind": kind,
            "head": scorer.head,
            "reduction": getattr(scorer, "reduction", None),
            "ties": cfg.ties,
            "max_length": cfg.max_length,
            "truncation": TRUNCATION_POLICY if cfg.max_length else None,
            "dtype": cfg.dtype,
            "device": device,
            "max_tokens": cfg.max_tokens,
            "max_tokens_source": budget_source,
            "batch_size": cfg.batch_size,
            "bootstrap": {"resamples": cfg.bootstrap, "seed": cfg.seed, "confidence": 0.95},
            "template": renderer.name,
            "random_head_seed": config_key["random_head_seed"],
            "compat": cfg.compat,
            "prefix_sharing": cfg.prefix_sharing,
            "device_map": cfg.device_map,
            "ref_device": cfg.ref_device,
            "attn_implementation": cfg.attn_implementation,
        },
        "scorer": scorer.describe(),
        "rendering": renderer.describe(),
        "dtype": cfg.dtype,
        "software": results_io.software_versions(),
        "notices": notices,
        "cache": {"key": cache_key(model.fingerprint, config_key), "path": str(cache_path) if cache_path else None},
        "subsets": blocks["subsets"],
        "sections": blocks["sections"],
        "overall": blocks["overall"],
        "comparability": comparability,
        "run": {
            "seconds": round(seconds, 3),
            "scoring_seconds": round(stats["seconds"], 3),
            "rows_scored": len(todo),
            "rows_cached": cached,
            "pairs_per_second": round(len(todo) / stats["seconds"], 3) if todo and stats["seconds"] > 0 else None,
            "tokens": stats["tokens"],
            "padded_tokens": stats["padded"],
            "padding_fraction": round(1 - stats["computed_real"] / stats["padded"], 6) if stats["padded"] else None,
            "prefix_shared_tokens": stats["tokens"] - stats["computed_real"],
            "batches": stats["batches"],
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "threads": torch.get_num_threads(),
            "onednn_linears": packed_linears(scorer),  # eval.cpu_linear: 0 when torch's own GEMM ran
        },
    }
    if shards is not None:
        results["distributed"] = dp.distributed_block(launch, group.backend, shards)  # type: ignore[union-attr]
    if cfg.out is not None:
        results_io.write(cfg.out, results, rows)
    else:
        results_io.validate(results)
    return EvalOutcome(results, rows, cfg.out, notices)


def _response_tokens(enc: EncodedPair) -> tuple[int, ...]:
    """Tokens of each completion as scored (after any --max-length cut); with no response
    boundaries (classifiers) the whole sequence, whose prompt part is the same for every completion."""
    return tuple(len(s) - st for s, st in zip(enc.sequences, enc.starts, strict=True))


def summarise(rows: Sequence[agg.RowScore], dataset: Dataset, cfg: EvalConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Subsets, sections and overalls with their CIs, and the comparability label of the overall:
    the one summary every kind of scorer (classifier, DPO, judge) ends with."""
    info = resolve_sections([*dataset.subsets, *dataset.empty_subsets], dataset.sections)
    blocks = agg.aggregate(rows, info, empty_subsets=dataset.empty_subsets, best_of_n=dataset.best_of_n,
                           resamples=cfg.bootstrap, seed=cfg.seed, weight_counts=dataset.full_counts)
    comparability = assess(
        blocks["benchmark"], dataset.full_counts or Counter(p.subset for p in dataset.pairs), dataset.substitutes,
        provenance="published split" if dataset.description.get("type") == "hub" else "build.json",
        sample_per_subset=cfg.sample,
    )
    label_overall(comparability, blocks["benchmark"], blocks["overall"], blocks["sections"])
    return blocks, comparability


def peak_rss_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


def encode_and_plan(pairs: Sequence[Pair], todo: Sequence[int], scorer: Scorer, renderer: Renderer,
                    cfg: EvalConfig) -> tuple[list[Pair], list[EncodedPair], list[list[int]]]:
    """The rows to score, their encodings, and the batch plan (the same in every process)."""
    subset_pairs = [pairs[i] for i in todo]
    encoded: list[EncodedPair] = []
    for i in range(0, len(subset_pairs), ENCODE_CHUNK):
        encoded.extend(renderer.encode(subset_pairs[i : i + ENCODE_CHUNK], boundaries=scorer.needs_boundaries))
    renderer.apply_length_policy(subset_pairs, encoded, boundaries=scorer.needs_boundaries)
    batches = getattr(scorer, "plan", plan)(encoded, max_tokens=cfg.max_tokens, max_pairs=cfg.batch_size)
    return subset_pairs, encoded, batches


def score_missing(pairs: Sequence[Pair], todo: Sequence[int], scorer: Scorer, renderer: Renderer, cache: ScoreCache,
                  cfg: EvalConfig, console: Console) -> dict[str, Any]:
    """Tokenise the rows not in the cache, score them batch by batch, append each batch."""
    if not todo:
        return {"seconds": 0.0, "tokens": 0, "padded": 0, "computed_real": 0, "batches": 0}
    subset_pairs, encoded, batches = encode_and_plan(pairs, todo, scorer, renderer, cfg)
    return score_batches(subset_pairs, encoded, batches, scorer, cache, cfg, console)


def score_shard(pairs: Sequence[Pair], todo: Sequence[int], scorer: Scorer, renderer: Renderer, cache: ScoreCache,
                cfg: EvalConfig, console: Console, launch: dp.Launch,
                group: dp.Group) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """This rank's whole batches of the single-process plan, then everything gathered on rank 0.

    Returns the summed run figures and one record per rank on rank 0; (own figures, None) elsewhere."""
    subset_pairs, encoded, batches = encode_and_plan(pairs, todo, scorer, renderer, cfg) if todo else ([], [], [])
    mine = dp.assign([sum(encoded[r].tokens for r in b) for b in batches], launch.world_size)[launch.rank]
    stats = score_batches(subset_pairs, encoded, [batches[b] for b in mine], scorer, cache, cfg, console,
                          exit_after=dp.exit_after(launch))
    rows = [r for b in mine for r in batches[b]]
    scored = [(subset_pairs[r].content_hash, cache.get(subset_pairs[r].content_hash)) for r in rows]
    record = {"rows": len(rows), "indices": rows, "scored": scored, "batches": stats["batches"],
              "tokens": stats["tokens"], "seconds": stats["seconds"], "threads": torch.get_num_threads(),
              "stats": stats, "notices": list(scorer.notices)}
    gathered = group.gather(record)
    if gathered is None:
        return stats, None
    indices = [r for rec in gathered for r in rec["indices"]]
    if sorted(indices) != list(range(len(todo))):  # the plan gives each row to one batch, each batch to one rank
        raise ModelError(f"ranks scored {len(indices)} rows ({len(set(indices))} distinct) of {len(todo)} to score")
    for rec in gathered[1:]:  # rank 0's own rows are in its cache already
        cache.absorb(rec["scored"])
        scorer.notices.extend(n for n in rec["notices"] if n not in scorer.notices)
    total = {k: sum(rec["stats"][k] for rec in gathered) for k in ("tokens", "padded", "computed_real", "batches")}
    total["seconds"] = max(rec["stats"]["seconds"] for rec in gathered)  # the ranks ran side by side
    shards = [{k: rec[k] for k in ("rows", "batches", "tokens", "seconds", "threads")} for rec in gathered]
    return total, shards


def score_batches(subset_pairs: Sequence[Pair], encoded: Sequence[EncodedPair], batches: Sequence[list[int]],
                  scorer: Scorer, cache: ScoreCache, cfg: EvalConfig, console: Console,
                  exit_after: int | None = None) -> dict[str, Any]:
    """Score batches in order, appending each to the cache as soon as it is done."""
    stats = {"seconds": 0.0, "tokens": 0, "padded": 0, "computed_real": 0, "batches": 0}
    total_tokens = sum(encoded[r].tokens for b in batches for r in b)
    t0 = time.perf_counter()
    with make_progress(console, cfg.progress) as progress:
        task = progress.add_task("scoring", total=total_tokens, pairs=0, total_pairs=sum(len(b) for b in batches))
        done = 0
        for rows in batches:
            batch = collate(rows, encoded, scorer.pad_id)
            values = scorer.score(batch).tolist()
            per_row: dict[int, list[float]] = {r: [] for r in rows}
            for (r, _), v in zip(batch.owners, values, strict=True):
                if not math.isfinite(v):
                    p = subset_pairs[r]
                    raise ModelError(f"{p.subset}/{p.id}: the model returned a non-finite score ({v})")
                per_row[r].append(v)
            cache.add((subset_pairs[r].content_hash, CachedRow(tuple(per_row[r]), encoded[r].truncated,
                                                                    _response_tokens(encoded[r]))) for r in rows)
            stats["tokens"] += batch.real_tokens
            stats["padded"] += batch.padded_tokens
            stats["batches"] += 1
            done += len(rows)
            progress.update(task, advance=batch.real_tokens, pairs=done)
            if exit_after is not None and stats["batches"] >= exit_after:
                os._exit(3)  # eval.distributed's test hook: a rank dying mid-run
    stats["seconds"] = time.perf_counter() - t0
    work = getattr(scorer, "work", None)
    if isinstance(work, Work):  # positions actually computed (shared prefixes once, little padding)
        stats["padded"], stats["computed_real"] = work.computed, work.real
    else:
        stats["computed_real"] = stats["tokens"]
    return stats
