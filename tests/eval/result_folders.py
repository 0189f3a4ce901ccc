"""Real result folders (results.json + scores.parquet, schema-valid) from per-pair scores.

The report reads what `rbkit eval` writes; these folders are written by the same code
(`eval.aggregate`, `eval.comparability`, `eval.results.write`), from scores given here instead
of a model, so report tests stay fast and their numbers are known.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rbkit.eval import results as results_io
from rbkit.eval.aggregate import RowScore, aggregate
from rbkit.eval.comparability import assess, label_overall
from rbkit.eval.scoring import best_of_n_credit, pair_credit
from rbkit.eval.sections import resolve


def row_hash(subset: str, row_id: str) -> str:
    return hashlib.sha256(f"{subset}\x1f{row_id}".encode()).hexdigest()


def pair(subset: str, row_id: str, chosen: float, rejected: float, lengths: tuple[int, int] = (),
         truncated: bool = False) -> RowScore:
    credit, tie = pair_credit(chosen, rejected)
    return RowScore(row_id, subset, (chosen, rejected), 1, credit, tie, truncated, row_hash(subset, row_id),
                    tuple(lengths))


def best_of_n(subset: str, row_id: str, scores: Sequence[float], lengths: Sequence[int] = ()) -> RowScore:
    credit, tie = best_of_n_credit(scores)
    return RowScore(row_id, subset, tuple(scores), 1, credit, tie, False, row_hash(subset, row_id), tuple(lengths))


def write_result(out: Path, model_id: str, rows: Sequence[RowScore], *, kind: str = "classifier",
                 judge: dict[str, Any] | None = None, resamples: int = 1000, seed: int = 0,
                 ref_model: str | None = None) -> Path:
    """Score blocks, comparability and the rest of results.json, exactly as `rbkit eval` fills them."""
    rows = sorted(rows, key=lambda r: (r.subset, r.id))  # the order scores.parquet keeps
    best = any(len(r.scores) > 2 for r in rows)
    names = sorted({r.subset for r in rows})
    blocks = aggregate(rows, resolve(names), best_of_n=best, resamples=resamples, seed=seed)
    counts = {n: sum(1 for r in rows if r.subset == n) for n in names}
    comparability = assess(blocks["benchmark"], counts, {}, provenance="build.json")
    label_overall(comparability, blocks["benchmark"], blocks["overall"], blocks["sections"])
    model = {"id": model_id, "path": f"/models/{model_id}", "revision": None, "fingerprint": "a" * 64}
    results: dict[str, Any] = {
        "format": results_io.FORMAT, "rbkit_version": "0.1.0", "benchmark": blocks["benchmark"], "kind": kind,
        "model": model,
        "ref_model": None if ref_model is None else {**model, "id": ref_model, "path": f"/models/{ref_model}"},
        "dataset": {"type": "build", "path": "out", "files_sha256": {}, "rows": len(rows), "subsets": names,
                    "empty_subsets": []},
        "config": {"kind": kind, "head": "classifier", "reduction": None, "ties": "wrong", "max_length": None,
                   "truncation": None, "dtype": "float32", "device": "cpu", "max_tokens": 8192, "batch_size": None,
                   "bootstrap": {"resamples": resamples, "seed": seed, "confidence": 0.95}, "template": "tokenizer",
                   "random_head_seed": None},
        "scorer": {"head": "classifier", "architecture": "LlamaForSequenceClassification"},
        "rendering": {"template": "tokenizer", "template_sha256": "b" * 64, "add_generation_prompt": False,
                      "special_prefix": [], "special_suffix": [], "bos_token_id": None, "eos_token_id": None},
        "dtype": "float32",
        "software": {"python": "3", "torch": "2", "transformers": "4", "tokenizers": "0", "numpy": "2"},
        "notices": [],
        "subsets": blocks["subsets"], "sections": blocks["sections"], "overall": blocks["overall"],
        "comparability": comparability,
        "run": {"seconds": 1.0, "rows_scored": len(rows), "rows_cached": 0, "pairs_per_second": None, "tokens": 0,
                "padded_tokens": 0, "padding_fraction": None, "batches": 0, "peak_rss_mb": 1.0},
    }
    if judge is not None:
        results["judge"] = judge
    results_io.write(out, results, rows)
    return out


# --- a small scenario: the default model (DPO), a tiny classifier and a judge -----------------

SUBSETS = {"alpacaeval-easy": 24, "llmbar-natural": 20, "donotanswer": 16, "math-prm": 14, "hep-python": 12,
           "anthropic_helpful": 12}
JUDGE_BLOCK_STATS = {"position_consistency": 0.75, "first_position_rate": 0.625, "unparseable": 1, "errors": 0,
                     "requests": 40}


def _scores(model: str, subset: str, i: int) -> tuple[float, float, tuple[int, int]]:
    """Deterministic scores: each model has its own skill, and a taste for length (DPO sums)."""
    h = int(hashlib.sha256(f"{model}/{subset}/{i}".encode()).hexdigest()[:8], 16)
    len_c, len_r = 20 + h % 180, 20 + (h >> 8) % 180
    skill = {"smollm2": 0.55, "tiny-rm": 0.7, "judge": 0.65}[model]
    right = (h >> 16) % 1000 < 1000 * skill
    if model == "smollm2":  # prefers the longer answer
        right = len_c > len_r if (h >> 26) % 4 else right
    margin = 0.3 + ((h >> 4) % 100) / 50
    if model == "judge":
        chosen, rejected = (1.0, 0.0) if right else (0.0, 1.0)
        if i % 11 == 5:
            chosen = rejected = 0.5  # an unparseable verdict: a tie
    else:
        chosen, rejected = (margin, 0.0) if right else (0.0, margin)
        if model == "smollm2":
            chosen, rejected = chosen + 0.01 * len_c, rejected + 0.01 * len_r
    return chosen, rejected, (len_c, len_r)


def three_results(base: Path) -> tuple[Path, Path, Path]:
    """The default model (DPO), a tiny classifier and a judge on the same pairs."""
    out = []
    for model, kind, folder in (("smollm2", "dpo", "default"), ("tiny-rm", "classifier", "tiny-rm"),
                                ("judge", "judge", "judge")):
        rows = []
        for subset, n in SUBSETS.items():
            for i in range(n):
                c, r, lengths = _scores(model, subset, i)
                rows.append(pair(subset, str(i), c, r, lengths, truncated=model == "tiny-rm" and i == 3))
        judge = None
        if kind == "judge":
            judge = {"backend": "openai-compatible", "model": "SmolLM2-135M-Instruct-Q4_1",
                     "prompt": {"name": "mtbench-pair-v2-no-tie", "sha256": "c" * 64}, "params": {"temperature": 0},
                     "orders": 2, "mode": "pairwise", "overall": dict(JUDGE_BLOCK_STATS),
                     "subsets": {s: dict(JUDGE_BLOCK_STATS) for s in SUBSETS}}
        model_id = {"smollm2": "HuggingFaceTB/SmolLM2-135M-Instruct", "tiny-rm": "tiny-rm",
                    "judge": "judge:SmolLM2-135M-Instruct"}[model]
        out.append(write_result(base / folder, model_id, rows, kind=kind, judge=judge))
    return out[0], out[1], out[2]


def rb2_result(base: Path) -> Path:
    """A small RewardBench 2 result (best-of-N rows with 3 to 5 rejected answers)."""
    rows = []
    for subset in ("Factuality", "Math", "Focus"):
        for i in range(15):
            h = int(hashlib.sha256(f"rb2/{subset}/{i}".encode()).hexdigest()[:12], 16)
            k = 3 + i % 3
            scores = [((h >> (4 * j)) % 97) / 10 for j in range(k + 1)]
            scores[0] += 2.0 if i % 3 else 0.0
            rows.append(best_of_n(subset, str(i), scores))
    return write_result(base / "rb2", "tiny-rm", rows)
