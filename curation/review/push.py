"""`rbkit review push`: send a build's pairs to Argilla for human review.

One dataset per subset (created on first push, its guidelines refreshed on later ones), one
record per pair with the pair id as record id, so pushing again updates records in place and
keeps the answers already given. Two pushes of one build at once are safe: a workspace or
dataset the other push has just created is reused, and records, keyed by pair id, are upserted
rather than added twice. Pairs always go out in the builder's orientation (a swap
made by an earlier review is undone for display), so every answer refers to the same text.

With `blind`, the answers go out as "Answer A", "Answer B", ... in each row's seeded order
(`curation.review.layout.blind_order`), with nothing that tells which one the build labelled
better; the order of every row sent is recorded in the build folder first
(`curation.review.blind`), and a row keeps the order it was first shown in. Best-of-N rows show
every answer in its own field, with a question for rejected answers that are actually correct.

Which pairs go: `unreviewed` (default: no decision yet), `flagged` (automatic verification
points away from the label or conflicts) or `all`. With `--audit RESULTS...` only the pairs
that at least `threshold` of the evaluated models get wrong go, worst first, carrying their
wrong share as metadata so reviewers can sort by it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbkit.curation.build import BuildFolder
from rbkit.curation.review.blind import BlindEntry, read_blind, record_blind
from rbkit.curation.review.buildio import load, pick_subsets, subset_info
from rbkit.curation.review.connection import (
    ReviewError,
    ReviewTarget,
    check,
    one_line,
    quiet_sdk,
    require_role,
    sdk_client,
    sdk_errors,
)
from rbkit.curation.review.dataset import (
    PAIRS,
    AuditStat,
    SubsetInfo,
    check_compatible,
    guidelines,
    settings,
    to_record,
)
from rbkit.curation.review.layout import Layout, Slot, blind_order
from rbkit.curation.review.pairs import content_sha256, flagged, original
from rbkit.curation.review.rest import ArgillaReader
from rbkit.curation.rows import TrioRow

ONLY_CHOICES = ("unreviewed", "flagged", "all")
BATCH = 500
READY_WAIT = 60.0  # seconds to wait for a dataset another push is still creating


@dataclass
class PushReport:
    workspace: str
    pushed: dict[str, int] = field(default_factory=dict)  # subset -> records sent
    created: list[str] = field(default_factory=list)  # datasets created by this push
    skipped: dict[str, str] = field(default_factory=dict)  # subset -> why nothing was sent
    urls: dict[str, str] = field(default_factory=dict)  # subset -> annotation page
    # subset -> pairs left as they were: answered in Argilla, but their text has changed since,
    # so updating the record would attach the old answers to new text (pull reports them stale)
    conflicts: dict[str, list[int]] = field(default_factory=dict)


def select_rows(
    rows: Iterable[TrioRow],
    only: str,
    audit: Mapping[int, AuditStat] | None = None,
) -> list[TrioRow]:
    """The pairs to push, in builder orientation; audited pairs worst first."""
    if only not in ONLY_CHOICES:
        raise ReviewError(f"--only must be one of {', '.join(ONLY_CHOICES)}, got {only!r}")
    picked = []
    for row in rows:
        if only == "unreviewed" and row.provenance.review.status != "unreviewed":
            continue
        base = original(row)
        if only == "flagged" and not flagged(base):
            continue
        if audit is not None and row.id not in audit:
            continue
        picked.append(base)
    if audit is not None:
        position = {r.id: i for i, r in enumerate(picked)}
        picked.sort(key=lambda r: (-audit[r.id].wrong_share, position[r.id]))
    return picked


def push(
    build_dir: Path,
    target: ReviewTarget,
    *,
    subsets: Sequence[str] | None = None,
    only: str = "unreviewed",
    audit: Mapping[int, AuditStat] | None = None,
    min_submitted: int = 1,
    blind: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> PushReport:
    if min_submitted < 1:
        raise ReviewError(f"--min-submitted must be at least 1, got {min_submitted}")
    folder = load(build_dir)
    names = pick_subsets(folder, subsets)
    selected = {name: select_rows(folder.rows.get(name, []), only, audit) for name in names}
    layouts = {name: Layout.for_rows(rows, blind=blind) for name, rows in selected.items() if rows}

    identity = check(target)
    require_role(identity, target, ("owner", "admin"), "pushing datasets")
    report = PushReport(target.workspace)
    for name in names:
        if not selected[name]:
            report.skipped[name] = f"no pairs match --only {only}" + (" and --audit" if audit is not None else "")
    with quiet_sdk():
        _send(folder, {n: rows for n, rows in selected.items() if rows}, layouts, target, report, audit or {}, min_submitted, progress)
    return report


def blind_orders(folder: BuildFolder, subset: str, rows: Sequence[TrioRow]) -> list[BlindEntry]:
    """Each row's blind order: the one it was shown in before (same text), else a new one
    seeded by the build's seed and the row's id."""
    seed = int((folder.manifest.get("options") or {}).get("seed") or 0)
    known = read_blind(folder.path)
    entries = []
    for row in rows:
        content = content_sha256(row)
        before = known.get((subset, row.id))
        if before is not None and before.content_sha256 == content:
            entries.append(before)
        else:
            entries.append(BlindEntry(subset, row.id, content, seed, tuple(blind_order(row, seed))))
    return entries


def _send(
    folder: BuildFolder,
    selected: Mapping[str, list[TrioRow]],
    layouts: Mapping[str, Layout],
    target: ReviewTarget,
    report: PushReport,
    audit: Mapping[int, AuditStat],
    min_submitted: int,
    progress: Callable[[str], None],
) -> None:
    """Create or check each subset's dataset and log its records (SDK calls only)."""
    with sdk_errors(target, "connecting"):
        client = sdk_client(target)
    workspace = _workspace(client, target)
    reader = ArgillaReader(target)
    for name, rows in selected.items():
        info = subset_info(folder, name)
        where = f"dataset {name!r} in workspace {workspace.name!r}"
        with sdk_errors(target, where):
            layout = layouts[name]
            dataset, created = _dataset(client, reader, workspace.name, info, min_submitted, progress, layout=layout)
            if created:
                report.created.append(name)
            else:
                layout = check_compatible(dataset, name, workspace.name, layout)
                wanted = guidelines(info, layout)
                if dataset.settings.guidelines != wanted:
                    dataset.settings.guidelines = wanted
                    dataset.update()
                rows = _without_conflicts(rows, reader.records(str(dataset.id)), name, report)
            orders: dict[int, tuple[Slot, ...]] = {}
            if layout.blind and rows:  # recorded before any record shows it
                entries = blind_orders(folder, name, rows)
                record_blind(folder.path, entries)
                orders = {e.id: e.order for e in entries}
            records = [to_record(row, info, audit.get(row.id), layout=layout, order=orders.get(row.id)) for row in rows]
            for start in range(0, len(records), BATCH):
                progress(f"{name}: sending {start + 1}-{min(start + BATCH, len(records))} of {len(records)}")
                _log(dataset, records[start : start + BATCH])
        report.pushed[name] = len(records)
        report.urls[name] = f"{target.api_url}/dataset/{dataset.id}/annotation-mode"


