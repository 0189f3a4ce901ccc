"""Eval speed, side by side: rbkit against the original RewardBench 0.1.4 on the same pairs.

    make bench                      # = .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --pairs 40 --kinds classifier     # a quick look
    .venv/bin/python bench/run.py --llmbar    # all 419 LLMBar pairs, classifier (issue 18: >= 3x)

On this machine, CPU, fp32, with torch's default threads on both sides, it scores the same
SmolLM2-135M-Instruct (a classifier with a fixed, saved random score head, and the causal LM
as a reference-free DPO scorer) over the same fixed stratified sample with both evaluators,
each in its own process, and prints per kind: wall and scoring time, pairs/s, tokens/s, the
ratio, peak RSS, padding, FLOPs against the machine's measured matmul peak, the share of
decisions on which they agree, and an explanation of every disagreement. It exits 1 when a
target of issue 10 is missed (throughput 2.5x for classifiers, 2x for DPO, peak RSS not above
the original's).

Everything it needs is set up once, idempotently, under the bench cache (`.cache/bench`, or
RBKIT_BENCH_CACHE): the original's venv, the converted model folders, a core build and the
sample. Timings are only meaningful on a quiet machine: `--wait-quiet SECONDS` waits (in 60 s
steps) for the 1-minute load average to drop below `--quiet-load` first; the load before
and after is printed either way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from rbkit.core.files import atomic_write  # noqa: E402
from speed_env import ensure_original_venv  # noqa: E402
from speed_explain import explain  # noqa: E402
from speed_matmul import LlamaCost, measure  # noqa: E402
from speed_models import ensure_models  # noqa: E402
from speed_paths import REPO, cache_root  # noqa: E402
from speed_report import TARGETS, compare, render, side_figures  # noqa: E402
from speed_sample import ensure_sample, ensure_subset_rows  # noqa: E402

RESULTS = REPO / "bench" / "results" / "eval_speed.json"
LLMBAR_TARGETS = {"classifier": 3.0}  # issue 18: the 419 LLMBar pairs
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "WANDB_MODE": "disabled",
    "CUDA_VISIBLE_DEVICES": "",
    "TOKENIZERS_PARALLELISM": "false",
}


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def wait_for_quiet(limit_s: float, threshold: float) -> None:
    waited = 0.0
    while loadavg()[0] >= threshold and waited < limit_s:
        print(f"bench: load {loadavg()[0]:.2f} >= {threshold}; waiting ({waited:.0f}/{limit_s:.0f} s)", flush=True)
        time.sleep(60)
        waited += 60
    if loadavg()[0] >= threshold:
        print(f"bench: the machine is not quiet (load {loadavg()[0]:.2f}); timing anyway", flush=True)


def run_side(python: Path, script: str, args: list[str], folder: Path) -> tuple[dict[str, Any], float, int]:
    """Run one evaluator in a fresh folder; (its record, wall seconds, peak RSS KB via wait4)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    out = folder / "record.json"
    env = {**os.environ, **OFFLINE_ENV, "HF_DATASETS_CACHE": str(folder / "hf-datasets")}
    log = folder / "log.txt"
    with open(log, "w") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen([str(python), str(HERE / script), *args, "--out", str(out)], cwd=folder, env=env,
                                stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"bench: {script} {' '.join(args)} failed ({proc.returncode}); log {log}:\n{tail}")
    record = json.loads(out.read_text())
    record["process_cpu_s"] = usage.ru_utime + usage.ru_stime  # CPU seconds: steadier than wall on a busy machine
    return record, wall, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--kinds", nargs="+", default=["classifier", "dpo"], choices=["classifier", "dpo"])
    parser.add_argument("--reduction", default="avg", choices=["avg", "sum", "norm"],
                        help="reference-free DPO reduction, the same on both sides (run_dpo.py's default: avg)")
    parser.add_argument("--redraw", action="store_true", help="rebuild the core subsets and draw the sample again")
    parser.add_argument("--llmbar", action="store_true",
                        help="every LLMBar pair (419) instead of the sample, classifier only, target 3x (issue 18)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--quiet-load", type=float, default=0.7)
    args = parser.parse_args()

    cache = cache_root()
    original_python = ensure_original_venv(cache)
    lm_dir, rm_dir = ensure_models(cache)
    if args.llmbar:
        args.kinds = ["classifier"]
        sample = ensure_subset_rows(cache, "llmbar", redraw=args.redraw)
    else:
        sample = ensure_sample(cache, args.pairs, redraw=args.redraw)
    manifest = json.loads(sample.with_suffix(".json").read_text())
    print(f"bench: {manifest['pairs']} pairs from {len(manifest['per_subset'])} subsets ({sample})", flush=True)
    cost = LlamaCost.from_config(json.loads((lm_dir / "config.json").read_text()))

    wait_for_quiet(args.wait_quiet, args.quiet_load)
    results: dict[str, Any] = {"load_before": loadavg(), "sample": manifest, "kinds": {},
                               "targets": {**TARGETS, **(LLMBAR_TARGETS if args.llmbar else {})}}
    print("bench: measuring fp32 matmul throughput", flush=True)
    results["matmul"] = measure(cost.hidden, cost.intermediate)
    for kind in args.kinds:
        model = rm_dir if kind == "classifier" else lm_dir
        common = ["--kind", kind, "--model", str(model), "--sample", str(sample)]
        print(f"bench: {kind}: original (rewardbench 0.1.4) ...", flush=True)
        orig, o_wall, o_rss = run_side(original_python, "speed_original.py", [*common, "--ref-free-type", args.reduction],
                                       cache / "runs" / f"original-{kind}")
        print(f"bench: {kind}: original done in {o_wall:.0f} s; rbkit ...", flush=True)
        mine, m_wall, m_rss = run_side(Path(sys.executable), "speed_rbkit.py", [*common, "--reduction", args.reduction],
                                       cache / "runs" / f"rbkit-{kind}")
        print(f"bench: {kind}: rbkit done in {m_wall:.0f} s; explaining disagreements", flush=True)
        why = explain(kind, model, sample, orig, mine, args.reduction)
        dpo = kind == "dpo"
        if dpo:
            orig["response_tokens"] = sum(len(s) - st for p, sts in zip(orig["sequences"], orig["starts"], strict=True)
                                          for s, st in zip(p, sts, strict=True))
        block = {
            "original": {"label": orig["entry_point"], "record": orig,
                         "figures": side_figures(orig, o_wall, o_rss, cost, None if dpo else 0)},
            "rbkit": {"label": "rbkit.eval.runner.run", "record": mine,
                      "figures": side_figures(mine, m_wall, m_rss, cost, why["rbkit_response_tokens"] if dpo else 0)},
            "explain": why,
        }
        if args.llmbar:  # untimed: rbkit's previous path (torch's GEMM) must give the same scores
            prev, _, _ = run_side(Path(sys.executable), "speed_rbkit.py", [*common, "--torch-gemm"],
                                  cache / "runs" / f"rbkit-{kind}-torch-gemm")
            block["previous_path"] = previous_path(mine, prev)
        block["comparison"] = compare(kind, block["original"], block["rbkit"], results["matmul"]["peak_gflops"],
                                      results["targets"][kind])
        results["kinds"][kind] = block
    results["load_after"] = loadavg()
    render(results)
    target = RESULTS if len(args.kinds) == 2 else RESULTS.with_name(f"eval_speed-{'-'.join(args.kinds)}.json")
    if args.llmbar:
        target = RESULTS.with_name("eval_speed-llmbar.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    slim = {**results, "kinds": {k: {**b, "original": {**b["original"], "record": _slim(b["original"]["record"])},
                                     "rbkit": {**b["rbkit"], "record": _slim(b["rbkit"]["record"])}}
                                 for k, b in results["kinds"].items()}}
    atomic_write(target, json.dumps(slim, indent=1))
    print(f"bench: figures written to {target.relative_to(REPO)}")
    previous_ok = all(b.get("previous_path", {}).get("within_1e-5", True) for b in results["kinds"].values())
    return 0 if results["targets_met"] and previous_ok else 1


def previous_path(mine: dict[str, Any], prev: dict[str, Any]) -> dict[str, Any]:
    """Scores and decisions of rbkit's default path against its previous one (torch's fp32 GEMM)."""
    diffs = [abs(a - b) for key in ("scores_chosen", "scores_rejected")
             for a, b in zip(mine[key], prev[key], strict=True)]
    same = sum(1 for a, b in zip(mine["results"], prev["results"], strict=True) if a == b)
    out = {"max_abs_score_diff": max(diffs), "same_decisions": same, "pairs": len(prev["results"]),
           "within_1e-5": max(diffs) <= 1e-5 and same == len(prev["results"]), "previous_score_s": prev["score_s"]}
    print(f"bench: rbkit vs its previous path (torch GEMM): max |score diff| {out['max_abs_score_diff']:.2e}, "
          f"same decisions {same}/{out['pairs']}, previous scoring {prev['score_s']:.1f} s", flush=True)
    return out


def _slim(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the bulky token ids (they stay in the run folder)."""
    return {k: v for k, v in record.items() if k not in ("sequences", "starts")}


if __name__ == "__main__":
    sys.exit(main())
