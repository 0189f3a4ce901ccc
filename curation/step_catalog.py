"""rbkit's own pipeline steps under the names a subset spec uses (curation.steps_registry).

Each factory takes the spec's `params` and returns the step the built-in builders use, so a
declared subset filters, verifies, deduplicates and gates exactly as they do. Verifier
inputs (an expected answer, tests) come from the row's provenance `extra`, which a spec fills
from the source fields named in `mapping.extra`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rbkit.core.errors import RbkitError
from rbkit.curation import text_filters
from rbkit.curation.pipeline import BuildContext, RowFilter, StepResult, drop
from rbkit.curation.rows import TrioRow, Verification, canonical_json
from rbkit.curation.steps_registry import register_step

# --- text filters ------------------------------------------------------------------------------


def _register_filter(name: str, step: RowFilter) -> None:
    def factory() -> RowFilter:
        return step

    factory.__doc__ = (step.fn.__doc__ or name).strip().splitlines()[0]
    factory.__qualname__ = f"filter_{name}"
    register_step(name)(factory)


for _filter in text_filters.CHAT_ARTEFACT_FILTERS:
    _register_filter(_filter.name, _filter)


@register_step("chat_artefacts")
def chat_artefacts() -> tuple[RowFilter, ...]:
    """The six artefact filters of the built-in chat subsets: nonempty, encoding, english, complete, no_template_leak, distinct."""
    return text_filters.CHAT_ARTEFACT_FILTERS


@register_step("length_window")
def length_window(low: float, high: float) -> RowFilter:
    """Keep pairs whose chosen/rejected length ratio lies in [low, high]."""
    return text_filters.length_window(float(low), float(high))


@register_step("no_refusal")
def no_refusal(sides: Sequence[str] = ("chosen",)) -> RowFilter:
    """Drop pairs where a named side (chosen, rejected) refuses or partly refuses."""
    bad = [s for s in sides if s not in ("chosen", "rejected")]
    if bad:
        raise ValueError(f"sides must be 'chosen' or 'rejected', got {bad}")
    return text_filters.no_refusal(tuple(sides))


# --- dedup -------------------------------------------------------------------------------------


@register_step("dedup")
def dedup(threshold: float = 0.8, policy: Literal["drop", "report"] = "drop") -> Any:
    """Drop (or report) near-duplicate prompts within the subset, keeping the first."""
    from rbkit.curation.dedup import DedupStep

    if policy not in ("drop", "report"):
        raise ValueError(f"policy must be 'drop' or 'report', got {policy!r}")
    if not 0 < float(threshold) <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    return DedupStep(threshold=float(threshold), policy=policy)


# --- verifiers of pairs ------------------------------------------------------------------------


@register_step("verify:math")
def verify_math(reference_field: str = "reference_answer", timeout_s: float | None = None) -> Any:
    """Keep pairs whose chosen final answer equals the reference and rejected's does not."""
    from rbkit.curation.verify.math import VerifyMathAnswers

    if timeout_s is None:
        return VerifyMathAnswers(reference_field=reference_field)
    return VerifyMathAnswers(reference_field=reference_field, timeout_s=float(timeout_s))


@register_step("verify:refusal")
def verify_refusal(
    expect_chosen: str | Sequence[str] | None = "refuse",
    expect_rejected: str | Sequence[str] | None = "comply",
    on_disagree: Literal["flag", "drop"] = "drop",
) -> Any:
    """Check each side's refusal label against the expected one (refuse, comply, partial)."""
    from rbkit.curation.verify.refusal import LABELS, RefusalCheck

    for value in (expect_chosen, expect_rejected):
        labels = [value] if isinstance(value, str) else list(value or [])
        bad = [v for v in labels if v not in LABELS]
        if bad:
            raise ValueError(f"expected labels must be among {list(LABELS)}, got {bad}")
    return RefusalCheck(_expect(expect_chosen), _expect(expect_rejected), on_disagree=on_disagree)


def _expect(value: str | Sequence[str] | None) -> Any:
    return value if value is None or isinstance(value, str) else tuple(value)


