"""Review decisions: the file that carries them and the step that applies them.

`rbkit review pull` stores every decision it brings back in `BUILD_DIR/review/decisions.jsonl`
(one JSON object a line, sorted by subset and pair id), keyed by pair id plus the hash of the
pair's text as the reviewer saw it. `apply_decisions` turns decisions into row changes; both
pull (on the build folder in place) and `rbkit build --review-decisions` (as the last pipeline
step, `ReviewDecisionsStep`) use it, so a rebuild from sources reproduces the pulled folder.

Applying is idempotent: a row first goes back to its builder orientation and unreviewed
state, then gets the decision, so applying twice changes nothing. A decision whose hash no
longer matches the pair (the text changed upstream or in a builder) is not applied; the pair
stays unreviewed and the step reports it as stale.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbkit.core.files import atomic_write
from rbkit.curation.pipeline import BuildContext, StepResult, drop
from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.pairs import LABELS, content_sha256, original, swapped
from rbkit.curation.rows import DroppedRow, Review, TrioRow

DECISIONS_FILE = "decisions.jsonl"
STATUS_BY_LABEL = {"chosen": "accepted", "rejected": "edited", "tie": "rejected", "invalid": "rejected"}
STEP_NAME = "review"


@dataclass(frozen=True)
class Decision:
    """The resolved human decision on one pair (several reviewers' answers already combined)."""

    id: int
    subset: str
    content_sha256: str
    label: str  # chosen | rejected | tie | invalid
    reviewer: str  # usernames that gave the winning answer, comma-separated
    time: str  # ISO 8601 UTC of the latest of those answers
    comment: str | None = None
    votes: Mapping[str, str] = field(default_factory=dict)  # username -> label, every submitted answer
    # best-of-N: rejected answers (0-based) the reviewers marked actually correct; the row leaves
    rejected_correct: tuple[int, ...] = ()
    blind: bool = False  # answered without seeing which answer was labelled better

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"pair {self.id}: unknown review label {self.label!r}; expected one of {list(LABELS)}")

    @property
    def outcome(self) -> str:
        """The label, or "rejected_correct" when a rejected answer was marked correct (a drop)."""
        return "rejected_correct" if self.rejected_correct else self.label

    @property
    def status(self) -> str:
        return "rejected" if self.rejected_correct else STATUS_BY_LABEL[self.label]

    def review(self) -> Review:
        return Review(status=self.status, reviewer=self.reviewer, time=self.time, comment=self.comment)  # type: ignore[arg-type]

    def reason(self) -> str:
        """The drop reason recorded in dropped.jsonl: the reviewer's own words when given."""
        if self.rejected_correct:
            which = ", ".join(str(i + 1) for i in self.rejected_correct)
            many = "s" if len(self.rejected_correct) > 1 else ""
            why = self.comment or "the row has more than one correct answer"
            return f"review: rejected answer{many} {which} actually correct, by {self.reviewer}: {why}"
        why = self.comment or ("no clear preference" if self.label == "tie" else "invalid pair")
        return f"review: {self.label} by {self.reviewer}: {why}"

    def to_record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "id": self.id,
            "subset": self.subset,
            "content_sha256": self.content_sha256,
            "label": self.label,
            "status": self.status,
            "reviewer": self.reviewer,
            "time": self.time,
            "comment": self.comment,
            "votes": dict(sorted(self.votes.items())),
        }
        if self.rejected_correct:  # absent otherwise, so pair decisions keep their bytes
            rec["rejected_correct"] = list(self.rejected_correct)
        if self.blind:
            rec["blind"] = True
        return rec

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> Decision:
        return cls(
            id=int(rec["id"]),
            subset=str(rec["subset"]),
            content_sha256=str(rec["content_sha256"]),
            label=str(rec["label"]),
            reviewer=str(rec["reviewer"]),
            time=str(rec["time"]),
            comment=rec.get("comment"),
            votes=dict(rec.get("votes") or {}),
            rejected_correct=tuple(int(i) for i in rec.get("rejected_correct") or ()),
            blind=bool(rec.get("blind", False)),
        )


# --- the file --------------------------------------------------------------------------------


