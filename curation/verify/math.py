"""The math-answer verifier step: chosen must reach the reference answer, rejected must not.

Each row carries its reference answer in `provenance.extra[reference_field]`. The step
extracts both sides' final answers (`math_extract`), compares each with the reference in a
killable worker (`math_worker`), records `Verification("math:answer", side, verdict, detail)`
on kept rows and drops every other row with the extracted answers as evidence. A pair is kept
only on positive evidence both ways: a timeout or an unreadable answer drops it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from rbkit.curation.pipeline import BuildContext, StepResult, drop
from rbkit.curation.rows import DroppedRow, TrioRow, Verification, canonical_json
from rbkit.curation.verify.math_extract import Extracted, extract_answer
from rbkit.curation.verify.math_outcome import Outcome
from rbkit.curation.verify.math_worker import DEFAULT_TIMEOUT_S, EquivalenceWorker

VERIFIER = "math:answer"
STEP_NAME = "verify:math"


@dataclass(frozen=True)
class SideResult:
    """One side's extracted answer and its comparison with the reference."""

    side: str  # chosen | rejected
    extracted: Extracted | None
    outcome: Outcome | None

    def to_record(self) -> dict[str, Any]:
        return {
            "extracted": self.extracted.answer if self.extracted else None,
            "extraction": self.extracted.method if self.extracted else "none",
            "comparison": self.outcome.to_record() if self.outcome else None,
        }


def check_side(side: str, text: str, reference: str, worker: EquivalenceWorker) -> SideResult:
    extracted = extract_answer(text)
    if extracted is None:
        return SideResult(side, None, None)
    return SideResult(side, extracted, worker.compare(extracted.answer, reference))


def judge(chosen: SideResult, rejected: SideResult) -> str | None:
    """The reason to drop the pair, or None when both sides are verified."""
    for result, wanted in ((chosen, "equal"), (rejected, "unequal")):
        if result.extracted is None:
            return f"{result.side}: no final answer found"
        assert result.outcome is not None
        verdict = result.outcome.verdict
        if verdict in ("timeout", "error"):
            return f"{result.side}: comparison {verdict}"
        if verdict != wanted:
            what = "differs from" if wanted == "equal" else "equals"
            return f"{result.side} answer {what} the reference"
    return None


@dataclass(frozen=True)
class VerifyMathAnswers:
    """Pipeline step; see the module docstring. Pure Python, so `--skip-verify` does not skip it."""

    name: str = STEP_NAME
    reference_field: str = "reference_answer"
    timeout_s: float = DEFAULT_TIMEOUT_S

    def reference(self, row: TrioRow) -> str:
        extra = row.provenance.extra_dict()
        value = extra.get(self.reference_field)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(
                f"{row.subset} row {row.provenance.row_key}: provenance.extra has no "
                f"'{self.reference_field}' string for {self.name}"
            )
        return value

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        kept: list[TrioRow] = []
        dropped: list[DroppedRow] = []
        reasons: Counter[str] = Counter()
        methods: Counter[str] = Counter()
        with EquivalenceWorker(timeout_s=self.timeout_s) as worker:
            for i, row in enumerate(rows):
                if i % 50 == 0:
                    ctx.progress(f"{self.name} {i}/{len(rows)}")
                reference = self.reference(row)
                if not isinstance(row.chosen, str) or not isinstance(row.rejected, str):
                    raise ValueError(
                        f"{row.subset} row {row.provenance.row_key}: {self.name} needs pairwise rows"
                    )
                chosen = check_side("chosen", row.chosen, reference, worker)
                rejected = check_side("rejected", row.rejected, reference, worker)
                for result in (chosen, rejected):
                    if result.outcome is not None:
                        methods[f"{result.side}:{result.outcome.method}"] += 1
                reason = judge(chosen, rejected)
                evidence = {
                    "reference": reference,
                    "chosen": chosen.to_record(),
                    "rejected": rejected.to_record(),
                }
                if reason is not None:
                    reasons[reason] += 1
                    dropped.append(drop(row, self.name, reason, evidence))
                    continue
                kept.append(
                    row.with_verification(
                        *(
                            Verification(
                                VERIFIER,
                                result.side,  # type: ignore[arg-type]
                                result.outcome.verdict,  # type: ignore[union-attr]
                                canonical_json({"reference": reference, **result.to_record()}),
                            )
                            for result in (chosen, rejected)
                        )
                    )
                )
            restarts = worker.restarts
        report = {
            "checked": len(rows),
            "kept": len(kept),
            "dropped": dict(sorted(reasons.items())),
            "methods": dict(sorted(methods.items())),
            "worker_restarts": restarts,
            "timeout_s": self.timeout_s,
        }
        return StepResult(kept, dropped, report)
