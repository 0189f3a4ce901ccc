"""How fast decontamination checks a training set against the benchmark (target: 100k prompts
against ~5k benchmark prompts in under a minute on 2 cores).

Generates 100k synthetic training prompts deterministically (seeded word sampling, 20-300 words,
with 1% of them carrying a benchmark prompt: half inside other text, half alone, re-cased and
re-punctuated) and checks them against:

- a synthetic benchmark of 5,000 prompts (15-200 words), and
- the prompts of a real build folder (`./out`, or `--build PATH`) when one exists;

then prints, side by side: wall and CPU seconds (CPU is the figure other load does not inflate),
prompts per CPU second, and how many of the planted copies were found (recall; a planted copy
must always match).
A baseline, lm-evaluation-harness's way (a Python set of n-gram strings), runs on 10k prompts
for comparison.

    nice .venv/bin/python bench/decontam_speed.py [--prompts 100000] [--build out] [--n 13]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import time
from pathlib import Path

from rbkit.curation.decontam import Prompt, Settings, build_folder_prompts, find_matches
from rbkit.curation.ngram_index import words

VOCAB = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "po", "ru", "si", "ta", "vu", "ze") for b in range(2000)]


def synthetic_benchmark(count: int, rng: random.Random) -> list[Prompt]:
    return [Prompt(f"bench-{i % 20}", str(i), " ".join(rng.choice(VOCAB) for _ in range(rng.randint(15, 200))).capitalize() + "?")
            for i in range(count)]


def perturb(text: str, rng: random.Random) -> str:
    """Same words, different surface: upper case, extra punctuation and whitespace."""
    return re.sub(r" ", lambda _: rng.choice([" ", "  ", ", ", " - ", "\n"]), text.upper()) + "!!"


def training_set(count: int, bench: list[Prompt], rng: random.Random, n: int) -> tuple[list[str], set[int]]:
    """Prompts and the indices of the planted copies that must match.

    A reference shorter than n words matches only as a whole prompt (by design, see
    curation/ngram_index.py), so inside other text only references of n words or more are planted.
    """
    long_refs = [p for p in bench if len(words(p.text)) >= n]
    prompts, planted = [], set()
    for i in range(count):
        text = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(20, 300)))
        if i % 100 == 0:
            if i % 200 == 0:
                text = f"{text} {rng.choice(long_refs).text} {text[:200]}"
            else:
                text = perturb(bench[rng.randrange(len(bench))].text, rng)
            planted.add(i)
        prompts.append(text)
    return prompts, planted


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(name: str, prompts: list[str], bench: list[Prompt], planted: set[int], settings: Settings) -> dict:
    t0, c0 = time.perf_counter(), cpu()
    matches, _below = find_matches(prompts, bench, settings)
    wall, cpus = time.perf_counter() - t0, cpu() - c0
    found = {m.prompt for m in matches}
    return {
        "case": name,
        "prompts": len(prompts),
        "references": len(bench),
        "wall_s": wall,
        "cpu_s": cpus,
        "matched": len(found),
        "recall": len(found & planted) / len(planted) if planted else float("nan"),
    }


def baseline(prompts: list[str], bench: list[Prompt], n: int) -> dict:
    """lm-evaluation-harness's approach: a set of n-gram strings, then a scan of every n-gram."""
    t0, c0 = time.perf_counter(), cpu()
    index: set[str] = set()
    for p in bench:
        w = words(p.text)
        index.update(" ".join(w[i : i + n]) for i in range(len(w) - n + 1))
    hits = 0
    for text in prompts:
        w = words(text)
        hits += any(" ".join(w[i : i + n]) in index for i in range(len(w) - n + 1))
    wall, cpus = time.perf_counter() - t0, cpu() - c0
    return {"case": "baseline: set of n-gram strings", "prompts": len(prompts), "references": len(bench),
            "wall_s": wall, "cpu_s": cpus, "matched": hits, "recall": float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=100_000)
    ap.add_argument("--bench", type=int, default=5_000)
    ap.add_argument("--build", type=Path, default=Path("out"))
    ap.add_argument("--n", type=int, default=13)
    ap.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    settings = Settings(args.n, args.threshold)
    rng = random.Random(0)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    results = []
    bench = synthetic_benchmark(args.bench, rng)
    prompts, planted = training_set(args.prompts, bench, rng, args.n)
    results.append(run("synthetic benchmark", prompts, bench, planted, settings))
    if (args.build / "build.json").is_file():
        real, subsets = build_folder_prompts(args.build)
        real_prompts, real_planted = training_set(args.prompts, real, random.Random(1), args.n)
        results.append(run(f"build folder {args.build} ({len(subsets)} subsets)", real_prompts, real, real_planted, settings))
    else:
        print(f"(no build folder at {args.build}: run `rbkit build --out {args.build}` to time the real benchmark)")
    sample = prompts[:10_000]
    results.append(run("rbkit, first 10k (vs the baseline)", sample, bench, {i for i in planted if i < 10_000}, settings))
    results.append(baseline(sample, bench, args.n))
    header = f"{'case':<44} {'prompts':>8} {'refs':>6} {'wall s':>7} {'cpu s':>7} {'per cpu s':>10} {'matched':>8} {'recall':>7}"
    print(f"\n{args.n}-grams, threshold {args.threshold}\n{header}\n{'-' * len(header)}")
    for r in results:
        print(f"{r['case'][:44]:<44} {r['prompts']:>8} {r['references']:>6} {r['wall_s']:>7.1f} {r['cpu_s']:>7.1f} "
              f"{r['prompts'] / r['cpu_s']:>10.0f} {r['matched']:>8} {r['recall']:>7.2f}")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
