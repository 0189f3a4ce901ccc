"""`rbkit review pull`: bring reviewers' answers back into the build folder.

Steps, all reads before any write (a server that fails midway leaves nothing half-written):
1. read every record with its responses from each subset's dataset (REST API, which keeps the
   answers' timestamps the SDK drops);
2. map each answer to the row's sides (a blind "B is better" through the order recorded in
   review/blind.jsonl; best-of-N rejected answers marked actually correct), resolve each pair's
   submitted answers into one `Decision` (majority; a tie between labels is "disputed" and
   decides nothing), measure agreement where several reviewers answered and, for blind
   decisions, how often the pick was the labelled answer;
3. merge them into `review/decisions.jsonl` (answers in Argilla supersede earlier decisions
   for the same pair; decisions for pairs no longer in Argilla are kept);
4. rebuild each subset from its current rows plus the rows earlier pulls dropped (put back at
   their recorded positions), apply all decisions, re-derive build.json from the new rows with
   the build's own functions (counts, rulers and gate, cross-subset duplicates; the card follows
   from it), and swap the folder in atomically.

Because step 4 always starts from the full candidate list and applying is idempotent, pulling
twice gives the same bytes, a changed mind restores a dropped pair, and no row is ever lost;
the pulled folder equals `rbkit build --review-decisions` of the same sources, byte for byte
(all but timings.json).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rbkit.curation.build import BuildFolder
from rbkit.curation.folder_swap import writing
from rbkit.curation.review.agreement import agreement, label_agreement
from rbkit.curation.review.blind import BlindEntry, read_blind
from rbkit.curation.review.buildio import REVIEW_DIR, load, pick_subsets, rewrite, updated_manifest
from rbkit.curation.review.connection import ReviewTarget, check, require_role
from rbkit.curation.review.decisions import (
    DECISIONS_FILE,
    STEP_NAME,
    Applied,
    Decision,
    apply_decisions,
    read_decisions,
    write_decisions,
)
from rbkit.curation.review.layout import (
    COMMENT_QUESTION,
    CORRECT_QUESTION,
    LABEL_QUESTION,
    Slot,
    verdict,
)
from rbkit.curation.review.pairs import original
from rbkit.curation.review.rest import ArgillaReader
from rbkit.curation.rows import Review, TrioRow
from rbkit.curation.trio_io import write_text

AGREEMENT_FILE = "agreement.json"


@dataclass(frozen=True)
class Answer:
    """One reviewer's submitted answer to one pair."""

    username: str
    label: str  # in the row's terms (a blind "B" already mapped to chosen or rejected)
    comment: str | None
    time: str  # ISO 8601 UTC
    rejected_correct: tuple[int, ...] = ()  # best-of-N: rejected answers marked actually correct


@dataclass
class SubsetPull:
    dataset: bool = False  # a dataset for the subset exists in the workspace
    records: int = 0
    answered: int = 0  # pairs with at least one submitted answer
    decided: Counter[str] = field(default_factory=Counter)
    disputed: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)  # records whose id is no pair of this build
    # blind records answered whose order is not in review/blind.jsonl, or was for other text
    unmapped: list[int] = field(default_factory=list)
    blind: int = 0  # answered records that were shown blind
    drafts: int = 0
    discarded: int = 0
    rows: int = 0
    accepted: int = 0
    swapped: int = 0
    dropped_by_review: int = 0


@dataclass
class PullReport:
    build_dir: Path
    subsets: dict[str, SubsetPull]
    agreement: dict[str, Any]
    decisions: int
    changed: bool


# --- reading Argilla -------------------------------------------------------------------------


def _utc(stamp: str) -> str:
    """Argilla's naive UTC timestamps as ISO 8601 with an explicit zone, to the second."""
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_blind(record: Mapping[str, Any]) -> bool:
    """A record pushed with --blind shows lettered answers instead of chosen/rejected."""
    return any(name.startswith("answer_") for name in record.get("fields") or {})


