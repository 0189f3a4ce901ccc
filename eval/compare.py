"""Paired comparison of two result folders on the same pair ids (`rbkit compare A B`).

Two models scored on the same pairs are compared pair by pair: a paired bootstrap (the same
resampled pairs for both) gives a CI and p-value for each difference in subset, section and
overall score, and an exact McNemar test uses the pairs exactly one model got right. Pairs
are matched on (subset, id) and must have the same content hash in both runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rbkit.eval import results as results_io
from rbkit.eval.comparability import REFERENCES, overall_label
from rbkit.eval.errors import ResultsError
from rbkit.eval.scoring import CONVENTIONS
from rbkit.eval.sections import PRIOR_SETS, PRIOR_SETS_SCORED, RB2_SUBSETS
from rbkit.eval.stats import (
    holm,
    mcnemar_exact,
    paired_bootstrap_p,
    paired_resample_means,
    percentile_ci,
    seeded_rng,
    weighted_samples,
)


def _rows(table: Any) -> dict[tuple[str, str], tuple[float, str]]:
    d = table.to_pydict()
    return {(s, i): (c, h) for s, i, c, h in zip(d["subset"], d["id"], d["correct"], d["row_sha256"], strict=True)}


def _delta(ma: np.ndarray | None, mb: np.ndarray | None) -> dict[str, Any]:
    if ma is None or mb is None:
        return {"ci95": None, "p_bootstrap": None}
    diff = ma - mb
    ci = percentile_ci(diff)
    return {"ci95": list(ci) if ci else None, "p_bootstrap": paired_bootstrap_p(diff)}


def paired_comparability(a_res: dict[str, Any], b_res: dict[str, Any], common_subsets: set[str],
                          left_out: int) -> dict[str, Any]:
    """How the compared overall may be labelled: "RewardBench overall" only when both runs are
    comparable and every pair of each was paired; else "partial overall (...)" with the
    union of both runs' substitutes and short subsets."""
    benchmark = a_res["benchmark"]
    a, b = a_res["comparability"], b_res["comparability"]
    names = list(REFERENCES[benchmark].counts)
    block: dict[str, Any] = {
        "reference": a["reference"],
        "comparable": a["comparable"] and b["comparable"] and left_out == 0,
        "subsets_present": sum(1 for n in names if n in common_subsets),
        "subsets_total": len(names),
        "missing": [n for n in names if n not in common_subsets],
        "substitutes": {n: a["substitutes"].get(n) or b["substitutes"][n]
                        for n in names if n in a["substitutes"] or n in b["substitutes"]},
        "short": {n: a["short"].get(n) or b["short"][n] for n in names if n in a["short"] or n in b["short"]},
        "over": {n: a["over"].get(n) or b["over"][n] for n in names if n in a["over"] or n in b["over"]},
        "sample_per_subset": a["sample_per_subset"] or b["sample_per_subset"],
        "provenance": "unknown" if "unknown" in (a["provenance"], b["provenance"]) else a["provenance"],
    }
    block["label"] = overall_label(block, benchmark, [f"{left_out} pair(s) in one run only"] if left_out else [])
    return block


ALPHA = 0.05
BETTER, WORSE, NO_DIFFERENCE = "better", "worse", "no detectable difference"


def verdict(delta: float | None, p_adjusted: float | None, alpha: float = ALPHA) -> str:
    """A's verdict against B: better or worse only where the Holm-adjusted test rejects."""
    if delta is None or p_adjusted is None or p_adjusted >= alpha or delta == 0:
        return NO_DIFFERENCE
    return BETTER if delta > 0 else WORSE


def add_verdicts(block: dict[str, Any], p_key: str, alpha: float = ALPHA) -> None:
    """Holm-adjust `p_key` across the entries of one family (subsets, sections or conventions)
    and give each entry `p_holm` and its `verdict`."""
    names = sorted(block)
    adjusted = holm([block[n][p_key] for n in names])
    for name, p in zip(names, adjusted, strict=True):
        block[name]["p_holm"] = p
        block[name]["verdict"] = verdict(block[name]["delta"], p, alpha)


def _pooled(subsets: dict[str, Any], names: Any) -> dict[str, Any]:
    """Discordant pairs pooled over a section's or convention's subsets, with their exact McNemar p
    (an unweighted check beside the weighted bootstrap, which carries the verdict)."""
    a_only = sum(subsets[s]["a_only"] for s in names if s in subsets)
    b_only = sum(subsets[s]["b_only"] for s in names if s in subsets)
    return {"a_only": a_only, "b_only": b_only, "p_mcnemar": mcnemar_exact(a_only, b_only)}


def compare_many(dirs: list[Path], *, resamples: int = 2000, seed: int = 0) -> list[dict[str, Any]]:
    """Every pair of result folders (A before B in the order given)."""
    if len(dirs) < 2:
        raise ResultsError("compare needs at least two result folders")
    return [compare(a, b, resamples=resamples, seed=seed) for i, a in enumerate(dirs) for b in dirs[i + 1:]]


