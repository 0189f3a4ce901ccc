"""Generation speed with SmolLM2-135M-Instruct on this machine's CPU, side by side (issue 15).

    .venv/bin/python bench/generation_speed.py [--max-new-tokens 64] [--threads 2] [--only llama]

Rows (each measured in its own fresh process, model load excluded, greedy decoding):
    transformers generate fp32, batch 1 and batch 16   (plain `model.generate`, the baseline)
    rbkit transformers backend fp32, batch 16          (what `rbkit generate` runs by default)
    llama.cpp batch 1                                  (`--backend llamacpp`, one sequence)
    llama.cpp aggregate, 16 parallel sequences         (one process, one batch of 16 sequences)
    llama.cpp aggregate, 2 processes x 16 sequences    (one thread each)
Tokens/s counts the completion tokens each row really produced (a completion may end early at
its end-of-turn token) over the wall time of the generation. Targets: >= 60 tokens/s at batch 1
and >= 150 tokens/s aggregate on 2 cores. The machine's load average is printed beside the
figures: on a shared machine wall-clock rates fall with the load (llama.cpp's spinning threads
most, so compare `--threads 1`), while tokens per CPU-second (all threads of the process) do
not; with one thread per process, 2 x tokens/CPU-s is what two idle cores would give.
llama.cpp rows need the `[llama]` extra (llama-cpp-python).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROMPTS = [
    "Write a short story about a lighthouse keeper.", "Explain how rain forms.", "Describe a busy market in the morning.",
    "Write a letter to a friend about your holiday.", "Explain why the sky is blue.", "Tell me about the history of bread.",
    "Describe the life cycle of a butterfly.", "Write a poem about autumn leaves.", "Explain how a bicycle works.",
    "Describe your ideal weekend.", "Write a recipe for pancakes.", "Explain what a computer program is.",
    "Tell a story about a lost dog finding its way home.", "Describe the ocean to someone who has never seen it.",
    "Explain how plants grow from seeds.", "Write a speech for a school graduation.",
]
TARGET_BATCH1 = 60.0
TARGET_AGGREGATE = 150.0


def _requests(n: int, max_new: int):
    from rbkit.eval.generation import GenerationRequest, Message, SamplingParams

    return [GenerationRequest(f"b{i}", (Message("user", PROMPTS[i % len(PROMPTS)]),), SamplingParams(max_new_tokens=max_new))
            for i in range(n)]


def run_one(config: str, max_new: int, threads: int) -> dict:
    """One configuration in this process: {"tokens": ..., "seconds": ...}."""
    import torch

    torch.set_num_threads(threads)
    if config.startswith("hf-generate-"):
        batch = int(config.rsplit("-", 1)[1])
        from rbkit.eval.generation import open_backend

        backend = open_backend("SmolLM2-135M-Instruct")  # loads the converted folder; its tokenizer renders chats
        model = backend.model
        reqs = _requests(batch if batch > 1 else 4, max_new)
        tokens = 0
        start, cpu = time.perf_counter(), time.process_time()
        for lo in range(0, len(reqs), batch):
            ids = [backend.prompt_ids(r) for r in reqs[lo : lo + batch]]
            width = max(map(len, ids))
            input_ids = torch.tensor([[backend.pad_id] * (width - len(i)) + i for i in ids])
            mask = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids])
            with torch.inference_mode():
                out = model.generate(input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new, do_sample=False,
                                     pad_token_id=backend.pad_id)
            for row in out[:, width:].tolist():
                ends = [k for k, t in enumerate(row) if t in backend.eos_ids]
                tokens += (ends[0] + 1) if ends else len(row)
        return {"tokens": tokens, "seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}
    from rbkit.eval.generation import open_backend

    if config == "rbkit-transformers-16":
        backend = open_backend("SmolLM2-135M-Instruct", batch_size=16)
        reqs = _requests(16, max_new)
    elif config.startswith("llama-"):
        parallel = int(config.rsplit("-", 1)[1])
        backend = open_backend("SmolLM2-135M-Instruct", backend="llamacpp", threads=threads)
        backend.parallel = parallel  # type: ignore[attr-defined]
        reqs = _requests(4 if parallel == 1 else parallel, max_new)
    else:
        raise SystemExit(f"unknown config {config}")
    start, cpu = time.perf_counter(), time.process_time()
    done = list(backend.generate(reqs))
    return {"tokens": sum(c.completion_tokens for c in done), "seconds": time.perf_counter() - start,
            "cpu_s": time.process_time() - cpu}


def measure(config: str, max_new: int, threads: int, processes: int = 1) -> dict:
    """Run `config` in `processes` fresh interpreters at once; aggregate tokens over the longest wall time."""
    cmd = [sys.executable, __file__, "--one", config, "--max-new-tokens", str(max_new), "--threads", str(threads)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(processes)]
    results = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            return {"error": (err.strip().splitlines() or ["failed"])[-1]}
        results.append(json.loads(out.strip().splitlines()[-1]))
    tokens = sum(r["tokens"] for r in results)
    seconds = max(r["seconds"] for r in results)
    cpu_s = sum(r["cpu_s"] for r in results)
    return {"tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds, "cpu_s": cpu_s,
            "tokens_per_cpu_s": tokens / cpu_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per process (the 2-process row uses 1 each)")
    parser.add_argument("--only", choices=("transformers", "llama"), default=None)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.max_new_tokens, args.threads)))
        return
    rows = []
    if args.only != "llama":
        rows += [
            ("transformers generate fp32, batch 1", "hf-generate-1", args.threads, 1, TARGET_BATCH1),
            ("transformers generate fp32, batch 16", "hf-generate-16", args.threads, 1, TARGET_AGGREGATE),
            ("rbkit transformers backend fp32, batch 16", "rbkit-transformers-16", args.threads, 1, TARGET_AGGREGATE),
        ]
    if args.only != "transformers":
        rows += [
            ("llama.cpp (GGUF Q4_1), batch 1", "llama-1", args.threads, 1, TARGET_BATCH1),
            ("llama.cpp aggregate, 16 parallel sequences", "llama-16", args.threads, 1, TARGET_AGGREGATE),
            ("llama.cpp aggregate, 2 processes x 16 sequences", "llama-16", 1, 2, TARGET_AGGREGATE),
        ]
    load_before = os.getloadavg()[0]
    figures = []
    print(f"SmolLM2-135M-Instruct, greedy, max {args.max_new_tokens} new tokens, {os.cpu_count()} CPUs; load average {load_before:.2f}")
    print(f"{'configuration':<50} {'threads':>7} {'tokens':>7} {'seconds':>8} {'tokens/s':>9} {'tok/CPU-s':>9} {'target':>7}")
    for label, config, threads, processes, target in rows:
        got = measure(config, args.max_new_tokens, threads, processes)
        figures.append({"configuration": label, "threads": threads, "processes": processes, **got})
        if "error" in got:
            print(f"{label:<50} {threads:>7} {'-':>7} {'-':>8} {'-':>9} {'-':>9} {target:>7.0f}  ({got['error']})")
            continue
        mark = "ok" if got["tokens_per_s"] >= target else "below"
        print(f"{label:<50} {threads:>7} {got['tokens']:>7} {got['seconds']:>8.1f} {got['tokens_per_s']:>9.1f} "
              f"{got['tokens_per_cpu_s']:>9.1f} {target:>7.0f}  {mark}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"load_before": load_before, "figures": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
