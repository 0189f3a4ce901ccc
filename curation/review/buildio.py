"""Reading a build folder for review and rewriting it with review decisions applied.

The folder layout and its writer belong to `curation.build`; this module only adapts them:
it reads rows and subset facts, and after a pull rewrites the parquet files, dropped.jsonl,
build.json (everything in it that derives from rows, by the build's own functions) and the card
in one atomic folder swap (timings.json is carried over).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rbkit.curation.build import (
    BuildFolder,
    BuildResult,
    build_totals,
    finalize_hooks,
    read_build,
    subset_counts,
    write_build,
)
from rbkit.curation.gates import GateConfig, GateFailedError
from rbkit.curation.pipeline import SubsetOutcome
from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.dataset import SubsetInfo
from rbkit.curation.rows import DroppedRow, TrioRow

REVIEW_DIR = "review"


def load(build_dir: Path) -> BuildFolder:
    try:
        return read_build(build_dir)
    except FileNotFoundError as exc:
        raise ReviewError(str(exc)) from exc


def subset_info(folder: BuildFolder, name: str) -> SubsetInfo:
    facts = folder.manifest.get("subsets", {}).get(name, {})
    return SubsetInfo(name, str(facts.get("section") or ""), str(facts.get("verification") or "none"))


def pick_subsets(folder: BuildFolder, wanted: Sequence[str] | None) -> list[str]:
    """The named subsets (all of the folder's when none are named), checked to exist."""
    available = folder.subsets
    if not wanted:
        return available
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ReviewError(
            f"{folder.path}: no subset {', '.join(map(repr, unknown))} in this build; "
            f"it has {', '.join(available) or 'none'}"
        )
    return list(dict.fromkeys(wanted))


def _record(item: DroppedRow | Mapping[str, Any]) -> dict[str, Any]:
    return item.to_record() if isinstance(item, DroppedRow) else dict(item)


def updated_manifest(
    manifest: Mapping[str, Any],
    rows: Mapping[str, Sequence[TrioRow]],
    dropped: Sequence[Mapping[str, Any]],
    review_reports: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """build.json after review changes, re-derived from the rows by the build's own functions:
    per-subset counts, totals, and the finalize hooks (rulers and gate under the gate the build
    recorded, cross-subset duplicates). So the pulled folder equals a rebuild with
    `--review-decisions`; only facts that do not come from rows (sources, options) are kept."""
    out = copy.deepcopy(dict(manifest))
    by_subset: dict[str, list[Mapping[str, Any]]] = {}
    for rec in dropped:
        by_subset.setdefault(rec.get("subset", ""), []).append(rec)
    subsets = out.get("subsets", {})
    for name, facts in subsets.items():
        facts.update(subset_counts(rows.get(name, ()), by_subset.get(name, ())))
        if name in review_reports:
            facts.setdefault("report", {}).setdefault("steps", {})["review"] = dict(review_reports[name])
    sections = {name: str(facts.get("section") or "") for name, facts in subsets.items()}
    out["totals"] = build_totals({name: rows.get(name, []) for name in subsets}, len(dropped), sections)
    outcomes = [SubsetOutcome(name, list(rows.get(name, [])), [], {}, {}) for name in sorted(subsets)]
    result = BuildResult(Path(), outcomes, {}, [], out, {})
    try:
        for hook in finalize_hooks(GateConfig.from_record(out.get("gate"))):
            hook(result)
    except GateFailedError as exc:
        raise ReviewError(
            "the reviewed rows fail the gate this build was made with; the decisions are saved in "
            f"review/decisions.jsonl and the rest of the build folder was left as it was.\n{exc}"
        ) from exc
    return result.manifest


def rewrite(
    folder: BuildFolder,
    rows: Mapping[str, list[TrioRow]],
    dropped: Sequence[DroppedRow | Mapping[str, Any]],
    manifest: Mapping[str, Any],
) -> None:
    """Swap in a new build folder with these rows, drops and build.json (from
    `updated_manifest`); the card is rendered from them, `review/` and timings.json carry over."""
    records = [_record(d) for d in dropped]
    timings_path = folder.path / "timings.json"
    timings = json.loads(timings_path.read_text(encoding="utf-8")) if timings_path.is_file() else None
    sections = {name: str(facts.get("section") or "") for name, facts in manifest.get("subsets", {}).items()}
    write_build(folder.path, dict(rows), records, dict(manifest), timings, sections)
