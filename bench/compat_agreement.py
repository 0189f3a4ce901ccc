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

`--inputs-only` runs no model: it has the original tokenise the sample its own way
(bench/compat_inputs_original.py, seconds) and counts, per kind and rbkit mode, the pairs
whose token ids (and DPO response starts) are identical to the original's. Identical inputs
give the original's scores up to fp32 rounding; the full run shows the decisions.
"""

from __future__ import annotations

import argparse
import json
import os
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


def inputs_only(original_python: Path, model: Path, sample: Path, ids: list[int], cache: Path) -> int:
    """Token-for-token comparison of the inputs, per kind and rbkit mode (no model is run)."""
    import subprocess

    from rbkit.eval.compat import CompatRenderer
    from rbkit.eval.data import load_file
    from rbkit.eval.render import Renderer
    from transformers import AutoTokenizer

    out = cache / "runs" / "original-inputs.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_DATASETS_CACHE": str(cache / "runs" / "original-inputs-hf")}
    subprocess.run([str(original_python), str(HERE / "compat_inputs_original.py"), "--model", str(model),
                    "--sample", str(sample), "--out", str(out)], check=True, env=env)
    orig = json.loads(out.read_text())
    if orig["ids"] != ids:
        raise RuntimeError("compat: the original's rows are not in sample order")
    by_id = {p.id: p for p in load_file(sample).pairs}
    pairs = [by_id[str(i)] for i in ids]
    tok = AutoTokenizer.from_pretrained(model)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    renderers = {
        "default (clean inputs)": {"dpo": Renderer(tok), "classifier": Renderer(tok)},
        f"--compat {MODE}": {"dpo": CompatRenderer(tok, MODE, kind="dpo"),
                             "classifier": CompatRenderer(tok, MODE, kind="classifier", pool_pad_id=pad)},
    }
    report: dict[str, Any] = {"sample": str(sample), "pairs": len(ids), "inputs_only": {}}
    print(f"\ninputs identical to rewardbench 0.1.4's, token for token, on {len(ids)} pairs")
    print(f"  {'rbkit mode':<28} {'dpo (ids + starts)':>19} {'classifier (ids)':>17}")
    failed = False
    for label, by_kind in renderers.items():
        counts = {}
        for kind, r in by_kind.items():
            enc = r.encode(pairs, boundaries=kind == "dpo")
            key = "dpo_sequences" if kind == "dpo" else "classifier_sequences"
            same = 0
            for i, e in enumerate(enc):
                starts_ok = kind != "dpo" or list(e.starts) == list(orig["dpo_starts"][i])
                same += int([list(s) for s in e.sequences] == [list(s) for s in orig[key][i]] and starts_ok)
            counts[kind] = same
        print(f"  {label:<28} {counts['dpo']:>9}/{len(ids):<9} {counts['classifier']:>7}/{len(ids):<9}")
        report["inputs_only"][label] = counts
        failed |= label.startswith("--compat") and min(counts.values()) != len(ids)
    target = RESULTS.with_name("compat_inputs.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, json.dumps(report, indent=1))
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--kinds", nargs="+", default=["dpo"], choices=["classifier", "dpo"])
    parser.add_argument("--reduction", default="avg", choices=["avg", "sum", "norm"])
    parser.add_argument("--inputs-only", action="store_true", help="compare token inputs only (no model runs)")
    parser.add_argument("--reuse-original", action="store_true",
                        help="reuse the original's record of an earlier run on the same sample")
    args = parser.parse_args()

    cache = cache_root()
    original_python = ensure_original_venv(cache)
    lm_dir, rm_dir = ensure_models(cache)
    sample = ensure_sample(cache, args.pairs)
    import pyarrow.parquet as pq

    ids = pq.read_table(sample, columns=["id"]).column("id").to_pylist()
    if args.inputs_only:
        return inputs_only(original_python, lm_dir, sample, ids, cache)
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
