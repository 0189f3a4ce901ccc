"""rbkit's side of the bench: score the sample through the public evaluator API, nothing else.

Runs in rbkit's venv as its own process (so its peak RSS is its own) with the same model
folders and sample as the original. `eval.runner.run` with the resume cache off (every pair
is scored) and no bootstrap (the original computes none either); everything else is rbkit's
default: length-sorted token-budget batching, last-token pooling, the tokenizer's chat
template, fp32 on CPU, reference-free DPO with the same reduction as the original.

    .venv/bin/python bench/speed_rbkit.py --kind classifier --model DIR --sample P --out J
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from rbkit.core.files import atomic_write
from speed_forwardlog import ForwardLog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["classifier", "dpo"], required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--sample", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reduction", default="avg", choices=["avg", "sum", "norm"])
    parser.add_argument("--max-tokens", type=int, default=None, help="default: rbkit's")
    parser.add_argument("--compat", default=None, help="rbkit eval --compat MODE (default: rbkit's clean inputs)")
    parser.add_argument("--tokens", action="store_true", help="also record each pair's token ids and response starts")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's); 1 makes cpu_s a fair measure on a busy machine")
    parser.add_argument("--torch-gemm", action="store_true",
                        help="the previous path: torch's own fp32 GEMM for the trunk, not oneDNN's (eval.cpu_linear)")
    parser.add_argument("--device", default="cpu", help="cpu (the CPU bench) or cuda (bench/gpu.py)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = parser.parse_args()

    started = time.perf_counter()
    import torch
    from rbkit.eval.runner import EvalConfig, run

    if args.threads:
        torch.set_num_threads(args.threads)
    from transformers import LlamaModel

    log = ForwardLog()
    log.wrap(LlamaModel)
    cfg = EvalConfig(
        model=str(args.model),
        kind=args.kind,
        reduction=args.reduction,
        dataset=str(args.sample),
        device=args.device,
        dtype=args.dtype,
        bootstrap=0,
        cache=False,
        progress=False,
        compat=args.compat,
        onednn=not args.torch_gemm,
    )
    if args.max_tokens:
        cfg.max_tokens = args.max_tokens
    outcome = run(cfg)
    finished = time.perf_counter()

    rows = {r.id: r for r in outcome.rows}
    import pyarrow.parquet as pq

    ids = pq.read_table(args.sample, columns=["id"]).column("id").to_pylist()
    ordered = [rows[str(i)] for i in ids]
    record = {
        "evaluator": f"rbkit {outcome.results['rbkit_version']}",
        "kind": args.kind,
        "config": outcome.results["config"],
        "ids": ids,
        "subsets": [r.subset for r in ordered],
        "scores_chosen": [r.score_chosen for r in ordered],
        "scores_rejected": [r.score_rejected for r in ordered],
        "results": [int(r.score_chosen > r.score_rejected) for r in ordered],
        "forwards": log.forwards,
        "pair_tokens": outcome.results["run"]["tokens"],
        "run_s": finished - started,
        "score_s": log.seconds,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "threads": torch.get_num_threads(),
        "cpu_s": time.process_time(),  # the whole process: imports, load, tokenising, scoring
        "rbkit_run": outcome.results["run"],
    }
    if args.device.startswith("cuda"):
        record["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        record["device_name"] = torch.cuda.get_device_name()
    if args.tokens:  # the inputs this run built, for a token-for-token comparison with the original
        record["sequences"], record["starts"] = _tokens(cfg, args.kind, ordered_pairs(args.sample, ids))
    atomic_write(args.out, json.dumps(record))


def ordered_pairs(sample: Path, ids: list[int]) -> list:
    from rbkit.eval.data import load_file

    by_id = {p.id: p for p in load_file(sample).pairs}
    return [by_id[str(i)] for i in ids]


def _tokens(cfg, kind: str, pairs: list) -> tuple[list, list]:
    """Encode the pairs again with the renderer the run used (cheap next to scoring)."""
    from rbkit.eval.runner import load_scorer, make_renderer

    scorer, *_ = load_scorer(cfg, lambda _msg: None)
    encoded = make_renderer(cfg, scorer, kind).encode(pairs, boundaries=scorer.needs_boundaries)
    return [e.sequences for e in encoded], [e.starts for e in encoded]


if __name__ == "__main__":
    main()