@register_step("verify:code")
def verify_code(language: str, tests_field: str = "tests", setup_field: str | None = None) -> Any:
    """Keep pairs whose chosen program passes the row's tests in the sandbox and rejected fails."""
    from rbkit.curation.verify.code import LANGUAGES, Candidate, CodeVerifyStep

    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {list(LANGUAGES)}, got {language!r}")

    def material(row: TrioRow) -> tuple[Candidate, Candidate]:
        extra = row.provenance.extra_dict()
        tests = extra.get(tests_field)
        if not isinstance(tests, str) or not tests.strip():
            raise RbkitError(f"{row.subset} row {row.provenance.row_key}: no '{tests_field}' in the row's extra "
                             "(name the tests field in mapping.extra)")
        setup = str(extra.get(setup_field) or "") if setup_field else ""
        return (Candidate(language, str(row.chosen), tests, setup), Candidate(language, str(row.rejected), tests, setup))

    return CodeVerifyStep(language, material)


@dataclass(frozen=True)
class LabelCheck:
    """Keep pairs whose source label (a field copied into extra) is one of the accepted values."""

    field: str
    accept: tuple[Any, ...]
    name: str = "verify:label"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        kept, dropped = [], []
        seen: Counter[str] = Counter()
        for row in rows:
            value = row.provenance.extra_dict().get(self.field)
            seen[canonical_json(value)] += 1
            detail = canonical_json({"field": self.field, "value": value, "accept": list(self.accept)})
            if value in self.accept:
                kept.append(row.with_verification(Verification("label", "pair", "agree", detail)))
            else:
                reason = f"label {self.field}={value!r} not among {list(self.accept)}"
                dropped.append(drop(row, self.name, reason, {"field": self.field, "value": value}))
        return StepResult(kept, dropped, {"field": self.field, "values": dict(sorted(seen.items()))})


@register_step("verify:label")
def verify_label(field: str, accept: Sequence[Any]) -> LabelCheck:
    """Keep pairs whose human label (a source field listed in mapping.extra) is an accepted value."""
    if not accept:
        raise ValueError("accept must list at least one value")
    return LabelCheck(field, tuple(accept))


# --- gates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RulerGate:
    """The trivial-baseline gate on this subset alone: fail (nothing written) or warn."""

    threshold: float
    mode: Literal["warn", "fail"]
    length_bias: str = "none"
    name: str = "gate:rulers"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        from rbkit.curation.gates import GateConfig, apply_gate, raise_on_failures, rulers

        table = rulers(rows)
        verdict = apply_gate(ctx.subset, self.length_bias, table, GateConfig(threshold=self.threshold, mode=self.mode))
        raise_on_failures([verdict])
        return StepResult(rows, report=verdict.to_record())


@register_step("gate:rulers")
def gate_rulers(threshold: float = 0.9, mode: Literal["warn", "fail"] = "fail", length_bias: str = "none") -> RulerGate:
    """Stop (mode fail) or warn when length or bag-of-words rulers pick chosen above threshold."""
    if mode not in ("warn", "fail"):
        raise ValueError(f"mode must be 'warn' or 'fail', got {mode!r}")
    if not 0 < float(threshold) <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    return RulerGate(float(threshold), mode, length_bias)


class ExpectedSizeError(RbkitError):
    """A subset that ended smaller than its spec expects (on_short = fail)."""


@dataclass(frozen=True)
class ExpectedSize:
    """After selection: fewer rows than expected stops the build, or is recorded (label)."""

    size: int
    on_short: Literal["fail", "label"] = "fail"
    name: str = "gate:expected_size"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        report: dict[str, Any] = {"expected": self.size, "built": len(rows), "on_short": self.on_short}
        if len(rows) >= self.size:
            return StepResult(rows, report={**report, "status": "ok"})
        message = f"{ctx.subset}: {len(rows)} rows survived, {self.size} expected"
        if self.on_short == "fail":
            raise ExpectedSizeError(f"{message} (nothing was written); set expected.on_short = \"label\" to build "
                                    "anyway and read the drop reasons in dropped.jsonl")
        ctx.report.setdefault("summary", []).append(f"short: {message}")
        return StepResult(rows, report={**report, "status": "short"})


@register_step("gate:expected_size")
def gate_expected_size(size: int, on_short: Literal["fail", "label"] = "fail") -> ExpectedSize:
    """Fail (or label the build) when fewer rows than `size` survive."""
    if on_short not in ("fail", "label"):
        raise ValueError(f"on_short must be 'fail' or 'label', got {on_short!r}")
    return ExpectedSize(int(size), on_short)