def answers_of(
    record: Mapping[str, Any], names: Mapping[str, str], tally: SubsetPull, order: Sequence[Slot] | None = None
) -> list[Answer]:
    """Submitted answers in the row's terms; `order` is the blind order the record showed."""
    answers = []
    for response in record.get("responses") or []:
        status = response.get("status")
        if status != "submitted":
            tally.drafts += status == "draft"
            tally.discarded += status == "discarded"
            continue
        values = response.get("values") or {}
        label = (values.get(LABEL_QUESTION) or {}).get("value")
        ticked = (values.get(CORRECT_QUESTION) or {}).get("value") or []
        mapped = verdict(label, [str(t) for t in ticked], order) if isinstance(label, str) else None
        if mapped is None:
            continue
        comment = (values.get(COMMENT_QUESTION) or {}).get("value") or None
        user = str(response["user_id"])
        answers.append(
            Answer(names.get(user, user), mapped.label, comment.strip() if comment else None, _utc(response["updated_at"]), mapped.rejected_correct)
        )
    return answers


def resolve(pair_id: int, subset: str, content: str, answers: Sequence[Answer], *, blind: bool = False) -> Decision | None:
    """Majority of submitted answers; None when the top labels tie (disputed).

    A rejected answer that any of the winning answers marks actually correct counts: one
    reviewer's doubt about a best-of-N row is enough to keep it out of a benchmark.
    """
    votes = Counter(a.label for a in answers)
    ranked = votes.most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    label = ranked[0][0]
    winners = sorted((a for a in answers if a.label == label), key=lambda a: a.username)
    comments = [(a.username, a.comment) for a in winners if a.comment]
    if len(comments) == 1:
        comment = comments[0][1]
    else:
        comment = "; ".join(f"{user}: {text}" for user, text in comments) or None
    return Decision(
        id=pair_id,
        subset=subset,
        content_sha256=content,
        label=label,
        reviewer=",".join(a.username for a in winners),
        time=max(a.time for a in winners),
        comment=comment,
        votes={a.username: a.label for a in answers},
        rejected_correct=tuple(sorted({i for a in winners for i in a.rejected_correct})),
        blind=blind,
    )


# --- applying to the folder ------------------------------------------------------------------


def restore_candidates(folder: BuildFolder, subset: str) -> list[TrioRow]:
    """The subset's rows before any review drop: current rows plus review-dropped ones
    re-inserted at their recorded positions, all back in builder orientation, unreviewed."""
    rows = list(folder.rows.get(subset, []))
    returning = []
    for rec in folder.dropped:
        if rec.get("subset") == subset and rec.get("step") == STEP_NAME and rec.get("row"):
            position = int((rec.get("evidence") or {}).get("position", len(rows) + len(returning)))
            returning.append((position, TrioRow.from_record(rec["row"])))
    for position, row in sorted(returning, key=lambda pr: pr[0]):
        rows.insert(min(position, len(rows)), row)
    return [original(r).with_review(Review()) for r in rows]


