"""`rbkit report RESULT --export rewardbench DIR`: a result in the RewardBench results layout.

The original evaluator saves two JSON files per model (`rewardbench.utils.save_to_hub`,
`json.dumps(..., indent=4, sort_keys=True)`), the layout of the allenai/reward-bench-results
and reward-bench-2-results datasets, which its leaderboard and analysis scripts read:

    eval-set/<org>/<model>.json          {"model", "model_type", "chat_template", <subset>: accuracy, ...}
    eval-set-scores/<org>/<model>.json   columns as lists: v1 id, subset, results, scores_chosen,
                                         scores_rejected; v2 id, subset, results, scores, num_correct
    pref-sets/... and pref-sets-scores/...  (v1) the same for the prior sets

rbkit keeps no rendered text, so the scores files carry no `text_*` columns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rbkit.core.files import atomic_write
from rbkit.eval.errors import ResultsError
from rbkit.eval.report_entry import Entry
from rbkit.eval.sections import PRIOR_SETS

EVAL_SET, EVAL_SET_SCORES = "eval-set", "eval-set-scores"
PREF_SETS, PREF_SETS_SCORES = "pref-sets", "pref-sets-scores"
METADATA_KEYS = ("model", "model_type", "chat_template", "ref_model", "model_beaker")
LOCAL_ORG = "local"  # a model id without an org (a local folder) is filed under this one


def model_type(entry: Entry) -> str:
    """The original's model_type names for rbkit's kinds."""
    if entry.kind == "dpo":
        return "DPO" if entry.results.get("ref_model") else "DPO Ref. Free"
    if entry.kind == "judge":
        return "Generative RM"
    if entry.kind == "classifier":
        return "Seq. Classifier"
    return entry.kind


def relative_path(model: str) -> Path:
    """<org>/<model>.json for a model id; ids without an org go under `local/`."""
    parts = [p for p in model.strip("/").split("/") if p not in ("", ".", "..")]
    if not parts:
        raise ResultsError(f"model id {model!r} gives no file name")
    org, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (LOCAL_ORG, parts[-1])
    return Path(org) / f"{name}.json"


def _id(value: str) -> str | int:
    """Published ids are integers for the pairwise sets; keep an id that is one as one."""
    return int(value) if value.isdigit() and str(int(value)) == value else value


def _result(credit: float) -> int | float:
    """1/0 as the original writes them; a fractional credit (a best-of-N tie, --ties half) as is."""
    return int(credit) if float(credit).is_integer() else credit


def _dump(path: Path, record: dict[str, Any]) -> None:
    try:
        text = json.dumps(record, indent=4, sort_keys=True, allow_nan=False)
    except ValueError as exc:
        raise ResultsError(f"{path}: a score is not a finite number ({exc})") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)


def export_rewardbench(entry: Entry, out: Path) -> list[Path]:
    """Write one result into `out` in the original's layout; returns the files written."""
    if entry.origin != "rbkit":
        raise ResultsError(f"{entry.path}: only rbkit results are exported (this one came from {entry.origin})")
    res = entry.results
    meta: dict[str, Any] = {"model": entry.name, "model_type": model_type(entry),
                            "chat_template": res.get("rendering", {}).get("template", "tokenizer")}
    if res.get("ref_model"):
        meta["ref_model"] = res["ref_model"]["id"]
    groups: dict[tuple[str, str], list[str]] = {}
    for name, sub in sorted(res["subsets"].items()):
        if sub["accuracy"] is None:
            continue  # an empty subset has no score; the original writes none either
        prior = entry.benchmark == "reward-bench" and sub["section"] == PRIOR_SETS
        groups.setdefault((PREF_SETS, PREF_SETS_SCORES) if prior else (EVAL_SET, EVAL_SET_SCORES), []).append(name)
    rel = relative_path(entry.name)
    written: list[Path] = []
    for (metrics_dir, scores_dir), names in sorted(groups.items()):
        metrics = {**meta, **{n: res["subsets"][n]["accuracy"] for n in names}}
        _dump(out / metrics_dir / rel, metrics)
        written.append(out / metrics_dir / rel)
        rows = [r for r in entry.rows if r.subset in names]
        scores: dict[str, Any] = {**meta, "id": [_id(r.id) for r in rows], "subset": [r.subset for r in rows],
                                  "results": [_result(r.correct) for r in rows]}
        if entry.benchmark == "reward-bench-2":
            scores["scores"] = [list(r.scores) for r in rows]
            scores["num_correct"] = [r.n_chosen for r in rows]
        else:
            scores["scores_chosen"] = [r.scores[0] if r.scores else None for r in rows]
            scores["scores_rejected"] = [r.scores[1] if r.scores else None for r in rows]
        _dump(out / scores_dir / rel, scores)
        written.append(out / scores_dir / rel)
    return written
