"""Where rbkit's classifier time goes, on a fixed slice of the LLMBar pairs, path by path.

    .venv/bin/python bench/speed_profile.py                  # every 6th LLMBar pair, 1 thread
    .venv/bin/python bench/speed_profile.py --every 1 --threads 2

For each scoring path (torch's BLAS sgemm for the trunk's Linear layers, then oneDNN's packed
GEMM, rbkit's default: eval.cpu_linear) it loads the bench's SmolLM2-135M classifier (fixed
random head) as `rbkit eval` does, tokenises the slice and scores it under torch.profiler,
then prints per path: CPU seconds of tokenisation, of matmul kernels, of attention, of
every other ATen op (norms, rotary, SiLU, copies), and the rest of the scoring time
(Python: transformers' module code, rbkit's batching and prefix cache), plus the largest
score difference between the paths. Totals are CPU seconds (process time) of an unprofiled
run, so a busy machine still gives usable figures (with one thread they equal the wall time
of a quiet machine); the split into parts is the share of each in a second, profiled run
(the profiler times ops in wall seconds, so on a busy machine the split is rougher).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from speed_models import ensure_models  # noqa: E402
from speed_paths import cache_root  # noqa: E402
from speed_sample import ensure_subset_rows  # noqa: E402

MATMUL = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "mkldnn::_linear_pointwise")
ATTENTION = ("aten::_scaled_dot_product_flash_attention_for_cpu", "aten::_scaled_dot_product_attention_math",
             "aten::_scaled_dot_product_flash_attention", "aten::_softmax")


def split(events) -> dict[str, float]:
    """Self CPU seconds of the profiled ATen ops, by category."""
    out = {"matmul": 0.0, "attention": 0.0, "other ATen ops": 0.0}
    for e in events:
        seconds = e.self_cpu_time_total / 1e6
        if e.key in MATMUL:
            out["matmul"] += seconds
        elif e.key in ATTENTION:
            out["attention"] += seconds
        elif e.key.startswith(("aten::", "mkldnn::")):
            out["other ATen ops"] += seconds
    return out


def profile_path(model_dir: Path, sample: Path, every: int, onednn: bool) -> dict:
    import torch
    from rbkit.eval.batching import collate
    from rbkit.eval.data import load_file
    from rbkit.eval.prefix_cache import with_prefix_sharing
    from rbkit.eval.runner import EvalConfig, encode_and_plan, load_scorer, make_renderer
    from torch.profiler import ProfilerActivity, profile

    cfg = EvalConfig(model=str(model_dir), kind="classifier", device="cpu", dtype="float32", bootstrap=0,
                     cache=False, progress=False, onednn=onednn, max_tokens=8192)
    t = time.process_time()
    scorer, *_ = load_scorer(cfg, lambda _m: None)
    load_s = time.process_time() - t
    scorer = with_prefix_sharing(scorer, cfg.max_tokens)
    renderer = make_renderer(cfg, scorer, "classifier")
    pairs = load_file(sample).pairs[::every]
    t = time.process_time()
    subset, encoded, batches = encode_and_plan(pairs, range(len(pairs)), scorer, renderer, cfg)
    encode_s = time.process_time() - t

    def score_all() -> list[float]:
        values: dict[tuple[int, int], float] = {}
        for rows in batches:
            batch = collate(rows, encoded, scorer.pad_id)
            for owner, v in zip(batch.owners, scorer.score(batch).tolist(), strict=True):
                values[owner] = v
        return [values[(r, j)] for r in range(len(encoded)) for j in range(len(encoded[r].sequences))]

    score_all()  # warm-up: the prefix self-check, first-call allocations and kernel selection
    t = time.process_time()
    scores = score_all()
    plain_s = time.process_time() - t
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t = time.perf_counter()  # the profiler times ops in wall seconds: so is the whole
        score_all()
        profiled_s = time.perf_counter() - t
    events = prof.key_averages()
    parts = split(events)
    parts["Python and the rest"] = max(0.0, profiled_s - sum(parts.values()))
    shares = {k: v / profiled_s for k, v in parts.items()}
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:8]
    return {"pairs": len(pairs), "tokens": sum(e.tokens for e in encoded), "load_s": load_s, "encode_s": encode_s,
            "score_s": plain_s, "shares": shares, "scores": scores,
            "top": [(e.key, e.self_cpu_time_total / 1e6 / profiled_s) for e in top],
            "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=6, help="take every Nth LLMBar pair (1: all 419)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: CPU seconds = wall seconds)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    cache = cache_root()
    _, rm_dir = ensure_models(cache)
    sample = ensure_subset_rows(cache, "llmbar")
    paths = {"BLAS sgemm": profile_path(rm_dir, sample, args.every, onednn=False),
             "oneDNN packed (default)": profile_path(rm_dir, sample, args.every, onednn=True)}
    first = next(iter(paths.values()))
    print(f"{first['pairs']} LLMBar pairs ({first['tokens']} tokens), classifier, fp32, {first['threads']} thread(s); "
          "CPU seconds")
    names = list(paths)
    print(f"{'':28}" + "".join(f"{n:>26}" for n in names))
    rows = [("model load (first: +imports)", "load_s"), ("tokenise + plan", "encode_s"), ("scoring", "score_s")]
    for label, key in rows:
        print(f"{label:28}" + "".join(f"{paths[n][key]:>26.2f}" for n in names))
    for part in first["shares"]:  # the profiled run's split, applied to the unprofiled scoring seconds
        cells = "".join(f"{paths[n]['shares'][part] * paths[n]['score_s']:>18.2f} ({paths[n]['shares'][part]:4.0%})"
                        for n in names)
        print(f"  {part:26}{cells}")
    for n in names:
        print(f"top ops, {n}: " + ", ".join(f"{k} {v:.0%}" for k, v in paths[n]["top"]))
    a, b = (paths[n]["scores"] for n in names)
    diff = max(abs(x - y) for x, y in zip(a, b, strict=True))
    print(f"scoring speed-up {paths[names[0]]['score_s'] / paths[names[1]]['score_s']:.2f}x; "
          f"max |score difference| between the paths {diff:.2e} (scores up to {max(abs(x) for x in a):.2f})")


if __name__ == "__main__":
    main()
