"""Decisions side by side: the original RewardBench 0.1.4, rbkit's default, rbkit --compat rewardbench-0.1.4.

    .venv/bin/python bench/compat_agreement.py                    # DPO, the 300-pair bench sample
    .venv/bin/python bench/compat_agreement.py --kinds dpo classifier --reuse-original

Same setup as `bench/run.py` (the original's own venv, the converted SmolLM2 folders, the fixed
stratified sample under the bench cache). Per kind it runs the original's entry point, then
rbkit twice: with its clean default inputs and with `--compat rewardbench-0.1.4`. For each
rbkit side it prints how many of the original's decisions it reproduces, on how many pairs
its token ids (and, for DPO, where the scored response starts) equal the ones the original
really fed its model, and the largest score difference. Compat mode is meant to agree on
every decision; the default mode keeps its documented differences (see bench/speed_explain).
Exits 1 when compat mode misses a decision. `--reuse-original` reuses the original's record
from an earlier run on the same sample (the slowest part on a small CPU).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from rbkit.core.files import atomic_write  # noqa: E402
from run import run_side  # noqa: E402
from speed_env import ensure_original_venv  # noqa: E402
from speed_models import ensure_models  # noqa: E402
from speed_paths import REPO, cache_root  # noqa: E402
from speed_sample import ensure_sample  # noqa: E402

MODE = "rewardbench-0.1.4"
RESULTS = REPO / "bench" / "results" / "compat_agreement.json"


def agreement(kind: str, orig: dict[str, Any], mine: dict[str, Any]) -> dict[str, Any]:
    """How one rbkit side compares with the original, pair by pair."""
    n = len(orig["results"])
    same = [i for i in range(n) if orig["results"][i] == mine["results"][i]]
    inputs = 0
    for i in range(n):
        o_seq, m_seq = orig["sequences"][i], mine["sequences"][i]
        starts_match = kind != "dpo" or list(orig["starts"][i]) == list(mine["starts"][i])
        inputs += int([list(s) for s in o_seq] == [list(s) for s in m_seq] and starts_match)
    diff = max(abs(a - b) for key in ("scores_chosen", "scores_rejected") for a, b in zip(orig[key], mine[key], strict=True))
    differ = [
        {"id": orig["ids"][i], "subset": orig["subsets"][i],
         "original_margin": orig["scores_chosen"][i] - orig["scores_rejected"][i],
         "rbkit_margin": mine["scores_chosen"][i] - mine["scores_rejected"][i]}
        for i in range(n) if i not in set(same)
    ]
    return {"pairs": n, "same_decision": len(same), "identical_inputs": inputs, "max_abs_score_diff": diff,
            "disagreements": differ}


def reusable(orig: dict[str, Any], ids: list[int], kind: str, reduction: str) -> bool:
    """An earlier record of the original counts only for the same pairs and DPO reduction."""
    argv = orig.get("argv", [])
    same_reduction = kind != "dpo" or ("--ref_free_type" in argv and argv[argv.index("--ref_free_type") + 1] == reduction)
    return orig.get("ids") == ids and same_reduction and "sequences" in orig


def render(kind: str, sides: dict[str, dict[str, Any]]) -> None:
    print(f"\n{kind}: agreement with rewardbench 0.1.4 on the same pairs")
    print(f"  {'rbkit mode':<28} {'same decision':>14} {'identical inputs':>17} {'max |score diff|':>17}")
    for label, a in sides.items():
        print(f"  {label:<28} {a['same_decision']:>6}/{a['pairs']:<7} {a['identical_inputs']:>8}/{a['pairs']:<8} "
              f"{a['max_abs_score_diff']:>17.3e}")
    for label, a in sides.items():
        for d in a["disagreements"]:
            print(f"    {label}: {d['subset']}/{d['id']}: original margin {d['original_margin']:+.3e}, "
                  f"rbkit {d['rbkit_margin']:+.3e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--kinds", nargs="+", default=["dpo"], choices=["classifier", "dpo"])
    parser.add_argument("--reduction", default="avg", choices=["avg", "sum", "norm"])
    parser.add_argument("--reuse-original", action="store_true",
                        help="reuse the original's record of an earlier run on the same sample")
    args = parser.parse_args()

    cache = cache_root()
    original_python = ensure_original_venv(cache)
    lm_dir, rm_dir = ensure_models(cache)
    sample = ensure_sample(cache, args.pairs)
    import pyarrow.parquet as pq

    ids = pq.read_table(sample, columns=["id"]).column("id").to_pylist()
    report: dict[str, Any] = {"sample": str(sample), "pairs": len(ids), "reduction": args.reduction, "kinds": {}}
    failed = False
    for kind in args.kinds:
        model = rm_dir if kind == "classifier" else lm_dir
        common = ["--kind", kind, "--model", str(model), "--sample", str(sample)]
        record = cache / "runs" / f"original-{kind}" / "record.json"
        orig = json.loads(record.read_text()) if args.reuse_original and record.is_file() else None
        if orig is None or not reusable(orig, ids, kind, args.reduction):
            print(f"compat: {kind}: original (rewardbench 0.1.4) ...", flush=True)
            orig, wall, _ = run_side(original_python, "speed_original.py", [*common, "--ref-free-type", args.reduction],
                                     cache / "runs" / f"original-{kind}")
            print(f"compat: {kind}: original done in {wall:.0f} s", flush=True)
        sides = {}
        for label, extra in (("default (clean inputs)", []), (f"--compat {MODE}", ["--compat", MODE])):
            print(f"compat: {kind}: rbkit {label} ...", flush=True)
            folder = cache / "runs" / f"rbkit-{kind}-{'compat' if extra else 'default'}"
            mine, wall, _ = run_side(Path(sys.executable), "speed_rbkit.py",
                                     [*common, "--reduction", args.reduction, "--tokens", *extra], folder)
            print(f"compat: {kind}: rbkit {label} done in {wall:.0f} s", flush=True)
            sides[label] = agreement(kind, orig, mine)
        render(kind, sides)
        report["kinds"][kind] = sides
        compat = sides[f"--compat {MODE}"]
        failed |= compat["same_decision"] != compat["pairs"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(RESULTS, json.dumps(report, indent=1))
    print(f"\ncompat: figures written to {RESULTS.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
