"""Reading a build folder for review and rewriting it with review decisions applied.

The folder layout and its writer belong to `curation.build`; this module only adapts them:
it reads rows and subset facts, and after a pull rewrites the parquet files, dropped.jsonl
and the counts in build.json in one atomic folder swap (timings.json is carried over).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rbkit.curation.build import BuildFolder, read_build, write_build
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
    """build.json with per-subset and total counts recomputed after review changes."""
    out = copy.deepcopy(dict(manifest))
    by_subset: dict[str, list[Mapping[str, Any]]] = {}
    for rec in dropped:
        by_subset.setdefault(rec.get("subset", ""), []).append(rec)
    sections = {}
    for name, facts in out.get("subsets", {}).items():
        recs = by_subset.get(name, [])
        by_step = Counter(r.get("step") for r in recs)
        by_reason = Counter(f"{r.get('step')}: {r.get('reason')}" for r in recs)
        facts["built"] = len(rows.get(name, ()))
        facts["dropped"] = sum(by_step.values())
        facts["dropped_by_step"] = dict(sorted(by_step.items()))
        facts["dropped_by_reason"] = dict(sorted(by_reason.items()))
        if name in review_reports:
            facts.setdefault("report", {}).setdefault("steps", {})["review"] = dict(review_reports[name])
        sections[name] = facts.get("section")
    if "totals" in out:
        out["totals"]["built"] = sum(len(v) for v in rows.values())
        out["totals"]["dropped"] = len(dropped)
        if "filtered" in out["totals"]:
            out["totals"]["filtered"] = sum(len(v) for k, v in rows.items() if sections.get(k) != "Prior Sets")
    return out


def rewrite(
    folder: BuildFolder,
    rows: Mapping[str, list[TrioRow]],
    dropped: Sequence[DroppedRow | Mapping[str, Any]],
    review_reports: Mapping[str, Mapping[str, Any]],
) -> None:
    """Swap in a new build folder with these rows and drops; `review/` is carried over."""
    records = [_record(d) for d in dropped]
    manifest = updated_manifest(folder.manifest, rows, records, review_reports)
    timings_path = folder.path / "timings.json"
    timings = json.loads(timings_path.read_text(encoding="utf-8")) if timings_path.is_file() else None
    sections = {name: str(facts.get("section") or "") for name, facts in manifest.get("subsets", {}).items()}
    write_build(folder.path, dict(rows), records, manifest, timings, sections)