def compare(a_dir: Path, b_dir: Path, *, resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    a_res, a_tab = results_io.read(a_dir)
    b_res, b_tab = results_io.read(b_dir)
    if a_res["benchmark"] != b_res["benchmark"]:
        raise ResultsError(f"{a_dir} scored {a_res['benchmark']} but {b_dir} scored {b_res['benchmark']}")
    a_rows, b_rows = _rows(a_tab), _rows(b_tab)
    common = sorted(set(a_rows) & set(b_rows))
    if not common:
        raise ResultsError(f"{a_dir} and {b_dir} share no (subset, id) pairs")
    differ = [k for k in common if a_rows[k][1] != b_rows[k][1]]
    if differ:
        shown = ", ".join(f"{s}/{i}" for s, i in differ[:5])
        raise ResultsError(f"{len(differ)} pair(s) have the same id but different content in the two runs, e.g. {shown}")
    by_subset: dict[str, list[tuple[float, float]]] = {}
    for key in common:
        by_subset.setdefault(key[0], []).append((a_rows[key][0], b_rows[key][0]))
    subsets: dict[str, Any] = {}
    ma_s: dict[str, np.ndarray] = {}
    mb_s: dict[str, np.ndarray] = {}
    for name in sorted(by_subset):
        pairs = by_subset[name]
        a = [x for x, _ in pairs]
        b = [y for _, y in pairs]
        ma, mb = paired_resample_means(a, b, resamples, seeded_rng(seed, name))
        ma_s[name], mb_s[name] = ma, mb
        a_only = sum(1 for x, y in pairs if x == 1.0 and y != 1.0)
        b_only = sum(1 for x, y in pairs if y == 1.0 and x != 1.0)
        subsets[name] = {
            "n": len(pairs),
            "a": float(np.mean(a)),
            "b": float(np.mean(b)),
            "delta": float(np.mean(a) - np.mean(b)),
            **_delta(ma, mb),
            "a_only": a_only,
            "b_only": b_only,
            "p_mcnemar": mcnemar_exact(a_only, b_only),
        }
    out: dict[str, Any] = {
        "a": {"dir": str(a_dir), "model": a_res["model"]["id"]},
        "b": {"dir": str(b_dir), "model": b_res["model"]["id"]},
        "benchmark": a_res["benchmark"],
        "pairs": len(common),
        "only_in_a": len(set(a_rows) - set(b_rows)),
        "only_in_b": len(set(b_rows) - set(a_rows)),
        "resamples": resamples,
        "seed": seed,
        "subsets": subsets,
        "sections": {},
        "overall": {},
    }
    out["comparability"] = paired_comparability(a_res, b_res, set(by_subset), out["only_in_a"] + out["only_in_b"])
    out["alpha"] = ALPHA
    out["holm"] = "exact McNemar p Holm-adjusted across subsets; bootstrap p across sections and across conventions"
    add_verdicts(subsets, "p_mcnemar")
    if a_res["benchmark"] != "reward-bench":
        _rb2_overall(out, ma_s, mb_s)
        add_verdicts(out["overall"], "p_bootstrap")
        return out
    # Sections and overall: the weights of run A's result, applied to the paired resamples.
    sec_a: dict[str, np.ndarray] = {}
    sec_b: dict[str, np.ndarray] = {}
    members: dict[str, list[str]] = {}
    for name, sec in a_res["sections"].items():
        weights = {s: w for s, w in sec["weights"].items() if s in ma_s}
        if name == PRIOR_SETS:
            weights = {s: 1.0 for s in PRIOR_SETS_SCORED if s in ma_s}
        sa, sb = weighted_samples(ma_s, weights), weighted_samples(mb_s, weights)
        if sa is None or sb is None:
            continue
        sec_a[name], sec_b[name] = sa, sb
        members[name] = list(weights)
        point_a = sum(subsets[s]["a"] * w for s, w in weights.items()) / sum(weights.values())
        point_b = sum(subsets[s]["b"] * w for s, w in weights.items()) / sum(weights.values())
        out["sections"][name] = {"a": point_a, "b": point_b, "delta": point_a - point_b, **_delta(sa, sb),
                                 **_pooled(subsets, weights)}
    for conv in CONVENTIONS:
        used = {s: w for s, w in conv.weights.items() if s in out["sections"]}
        if not used:
            continue
        total = sum(used.values())
        pa_ = sum(out["sections"][s]["a"] * w for s, w in used.items()) / total
        pb_ = sum(out["sections"][s]["b"] * w for s, w in used.items()) / total
        complete = len(used) == len(conv.weights)
        out["overall"][conv.name] = {
            "a": pa_, "b": pb_, "delta": pa_ - pb_,
            "label": out["comparability"]["label"] if complete else overall_label(
                out["comparability"], "reward-bench", [f"no {s}" for s in conv.weights if s not in used]),
            **_delta(weighted_samples(sec_a, used), weighted_samples(sec_b, used)),
            **_pooled(subsets, [s for sec in used for s in members[sec]]),
            "complete": len(used) == len(conv.weights),
        }
    add_verdicts(out["sections"], "p_bootstrap")
    add_verdicts(out["overall"], "p_bootstrap")
    return out


def _rb2_overall(out: dict[str, Any], ma_s: dict[str, np.ndarray], mb_s: dict[str, np.ndarray]) -> None:
    """RewardBench 2: the unweighted mean of the six subsets, on the paired resamples."""
    used = {s: 1.0 for s in RB2_SUBSETS if s in out["subsets"]}
    if not used:
        return
    pa_ = sum(out["subsets"][s]["a"] for s in used) / len(used)
    pb_ = sum(out["subsets"][s]["b"] for s in used) / len(used)
    out["overall"]["rb2_mean_6_subsets"] = {
        "a": pa_, "b": pb_, "delta": pa_ - pb_,
        **_delta(weighted_samples(ma_s, used), weighted_samples(mb_s, used)),
        **_pooled(out["subsets"], used), "complete": len(used) == len(RB2_SUBSETS),
        "label": out["comparability"]["label"],
    }