def merged_dropped(folder: BuildFolder, new: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """dropped.jsonl with each subset's review drops replaced, after that subset's other drops."""
    others: dict[str, list[dict[str, Any]]] = {}
    for rec in folder.dropped:
        if rec.get("subset") in new and rec.get("step") == STEP_NAME:
            continue
        others.setdefault(rec.get("subset", ""), []).append(rec)
    order = list(others) + [s for s in new if s not in others]
    return [rec for subset in order for rec in [*others.get(subset, []), *new.get(subset, [])]]


@dataclass
class Reapplied:
    """A folder's rows and drops with decisions applied to some subsets, ready for `rewrite`."""

    rows: dict[str, list[TrioRow]]
    dropped: list[dict[str, Any]]
    reports: dict[str, dict[str, Any]]  # subset -> the review step's report for build.json
    applied: dict[str, Applied]


def reapply(folder: BuildFolder, names: Sequence[str], decisions: Mapping[int, Decision]) -> Reapplied:
    """Every decision applied to the named subsets, each from its full candidate list (so a
    changed mind restores a dropped pair); the same report the build's review step gives."""
    rows = dict(folder.rows)
    drops: dict[str, list[dict[str, Any]]] = {}
    reports: dict[str, dict[str, Any]] = {}
    applied_by_name: dict[str, Applied] = {}
    for name in names:
        applied = applied_by_name[name] = apply_decisions(restore_candidates(folder, name), decisions)
        rows[name] = applied.kept
        drops[name] = [d.to_record() for d in applied.dropped]
        reports[name] = {"decided": sum(applied.counts.values()), "by_label": dict(sorted(applied.counts.items()))}
        if applied.stale:
            reports[name]["stale"] = sorted(applied.stale)
    return Reapplied(rows, merged_dropped(folder, drops), reports, applied_by_name)


# --- the command -----------------------------------------------------------------------------


def pull(
    build_dir: Path,
    target: ReviewTarget,
    *,
    subsets: Sequence[str] | None = None,
    reader: ArgillaReader | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> PullReport:
    folder = load(build_dir)
    names = pick_subsets(folder, subsets)
    identity = check(target)
    require_role(identity, target, ("owner", "admin"), "pulling review answers")
    reader = reader or ArgillaReader(target)

    review_dir = folder.path / REVIEW_DIR
    decisions_file = review_dir / DECISIONS_FILE
    decisions = read_decisions(decisions_file) if decisions_file.is_file() else {}
    before = dict(decisions)

    orders = read_blind(folder.path)
    workspace_id = reader.workspace_id(target.workspace)
    datasets = reader.datasets(workspace_id) if workspace_id else {}
    usernames = reader.usernames()
    tallies: dict[str, SubsetPull] = {}
    votes: dict[tuple[str, int], dict[str, str]] = {}
    for name in names:
        tally = tallies[name] = SubsetPull()
        if name not in datasets:
            continue
        tally.dataset = True
        progress(f"reading {name}")
        known = {r.id for r in folder.rows.get(name, [])} | {
            int(rec["row"]["id"]) for rec in folder.dropped if rec.get("subset") == name and rec.get("step") == STEP_NAME and rec.get("row")
        }
        for record in reader.records(datasets[name]):
            tally.records += 1
            try:
                pair_id = int(record.get("external_id") or "")
            except ValueError:
                tally.unknown.append(-1)
                continue
            if pair_id not in known:
                tally.unknown.append(pair_id)
                continue
            content = str((record.get("metadata") or {}).get("content_sha256") or "")
            blind = is_blind(record)
            entry: BlindEntry | None = orders.get((name, pair_id)) if blind else None
            if blind and (entry is None or entry.content_sha256 != content):
                if record.get("responses"):
                    tally.unmapped.append(pair_id)
                continue
            answers = answers_of(record, usernames, tally, entry.order if entry else None)
            if not answers:
                continue
            tally.answered += 1
            tally.blind += blind
            if len(answers) >= 2:
                votes[(name, pair_id)] = {a.username: a.label for a in answers}
            decision = resolve(pair_id, name, content, answers, blind=blind)
            if decision is None:
                tally.disputed.append(pair_id)
                decisions.pop(pair_id, None)
            else:
                decisions[pair_id] = decision

    # Apply every decision to every pulled subset, from the full candidate list.
    redone = reapply(folder, names, decisions)
    for name in names:
        tally, applied = tallies[name], redone.applied[name]
        tally.decided = Counter(applied.counts)
        tally.stale = sorted(applied.stale)
        tally.rows = len(applied.kept)
        tally.accepted = sum(r.provenance.review.status == "accepted" for r in applied.kept)
        tally.swapped = sum(r.provenance.review.status == "edited" for r in applied.kept)
        tally.dropped_by_review = len(applied.dropped)
    new_rows, dropped, reports = redone.rows, redone.dropped, redone.reports
    summary = agreement({f"{s}/{i}": v for (s, i), v in sorted(votes.items())})
    blind_decisions = sorted((d.subset, d.id, d.label) for d in decisions.values() if d.blind and d.subset in tallies)
    if blind_decisions:  # only then: a labelled review's agreement with the label is anchored
        summary["with_label"] = label_agreement((subset, label) for subset, _, label in blind_decisions)

    with writing(decisions_file):  # a full disk or read-only folder: one line naming the file
        write_decisions(decisions_file, decisions.values())
    with writing(review_dir / AGREEMENT_FILE):
        write_text(review_dir / AGREEMENT_FILE, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    manifest = updated_manifest(folder.manifest, new_rows, dropped, reports)  # rulers, counts, dedup
    changed = (
        decisions != before
        or any([r.to_record() for r in new_rows[n]] != [r.to_record() for r in folder.rows.get(n, [])] for n in names)
        or dropped != folder.dropped
        or manifest != folder.manifest
    )
    if changed:
        progress("rewriting the build folder")
        rewrite(folder, new_rows, dropped, manifest)
    return PullReport(folder.path, tallies, summary, len(decisions), changed)