def _dataset(
    client: Any,
    reader: ArgillaReader,
    workspace: str,
    info: SubsetInfo,
    min_submitted: int,
    progress: Callable[[str], None],
    *,
    layout: Layout = PAIRS,
    wait: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Any, bool]:
    """The subset's dataset and whether this push created it.

    Another push may create the same dataset at the same moment. Creating is therefore
    optimistic: a conflict means it exists now, and it is fetched and reused. A dataset still
    in draft (its creator is adding fields and questions) is waited for, at most `wait` seconds.
    """
    import argilla as rg
    from argilla._exceptions import ConflictError

    wait = READY_WAIT if wait is None else wait
    deadline = time.monotonic() + wait
    while True:
        dataset = client.datasets(info.name, workspace=workspace)
        if dataset is None:
            progress(f"creating dataset {info.name}")
            try:
                made = rg.Dataset(name=info.name, workspace=workspace, settings=settings(info, min_submitted, layout), client=client)
                return made.create(), True
            except ConflictError:  # another push created it between our look-up and our create
                progress(f"{info.name}: another push created it just now; reusing it")
        elif reader.dataset_status(str(dataset.id)) == "ready":
            return dataset, False
        if time.monotonic() >= deadline:
            raise ReviewError(
                f"dataset {info.name!r} in workspace {workspace!r} on {reader.target.api_url} is not ready "
                f"after {wait:.0f} s: another push is still creating it, or one was interrupted while "
                "creating it (then delete the draft dataset in Argilla and push again)"
            )
        sleep(0.5)


def _log(dataset: Any, chunk: list[Any], attempts: int = 4, sleep: Callable[[float], None] = time.sleep) -> None:
    """Upsert one batch of records (ids are pair ids, so repeating a batch adds nothing).

    Two pushes that insert the same new pair at once collide on the server's unique record
    id (HTTP 409/500); the retry finds the other push's record and updates it instead.
    """
    from argilla._exceptions import ConflictError, InternalServerError

    for attempt in range(attempts):
        try:
            dataset.records.log(chunk, batch_size=len(chunk))
            return
        except (ConflictError, InternalServerError):
            if attempt + 1 == attempts:
                raise
            sleep(0.5 * (attempt + 1))


def _without_conflicts(
    rows: list[TrioRow], existing: Iterable[Mapping[str, Any]], subset: str, report: PushReport
) -> list[TrioRow]:
    answered = {
        str(record.get("external_id")): str((record.get("metadata") or {}).get("content_sha256"))
        for record in existing
        if record.get("responses")
    }
    keep, conflicts = [], []
    for row in rows:
        seen = answered.get(str(row.id))
        if seen is not None and seen != content_sha256(row):
            conflicts.append(row.id)
        else:
            keep.append(row)
    if conflicts:
        report.conflicts[subset] = conflicts
    return keep


def _workspace(client: Any, target: ReviewTarget) -> Any:
    """The target workspace, created when missing; one that another push created at the same
    moment (our create then conflicts) is reused."""
    with sdk_errors(target, f"looking up workspace {target.workspace!r}"):
        workspace = client.workspaces(target.workspace)
    if workspace is not None:
        return workspace
    import argilla as rg

    try:
        return rg.Workspace(name=target.workspace, client=client).create()
    except Exception as exc:  # the SDK raises its own error types
        with sdk_errors(target, f"looking up workspace {target.workspace!r}"):
            workspace = client.workspaces(target.workspace)
        if workspace is not None:  # created by another push just now
            return workspace
        raise ReviewError(
            f"workspace {target.workspace!r} does not exist on {target.api_url} and could not be created "
            f"({one_line(exc)}); create it in Argilla or pass --workspace"
        ) from exc
