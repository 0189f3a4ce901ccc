"""The build pipeline for one subset: builder output, then a list of small steps.

Like datatrove, a pipeline is a list of steps. A `Step` takes the surviving rows and returns
the ones it keeps plus the ones it drops, each drop with a reason; nothing disappears
silently. Per-row filters are pure functions turned into steps by `row_filter`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rbkit.curation.errors import SourceRowError
from rbkit.curation.rows import DroppedRow, TrioRow, canonical_json


@dataclass
class BuildOptions:
    """User choices that change what a build does (all of them land in build.json)."""

    keep_going: bool = False  # malformed source rows go to dropped.jsonl instead of stopping
    skip_verify: bool = False  # skip verifiers that need external toolchains
    seed: int = 0  # base seed; per-subset seeds derive from it and the subset name
    target_size: int | None = None  # override the published size for seeded selection
    keep_all: bool = False  # keep every survivor, no selection
    jobs: int = 0  # parallel workers for verifiers (0 = number of cores)
    cache_dir: Path | None = None  # verification cache (default ~/.cache/rbkit/verify)
    review_dir: Path | None = None  # a folder with review decisions to apply (see curation.review)
    allow_sandbox_network: bool = False  # run code candidates even where no private network exists
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {
            "keep_going": self.keep_going,
            "skip_verify": self.skip_verify,
            "seed": self.seed,
            "target_size": self.target_size,
            "keep_all": self.keep_all,
            "allow_sandbox_network": self.allow_sandbox_network,
        }


@dataclass
class BuildContext:
    """What a builder and its steps may read: the subset's spec, options and a report to fill."""

    subset: str
    options: BuildOptions
    report: dict[str, Any] = field(default_factory=dict)  # per-subset facts for build.json
    progress: Callable[[str], None] = lambda message: None

    @property
    def seed(self) -> int:
        """A per-subset seed derived from stable names, never from time or process state."""
        digest = hashlib.sha256(f"{self.options.seed}:{self.subset}".encode()).digest()
        return int.from_bytes(digest[:4], "big")

    def bad_row(self, err: SourceRowError) -> DroppedRow:
        """Stop on a malformed source row, or with --keep-going record it as dropped."""
        if not self.options.keep_going:
            raise err
        return DroppedRow(
            subset=self.subset,
            step="source",
            reason=f"malformed source row: {err.reason}",
            location=err.location,
        )


@dataclass
class StepResult:
    kept: list[TrioRow]
    dropped: list[DroppedRow] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Step(Protocol):
    """One pipeline stage over a subset's surviving rows."""

    name: str

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult: ...


# --- per-row filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Keep:
    pass


@dataclass(frozen=True)
class Drop:
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


Decision = Keep | Drop
KEEP = Keep()

RowFilterFn = Callable[[TrioRow], Decision]


@dataclass(frozen=True)
class RowFilter:
    """A pure per-row decision wrapped as a step; kept rows record the filter's name."""

    name: str
    fn: RowFilterFn

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        kept: list[TrioRow] = []
        dropped: list[DroppedRow] = []
        for row in rows:
            decision = self.fn(row)
            if isinstance(decision, Keep):
                kept.append(row.with_filter(self.name))
            else:
                dropped.append(drop(row, f"filter:{self.name}", decision.reason, decision.evidence))
        return StepResult(kept, dropped)


def row_filter(name: str) -> Callable[[RowFilterFn], RowFilter]:
    """Decorator: `@row_filter("nonempty") def f(row) -> Keep | Drop`."""

    def wrap(fn: RowFilterFn) -> RowFilter:
        return RowFilter(name, fn)

    return wrap


def drop(row: TrioRow, step: str, reason: str, evidence: dict[str, Any] | None = None) -> DroppedRow:
    return DroppedRow(
        subset=row.subset,
        step=step,
        reason=reason,
        row=row.to_record(),
        evidence=canonical_json(evidence or {}),
    )


# --- seeded selection -----------------------------------------------------------------------


def selection_key(seed: int, row: TrioRow) -> str:
    return hashlib.sha256(f"{seed}:{row.provenance.row_key}".encode()).hexdigest()


@dataclass(frozen=True)
class SelectStep:
    """Take `size` rows by a seeded hash order; keep the rest in dropped.jsonl.

    The hash of (seed, upstream row key) orders candidates, so the choice is stable across
    rebuilds and adding one candidate upstream changes at most one pick. Output keeps the
    builder's (upstream) order.
    """

    size: int | None
    name: str = "select"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        size = ctx.options.target_size if ctx.options.target_size is not None else self.size
        if ctx.options.keep_all or size is None or len(rows) <= size:
            return StepResult(rows, report={"selected": len(rows), "pool": len(rows)})
        ranked = sorted(rows, key=lambda r: selection_key(ctx.seed, r))
        chosen = {r.id for r in ranked[:size]}
        kept = [r for r in rows if r.id in chosen]
        dropped = [
            drop(r, "select", f"not selected: {len(rows)} survivors, target size {size}", {"seed": ctx.seed})
            for r in rows
            if r.id not in chosen
        ]
        return StepResult(kept, dropped, {"selected": size, "pool": len(rows)})


# --- running ---------------------------------------------------------------------------------


@dataclass
class SubsetOutcome:
    subset: str
    rows: list[TrioRow]
    dropped: list[DroppedRow]
    report: dict[str, Any]
    seconds: dict[str, float]


def run_steps(
    subset: str,
    produced: Iterable[TrioRow | DroppedRow],
    steps: Sequence[Step],
    ctx: BuildContext,
    clock: Callable[[], float],
) -> SubsetOutcome:
    """Collect builder output, then apply each step in order, timing each stage."""
    seconds: dict[str, float] = {}
    t0 = clock()
    rows: list[TrioRow] = []
    dropped: list[DroppedRow] = []
    for item in produced:
        (dropped if isinstance(item, DroppedRow) else rows).append(item)
    seen: set[int] = set()
    for row in rows:
        if row.id in seen:
            raise ValueError(f"{subset}: duplicate id {row.id} (row key {row.provenance.row_key!r})")
        seen.add(row.id)
    seconds["build"] = clock() - t0
    ctx.report["candidates"] = len(rows) + sum(1 for d in dropped if d.step == "source")
    for step in steps:
        t = clock()
        ctx.progress(step.name)
        result = step(rows, ctx)
        rows = result.kept
        dropped.extend(result.dropped)
        if result.report:
            ctx.report.setdefault("steps", {})[step.name] = result.report
        seconds[step.name] = clock() - t
    return SubsetOutcome(subset, rows, dropped, ctx.report, seconds)


def json_dumps_line(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n"