def decisions_path(location: Path) -> Path:
    """A decisions file, or the folder holding one (BUILD_DIR/review or BUILD_DIR itself)."""
    if location.is_dir():
        for candidate in (location / DECISIONS_FILE, location / "review" / DECISIONS_FILE):
            if candidate.is_file():
                return candidate
        return location / DECISIONS_FILE
    return location


def read_decisions(location: Path) -> dict[int, Decision]:
    path = decisions_path(location)
    if not path.is_file():
        raise ReviewError(f"{path}: no review decisions file (written by `rbkit review pull`)")
    decisions: dict[int, Decision] = {}
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                decision = Decision.from_record(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise ReviewError(f"{path}:{number}: not a review decision: {exc}") from exc
            if decision.id in decisions:
                raise ReviewError(f"{path}:{number} id: pair {decision.id} has two decisions")
            decisions[decision.id] = decision
    return decisions


def write_decisions(path: Path, decisions: Iterable[Decision]) -> None:
    """Write atomically, sorted, so the same decisions always give the same bytes."""
    ordered = sorted(decisions, key=lambda d: (d.subset, d.id))
    text = "".join(json.dumps(d.to_record(), sort_keys=True, ensure_ascii=False) + "\n" for d in ordered)
    atomic_write(path, text)


# --- applying --------------------------------------------------------------------------------


@dataclass
class Applied:
    kept: list[TrioRow]
    dropped: list[DroppedRow]
    stale: list[int]  # decisions not applied because the pair's text changed since review
    counts: dict[str, int]  # outcome (the label, or rejected_correct) -> rows decided that way


def decide(row: TrioRow, decision: Decision, position: int = 0) -> TrioRow | DroppedRow | None:
    """One row under one decision: the kept row, its drop record, or None when stale.

    A drop records the row's `position` in the subset so that a later pull can put it back
    exactly where it was if the decision changes.
    """
    base = original(row).with_review(Review())
    evidence = {"label": decision.label, "reviewer": decision.reviewer, "votes": dict(decision.votes), "position": position}
    if decision.rejected_correct:
        evidence["rejected_correct"] = list(decision.rejected_correct)
    if content_sha256(base) != decision.content_sha256:
        return None
    if decision.status == "accepted":
        return base.with_review(decision.review())
    if decision.status == "edited":
        if not isinstance(base.chosen, str):  # best-of-N lists: one chosen vs several rejected
            return drop(
                base.with_review(dataclasses.replace(decision.review(), status="rejected")),
                STEP_NAME,
                f"{decision.reason()} (best-of-N rows cannot be swapped)",
                evidence,
            )
        return swapped(base).with_review(decision.review())
    return drop(
        base.with_review(decision.review()),
        STEP_NAME,
        decision.reason(),
        evidence,
    )


def apply_decisions(rows: Iterable[TrioRow], decisions: Mapping[int, Decision]) -> Applied:
    """Apply decisions to rows (rows without one pass unchanged); pure and idempotent."""
    kept: list[TrioRow] = []
    dropped: list[DroppedRow] = []
    stale: list[int] = []
    counts: dict[str, int] = {}
    for position, row in enumerate(rows):
        decision = decisions.get(row.id)
        if decision is None or decision.subset != row.subset:
            kept.append(row)
            continue
        outcome = decide(row, decision, position)
        if outcome is None:
            stale.append(row.id)
            kept.append(row)
            continue
        counts[decision.outcome] = counts.get(decision.outcome, 0) + 1
        (dropped if isinstance(outcome, DroppedRow) else kept).append(outcome)
    return Applied(kept, dropped, stale, counts)


@dataclass(frozen=True)
class ReviewDecisionsStep:
    """Pipeline step for `rbkit build --review-decisions`: apply pulled decisions last.

    It runs after selection, so a rebuilt subset equals the folder `rbkit review pull` wrote.
    """

    decisions: Mapping[int, Decision]
    name: str = STEP_NAME

    @classmethod
    def from_path(cls, location: Path) -> ReviewDecisionsStep:
        return cls(read_decisions(location))

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        applied = apply_decisions(rows, self.decisions)
        report = {"decided": sum(applied.counts.values()), "by_label": dict(sorted(applied.counts.items()))}
        if applied.stale:
            report["stale"] = sorted(applied.stale)
        return StepResult(applied.kept, applied.dropped, report)
