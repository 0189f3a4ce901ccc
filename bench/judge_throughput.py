"""Judge throughput with SmolLM2-135M-Instruct, side by side (issue 16).

    .venv/bin/python bench/judge_throughput.py [--pairs 8] [--max-new-tokens 16] [--threads 2]

Judge requests are the real ones `rbkit eval --kind judge` sends: `pair-v2-no-tie` from the
pinned MT-Bench judge prompts (RBKIT_SOURCES), both answer orders, over LLMBar Natural pairs from
the mirror, greedy, no cache (every request really generated). Rows:
    API, concurrency 1 and 16   requests/s against the test suite's OpenAI-compatible server
                                (tests/eval/generation/openai_server.py, SmolLM2 on this CPU,
                                batching the requests that arrive together, up to 16)
    local, batch 1 and 16       completion tokens/s of the transformers backend, one prompt at a
                                time vs batched
Model load is excluded. The load average is printed beside the figures: on a shared machine
they move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def judge_requests(n_pairs: int, max_new: int) -> list:
    from rbkit.curation.sources import resolve
    from rbkit.eval.data import Pair
    from rbkit.eval.generation import SamplingParams
    from rbkit.eval.judge.plan import plan_pairwise
    from rbkit.eval.judge.prompts import pairwise_no_tie
    from rbkit.subsets.llmbar import SPLITS, source_for
    from rbkit.subsets.mtbench import JUDGE_PROMPTS

    folder, sha256, size, _ = SPLITS["llmbar-natural"]
    rows = json.loads(resolve(source_for(folder, sha256, size)).read_text())[:n_pairs]
    pairs = []
    for i, r in enumerate(rows):
        good, bad = (r["output_1"], r["output_2"]) if r["label"] == 1 else (r["output_2"], r["output_1"])
        pairs.append(Pair(f"n{i}", "llmbar-natural", (("user", r["input"]),), (good,), (bad,)))
    prompt = pairwise_no_tie(resolve(JUDGE_PROMPTS))
    return [p.request for p in plan_pairwise(pairs, prompt, SamplingParams(max_new_tokens=max_new), 2, 0)]


def timed(backend, requests) -> dict:
    from rbkit.eval.generation.run import run_requests

    start = time.perf_counter()
    done = run_requests(backend, requests, cache=False, progress=False)
    seconds = time.perf_counter() - start
    errors = sum(c.finish_reason == "error" for c in done)
    tokens = sum(c.completion_tokens for c in done)
    return {"requests": len(done), "errors": errors, "tokens": tokens, "seconds": seconds,
            "requests_per_s": len(done) / seconds, "tokens_per_s": tokens / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=8, help="LLMBar Natural pairs (x2 orders = requests)")
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    import torch
    from rbkit.eval.generation import open_backend

    from tests.eval.generation.openai_server import serve_openai

    torch.set_num_threads(args.threads)
    requests = judge_requests(args.pairs, args.max_new_tokens)
    batched = open_backend("SmolLM2-135M-Instruct", batch_size=16)
    load_before = os.getloadavg()[0]
    print(f"SmolLM2-135M-Instruct judge, pair-v2-no-tie both orders, {len(requests)} requests, max "
          f"{args.max_new_tokens} new tokens, {args.threads} threads, {os.cpu_count()} CPUs; load average {load_before:.2f}")
    print(f"{'configuration':<34} {'requests':>8} {'errors':>6} {'seconds':>8} {'req/s':>7} {'tokens/s':>9}")
    figures = []

    def row(label: str, got: dict) -> None:
        figures.append({"configuration": label, **got})
        print(f"{label:<34} {got['requests']:>8} {got['errors']:>6} {got['seconds']:>8.1f} "
              f"{got['requests_per_s']:>7.2f} {got['tokens_per_s']:>9.1f}", flush=True)

    with serve_openai(batched, max_batch=16) as server:
        for concurrency in (1, 16):
            api = open_backend(server.model, api_base=server.url, concurrency=concurrency, timeout=600)
            row(f"API, concurrency {concurrency}", timed(api, requests))
    row("local, batch 16", timed(batched, requests))
    batched.batch_size = 1  # same loaded model, one prompt at a time
    row("local, batch 1 (one at a time)", timed(batched, requests))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"load_before": load_before, "figures": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
