"""Published results beside yours: read the RewardBench results layout (v1 and v2) into entries.

A folder downloaded from allenai/reward-bench-results or reward-bench-2-results (or written by
`--export rewardbench`) holds `eval-set/<org>/<model>.json` (accuracy per subset) and, for most
models, `eval-set-scores/<org>/<model>.json` (per-pair results and scores); v1 adds `pref-sets/`
for the prior sets. Sections and overall are recomputed with rbkit's formulas from the subsets
the files hold, and the comparability block says which published subsets are missing, so a
model scored on part of the benchmark is marked partial instead of averaged as if complete.
CIs come from the per-pair results (same seeded bootstrap as `rbkit eval`); without them a
published number has no CI.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rbkit.eval.aggregate import RowScore, aggregate
from rbkit.eval.comparability import REFERENCES, assess, label_overall
from rbkit.eval.errors import DatasetError, ResultsError
from rbkit.eval.report_entry import Entry, PairRow
from rbkit.eval.rewardbench_export import (
    EVAL_SET,
    EVAL_SET_SCORES,
    METADATA_KEYS,
    PREF_SETS,
    PREF_SETS_SCORES,
)
from rbkit.eval.scoring import CONVENTIONS, overall_scores, rb2_overall, section_scores
from rbkit.eval.sections import PUBLISHED_COUNTS, RB2_SUBSETS, resolve

RESAMPLES, SEED = 1000, 0  # the defaults of `rbkit eval`, so a round trip gives the same CIs
DIRS = ((EVAL_SET, EVAL_SET_SCORES), (PREF_SETS, PREF_SETS_SCORES))


def is_rewardbench_path(path: Path) -> bool:
    if path.is_dir():
        return any((path / d).is_dir() for d, _ in DIRS)
    return path.suffix == ".json" and path.parent.parent.name in (EVAL_SET, PREF_SETS)


def read_rewardbench(path: Path) -> list[Entry]:
    """Every model under a results folder, or the one model of an `eval-set/<org>/<model>.json`."""
    if path.is_dir():
        root = path
        rels = sorted({f.relative_to(root / d) for d, _ in DIRS if (root / d).is_dir() for f in (root / d).glob("*/*.json")})
        if not rels:
            raise ResultsError(f"{path}: no <org>/<model>.json files under {EVAL_SET}/ or {PREF_SETS}/")
    else:
        root, rels = path.parent.parent.parent, [Path(path.parent.name) / path.name]
    return [read_model(root, rel) for rel in rels]


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: not readable as JSON ({exc})") from exc


def _metrics(path: Path) -> tuple[dict[str, float], dict[str, Any]]:
    rec = _load(path)
    if not isinstance(rec, dict):
        raise ResultsError(f"{path}: expected one JSON object of subset accuracies")
    meta = {k: rec[k] for k in METADATA_KEYS if k in rec}
    scores: dict[str, float] = {}
    for key, value in rec.items():
        if key in METADATA_KEYS or isinstance(value, str) or value is None:
            continue  # other descriptive fields (a revision, a note) are not subset scores
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ResultsError(f"{path}: field {key!r}: expected a subset accuracy (a number), got {value!r}")
        scores[key] = float(value)
    return scores, meta


def _column(rec: dict[str, Any], name: str, path: Path, n: int | None) -> list[Any]:
    col = rec.get(name)
    if not isinstance(col, list):
        raise ResultsError(f"{path}: field {name!r}: expected a list (one value per pair)")
    if n is not None and len(col) != n:
        raise ResultsError(f"{path}: field {name!r} has {len(col)} values, 'id' has {n}")
    return col


def _number(value: Any, path: Path, row: int, field: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ResultsError(f"{path}: row {row}, field {field!r}: expected a number, got {value!r}")
    return float(value)


def _rows(path: Path, best_of_n: bool) -> list[PairRow]:
    rec = _load(path)
    if not isinstance(rec, dict):
        raise ResultsError(f"{path}: expected one JSON object of columns (id, subset, results, ...)")
    ids = _column(rec, "id", path, None)
    n = len(ids)
    subsets, results = _column(rec, "subset", path, n), _column(rec, "results", path, n)
    out: list[PairRow] = []
    if best_of_n:
        scores_col, correct_col = _column(rec, "scores", path, n), _column(rec, "num_correct", path, n)
        for i in range(n):
            sc = scores_col[i]
            if not isinstance(sc, list) or not sc:
                raise ResultsError(f"{path}: row {i}, field 'scores': expected a list of scores")
            scores = tuple(_number(x, path, i, "scores") for x in sc)  # type: ignore[misc]
            k = correct_col[i]
            if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k < len(scores):
                raise ResultsError(f"{path}: row {i}, field 'num_correct': expected 1..{len(scores) - 1}, got {k!r}")
            top = max(scores)
            out.append(PairRow(str(subsets[i]), str(ids[i]), scores, k, _number(results[i], path, i, "results"),  # type: ignore[arg-type]
                               scores[0] == top and scores.count(top) > 1, None))
    else:
        cho, rej = _column(rec, "scores_chosen", path, n), _column(rec, "scores_rejected", path, n)
        for i in range(n):
            c = _number(cho[i], path, i, "scores_chosen", optional=True)
            r = _number(rej[i], path, i, "scores_rejected", optional=True)
            scores = (c, r) if c is not None and r is not None else ()
            out.append(PairRow(str(subsets[i]), str(ids[i]), scores, 1, _number(results[i], path, i, "results"),  # type: ignore[arg-type]
                               bool(scores) and c == r, None))
    return out


def read_model(root: Path, rel: Path) -> Entry:
    """One model: its metrics files and, where present, its per-pair scores files."""
    accuracy: dict[str, float] = {}
    meta: dict[str, Any] = {}
    found: list[tuple[Path, Path]] = []
    for metrics_dir, scores_dir in DIRS:
        f = root / metrics_dir / rel
        if f.is_file():
            acc, m = _metrics(f)
            accuracy.update(acc)
            meta = meta or m
            found.append((f, root / scores_dir / rel))
    if not found:
        raise ResultsError(f"{root}: no {EVAL_SET}/{rel} or {PREF_SETS}/{rel}")
    v2 = any(name in RB2_SUBSETS for name in accuracy)
    rows: list[PairRow] = []
    for _, scores_file in found:
        if scores_file.is_file():
            rows.extend(_rows(scores_file, v2))
    benchmark = "reward-bench-2" if v2 else "reward-bench"
    name = str(meta.get("model") or rel.with_suffix("").as_posix())
    entry = Entry(name, f"RewardBench results {'v2' if v2 else 'v1'}", str(found[0][0]), benchmark,
                  str(meta.get("model_type") or "unknown"), {}, rows)
    entry.results = _blocks(entry, accuracy)
    if meta.get("ref_model"):
        entry.results["ref_model"] = {"id": str(meta["ref_model"])}
    return entry


def _blocks(entry: Entry, accuracy: dict[str, float]) -> dict[str, Any]:
    """subsets/sections/overall/comparability from the per-pair rows where they cover every
    subset (so every number has a CI), else from the published accuracies (no CIs)."""
    benchmark, rows = entry.benchmark, entry.rows
    names = sorted(set(accuracy) | {r.subset for r in rows})
    info = resolve(names)
    counts = {n: sum(1 for r in rows if r.subset == n) for n in names}
    if rows and all(counts[n] for n in names):
        scored = [RowScore(r.id, r.subset, r.scores or (0.0, 0.0), r.n_chosen, r.correct, r.tie, False) for r in rows]
        try:
            blocks = aggregate(scored, info, best_of_n=benchmark == "reward-bench-2", resamples=RESAMPLES, seed=SEED)
        except DatasetError as exc:
            raise ResultsError(f"{entry.path}: {exc}") from exc
        for n, value in sorted(accuracy.items()):
            got = blocks["subsets"][n]["accuracy"]
            if got is not None and abs(got - value) > 1e-6:
                entry.notices.append(f"{n}: the metrics file says {value:.4f}, its per-pair results give {got:.4f}")
        for sub in blocks["subsets"].values():
            sub["truncated"] = None  # the original does not record truncation
    else:
        if rows:
            entry.notices.append("per-pair scores do not cover every subset: numbers without CIs")
        for n in names:
            counts[n] = counts[n] or REFERENCES[benchmark].counts.get(n, PUBLISHED_COUNTS.get(n, 0))
        blocks = {"benchmark": benchmark, "subsets": {
            n: {"section": info[n].section, "weight": info[n].weight, "section_origin": info[n].origin,
                "n": counts[n] or None, "correct": None, "ties": None, "truncated": None, "metric": "accuracy",
                "accuracy": accuracy.get(n), "ci95": None} for n in names}, "sections": {}, "overall": {}}
        if benchmark == "reward-bench-2":
            ov = rb2_overall(accuracy)
            blocks["overall"]["rb2_mean_6_subsets"] = {"value": ov.value, "ci95": None, "definition": ov.definition,
                                                       "weights": ov.used, "missing": ov.missing, "complete": ov.complete}
        else:
            secs = section_scores(accuracy, {n: max(c, 1) for n, c in counts.items()}, info)
            for s, sec in secs.items():
                blocks["sections"][s] = {"score": sec.score, "ci95": None, "weights": sec.weights, "missing": sec.missing,
                                         "reported_only": sec.reported_only, "complete": sec.complete}
            for conv, (key, ov) in zip(CONVENTIONS, overall_scores(secs).items(), strict=True):
                blocks["overall"][key] = {"value": ov.value, "ci95": None, "definition": conv.definition,
                                          "weights": ov.used, "missing": ov.missing, "complete": ov.complete}
    present = {n: c for n, c in counts.items() if blocks["subsets"][n]["accuracy"] is not None}
    comparability = assess(benchmark, present, {}, provenance="published split")
    label_overall(comparability, benchmark, blocks["overall"], blocks["sections"])
    blocks["comparability"] = comparability
    return blocks
