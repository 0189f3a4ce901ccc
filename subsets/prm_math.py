"""math-prm (Reasoning): MATH reference solutions against wrong GPT-4 solutions from PRM800K.

RewardBench pairs the human reference solution of a MATH test problem (chosen) with a GPT-4
solution from PRM800K's phase-2 test labels in which a labeler found an error (rejected),
"filtering for examples only where the model generated an error". rbkit makes that rule
checkable:

1. builder: every phase-2 test generation whose problem is one of PRM800K's 500 MATH test
   problems becomes a candidate (prompt = problem, chosen = MATH `solution`, rejected = the
   generation's steps joined by newlines); the MATH `answer` is the reference;
2. `found-error`: the labeler stopped at an error (`label.finish_reason == "found_error"`);
3. `verify:math`: the chosen solution's boxed answer equals the reference and the
   generation's `# Answer` does not (curation.verify.math), so no pair is "doubly correct";
4. `one-per-problem`: identical generations collapse to one, then one generation per problem
   is picked by a hash of the build seed and its row key;
5. `select`: 447 pairs, the published size.

`phase2_test.jsonl` lives in Git LFS upstream and is not in the local mirror; without it the
build stops with the file's URL and sha256 (`curation.sources.resolve`) and builds nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import (
    KEEP,
    BuildContext,
    Decision,
    Drop,
    SelectStep,
    StepResult,
    drop,
    row_filter,
)
from rbkit.curation.readers import jsonl_rows, text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve
from rbkit.curation.verify.math import VerifyMathAnswers

SUBSET = "math-prm"
BUILDER = "subsets.prm_math"
BUILDER_VERSION = "1"
REPO = "openai/prm800k"
# The commit at which the index of public GitHub files shows both LFS pointers below
# (phase2_test.jsonl: oid 6b172efa..., 12240719 bytes; math_splits/test.jsonl: oid 35dc4108...,
# 446564 bytes, whose bytes the local mirror holds). The repository's only later commit
# (7ecc7947, README citation) does not touch the data.
REVISION = "00811d6de065642a6967b9017d4cee59550c0ef4"
CITATION = "lightman2023verify"  # PRM800K ("Let's Verify Step by Step")
MATH_CITATION = "hendrycks2021math"  # the problems and reference solutions are MATH's
PUBLISHED_SIZE = 447
CHOSEN_MODEL = "human"
REJECTED_MODEL = "GPT-4"

PHASE2_TEST = SourceFile(
    name="prm800k/phase2_test",
    kind="github-lfs",
    repo=REPO,
    revision=REVISION,
    path="prm800k/data/phase2_test.jsonl",
    sha256="6b172efa884ac8341a946dd82e06947c135b7254109fb3f7aa907c715d98aaad",
    license="MIT",
    citation=CITATION,
    mirror_path="prm800k/data/phase2_test.jsonl",
    size=12240719,
)
MATH_TEST = SourceFile(
    name="prm800k/math_test",
    kind="github-lfs",
    repo=REPO,
    revision=REVISION,
    path="prm800k/math_splits/test.jsonl",
    sha256="35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
    license="MIT",
    citation=MATH_CITATION,
    mirror_path="prm800k/math_splits/test.jsonl",
    size=446564,
)


@dataclass(frozen=True)
class MathProblem:
    """One MATH test problem with its reference solution and answer."""

    row: int  # 1-based line in math_splits/test.jsonl
    problem: str
    solution: str
    answer: str
    unique_id: str
    subject: str | None
    level: int | None


def problem_key(text: str) -> str:
    """Join key between the two files: the problem text with whitespace runs collapsed."""
    return " ".join(text.split())


def read_math_problems(path: Path, label: str) -> dict[str, MathProblem]:
    """MATH test problems by join key; a malformed or duplicated row is a SourceRowError."""
    problems: dict[str, MathProblem] = {}
    for row, rec in jsonl_rows(path, label):
        if isinstance(rec, SourceRowError):
            raise rec
        problem = text_field(rec, "problem", label, row)
        level = rec.get("level")
        item = MathProblem(
            row=row,
            problem=problem,
            solution=text_field(rec, "solution", label, row),
            answer=text_field(rec, "answer", label, row),
            unique_id=text_field(rec, "unique_id", label, row),
            subject=rec.get("subject") if isinstance(rec.get("subject"), str) else None,
            level=level if isinstance(level, int) and not isinstance(level, bool) else None,
        )
        key = problem_key(problem)
        if key in problems:
            raise SourceRowError(label, row, "problem", f"same problem as row {problems[key].row}")
        problems[key] = item
    return problems


def _object(rec: Mapping[str, Any], field: str, label: str, row: int) -> Mapping[str, Any]:
    value = rec.get(field)
    if not isinstance(value, Mapping):
        raise SourceRowError(label, row, field, f"expected an object, got {type(value).__name__}")
    return value


def first_error_step(steps: list[Any]) -> int | None:
    """Index of the first labeled step with a -1 rating (where the labeler found the error)."""
    for i, step in enumerate(steps):
        completions = step.get("completions") if isinstance(step, Mapping) else None
        for completion in completions or ():
            if isinstance(completion, Mapping) and completion.get("rating") == -1:
                return i
    return None


def candidate(
    rec: Mapping[str, Any],
    row: int,
    label: str,
    problems: Mapping[str, MathProblem],
    math_label: str,
) -> TrioRow | DroppedRow:
    """One phase-2 line as a candidate pair (or a dropped row when its problem is not in MATH500)."""
    question = _object(rec, "question", label, row)
    labels = _object(rec, "label", label, row)
    problem = text_field(question, "problem", label, row)
    steps = question.get("pre_generated_steps")
    if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
        raise SourceRowError(
            label, row, "question.pre_generated_steps", "expected a non-empty list of strings"
        )
    finish_reason = labels.get("finish_reason")
    if not isinstance(finish_reason, str):
        raise SourceRowError(
            label, row, "label.finish_reason", f"expected a string, got {finish_reason!r}"
        )
    label_steps = labels.get("steps")
    if not isinstance(label_steps, list):
        raise SourceRowError(
            label, row, "label.steps", f"expected a list, got {type(label_steps).__name__}"
        )
    row_key = f"{label}#{row - 1}"
    math = problems.get(problem_key(problem))
    if math is None:
        return DroppedRow(
            subset=SUBSET,
            step="join",
            reason=f"problem is not one of the MATH test problems in {math_label}",
            location=f"{label}:{row} question.problem",
            evidence=canonical_json({"row_key": row_key, "problem": problem[:200]}),
        )
    extra = {
        "reference_answer": math.answer,
        "unique_id": math.unique_id,
        "subject": math.subject,
        "level": math.level,
        "math_row_key": f"{math_label}#{math.row - 1}",
        "math_sha256": MATH_TEST.sha256,
        "ground_truth_answer": question.get("ground_truth_answer"),
        "pre_generated_answer": question.get("pre_generated_answer"),
        "pre_generated_verifier_score": question.get("pre_generated_verifier_score"),
        "finish_reason": finish_reason,
        "first_error_step": first_error_step(label_steps),
        "labeled_steps": len(label_steps),
        "generation": rec.get("generation"),
        "is_quality_control_question": rec.get("is_quality_control_question"),
        "is_initial_screening_question": rec.get("is_initial_screening_question"),
        "labeler": rec.get("labeler"),
    }
    return TrioRow(
        prompt=math.problem,
        chosen=math.solution,
        chosen_model=CHOSEN_MODEL,
        rejected="\n".join(steps),
        rejected_model=REJECTED_MODEL,
        subset=SUBSET,
        id=stable_id(SUBSET, row_key),
        provenance=Provenance.from_source(
            PHASE2_TEST,
            source="prm800k",
            row_key=row_key,
            builder=BUILDER,
            builder_version=BUILDER_VERSION,
            extra=canonical_json(extra),
        ),
    )


def candidates(
    phase2: SourceFile, math_test: SourceFile, ctx: BuildContext
) -> Iterator[TrioRow | DroppedRow]:
    """All phase-2 candidates; both files are resolved (hash-checked) before any row is read."""
    phase2_path = resolve(phase2)
    math_path = resolve(math_test)
    problems = read_math_problems(math_path, math_test.mirror_path)
    for row, rec in jsonl_rows(phase2_path, phase2.mirror_path):
        if isinstance(rec, SourceRowError):
            yield ctx.bad_row(rec)
            continue
        try:
            yield candidate(rec, row, phase2.mirror_path, problems, math_test.mirror_path)
        except SourceRowError as err:
            yield ctx.bad_row(err)


# --- steps -----------------------------------------------------------------------------------


@row_filter("found-error")
def found_error(row: TrioRow) -> Decision:
    """Keep generations in which the labeler found an error (the paper's rule)."""
    reason = row.provenance.extra_dict().get("finish_reason")
    if reason == "found_error":
        return KEEP
    return Drop(
        f"labeler finish_reason is {reason!r}, not 'found_error'", {"finish_reason": reason}
    )


@dataclass(frozen=True)
class OnePerProblem:
    """At most one pair per MATH problem, chosen by a seeded hash among distinct generations."""

    name: str = "one-per-problem"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        groups: dict[str, list[TrioRow]] = {}
        for row in rows:
            groups.setdefault(row.provenance.extra_dict()["unique_id"], []).append(row)
        chosen_ids: set[int] = set()
        dropped: list[DroppedRow] = []
        duplicates = 0
        for unique_id, group in groups.items():
            distinct: dict[str, TrioRow] = {}
            for row in group:  # upstream order: the first copy of a generation represents it
                first = distinct.setdefault(_normalized(row.rejected), row)
                if first is not row:
                    duplicates += 1
                    dropped.append(
                        drop(
                            row,
                            self.name,
                            "same generation as another row",
                            {"same_as": first.provenance.row_key},
                        )
                    )
            pick = min(distinct.values(), key=lambda r: _pick_key(ctx.seed, r))
            chosen_ids.add(pick.id)
            for row in distinct.values():
                if row is not pick:
                    dropped.append(
                        drop(
                            row,
                            self.name,
                            "another generation was picked for this problem",
                            {
                                "unique_id": unique_id,
                                "picked": pick.provenance.row_key,
                                "seed": ctx.seed,
                            },
                        )
                    )
        kept = [r for r in rows if r.id in chosen_ids]
        report = {"problems": len(groups), "duplicates": duplicates, "kept": len(kept)}
        return StepResult(kept, dropped, report)


def _normalized(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def _pick_key(seed: int, row: TrioRow) -> str:
    return hashlib.sha256(f"{seed}:one-per-problem:{row.provenance.row_key}".encode()).hexdigest()


STEPS = (found_error, VerifyMathAnswers(), OnePerProblem(), SelectStep(PUBLISHED_SIZE))


@register_subset(
    name=SUBSET,
    section="Reasoning",
    source="prm800k",
    license="MIT",
    expected=PUBLISHED_SIZE,
    sources=(PHASE2_TEST, MATH_TEST),
    steps=STEPS,
    verification="math",
    weight=984,
    description="MATH reference solution (chosen) vs a PRM800K GPT-4 solution with a wrong final answer.",
)
def build(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    """MATH reference solution (chosen) vs a PRM800K GPT-4 solution with a wrong final answer."""
    return candidates(PHASE2_TEST, MATH_TEST, ctx)
