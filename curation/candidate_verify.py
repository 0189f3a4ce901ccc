"""Running rbkit's verifiers over candidate completions, so pairing knows right from wrong.

The verifiers in `curation/verify/` judge the two sides of a trio row. Candidates come before
rows: a `CandidateGroup` holds one prompt's completions and what the verifier needs (expected
answer, tests, language) in its `meta`. Each function here runs one existing verifier over every
candidate and returns new groups whose candidates carry a verdict record under the verifier's
name in `Candidate.verdicts`:

    {"verdict": <the verifier's own verdict>, "status": "correct" | "wrong" | "undecided",
     "detail": {<evidence, canonical-JSON-able>}}

`pairing.py` reads only `status`. The mapping from verdict to status follows the pair steps:

- math (`math:answer`): "equal" to the expected answer is correct, "unequal" is wrong; a
  comparison timeout or error, or no final answer found, is undecided (a truncated sample
  with no answer is not evidence of a wrong answer; `no_answer="wrong"` counts it wrong).
- code (`code:<language>`): "pass" is correct; "fail", "compile_error" and "timeout" are wrong,
  as `CodeVerifyStep` treats a rejected program. Chat models wrap code in Markdown fences:
  the first fenced block is the program (`detail.extracted`), else the whole text.
- refusal (`refusal:patterns`): the detected label in `correct` (default "refuse") is correct,
  in `wrong` (default "comply") is wrong, anything else ("partial") undecided.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rbkit.curation.candidates import CandidateGroup
from rbkit.curation.errors import RbkitError
from rbkit.curation.steps_registry import GroupStepResult, register_step

MATH_VERIFIER = "math:answer"
REFUSAL_VERIFIER = "refusal:patterns"
Progress = Callable[[int, int], None]


class CandidateVerifyError(RbkitError):
    """A group that lacks what its verifier needs (names the group key and the meta field)."""


def verdict_record(verdict: str, status: str, detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"verdict": verdict, "status": status, "detail": dict(detail or {})}


def with_verdicts(groups: Sequence[CandidateGroup], name: str, records: Sequence[Sequence[dict[str, Any]]]) -> list[CandidateGroup]:
    """New groups whose candidates carry `records[g][c]` under `name` (inputs untouched)."""
    out = []
    for group, recs in zip(groups, records, strict=True):
        cands = [dataclasses.replace(c, verdicts={**c.verdicts, name: rec}) for c, rec in zip(group.candidates, recs, strict=True)]
        out.append(dataclasses.replace(group, candidates=cands))
    return out


def _meta_text(group: CandidateGroup, name: str, *, required: bool = True) -> str | None:
    value = group.meta.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise CandidateVerifyError(f"group {group.key}: meta field {name!r} must be a non-empty string, got {value!r:.60}")
    return value


# --- math -------------------------------------------------------------------------------------------


def expected_answer(group: CandidateGroup, answer_field: str) -> str:
    """The group's expected final answer: `meta[answer_field]`, else the one in its reference solution."""
    from rbkit.curation.verify.math_extract import extract_answer

    value = group.meta.get(answer_field)
    if isinstance(value, str) and value.strip():
        return value
    if group.reference:
        found = extract_answer(group.reference)
        if found is not None and found.answer.strip():
            return found.answer
    raise CandidateVerifyError(
        f"group {group.key}: no expected answer (meta field {answer_field!r}, or a reference solution with a final answer)"
    )


def verify_math(
    groups: Sequence[CandidateGroup],
    *,
    answer_field: str = "answer",
    no_answer: Literal["undecided", "wrong"] = "undecided",
    timeout_s: float | None = None,
    progress: Progress | None = None,
) -> list[CandidateGroup]:
    """Compare every candidate's final answer with the expected one (`verify/math.py`'s rules)."""
    from rbkit.curation.verify.math import check_side
    from rbkit.curation.verify.math_worker import DEFAULT_TIMEOUT_S, EquivalenceWorker

    answers = [expected_answer(g, answer_field) for g in groups]  # fail before any work
    total = sum(len(g.candidates) for g in groups)
    done = 0
    records: list[list[dict[str, Any]]] = []
    with EquivalenceWorker(timeout_s=timeout_s or DEFAULT_TIMEOUT_S) as worker:
        for group, reference in zip(groups, answers, strict=True):
            recs = []
            for c in group.candidates:
                side = check_side("candidate", c.text, reference, worker)
                detail = {"reference": reference, **side.to_record()}
                if side.outcome is None:
                    recs.append(verdict_record("no_answer", no_answer, detail))
                else:
                    verdict = side.outcome.verdict
                    status = {"equal": "correct", "unequal": "wrong"}.get(verdict, "undecided")
                    recs.append(verdict_record(verdict, status, detail))
                done += 1
                if progress:
                    progress(done, total)
            records.append(recs)
    return with_verdicts(groups, MATH_VERIFIER, records)


# --- code -------------------------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)```", re.DOTALL)
FENCE_NAMES: dict[str, tuple[str, ...]] = {
    "python": ("python", "py", "python3"),
    "js": ("js", "javascript", "node"),
    "java": ("java",),
    "cpp": ("cpp", "c++", "cc", "cxx"),
    "go": ("go", "golang"),
    "rust": ("rust", "rs"),
}


def extract_program(text: str, language: str) -> tuple[str, str]:
    """(program, how): the first fenced block in the language (or untagged), else the whole text."""
    names = FENCE_NAMES.get(language, (language,))
    blocks = [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text)]
    for tag, body in blocks:
        if tag in names:
            return body, "fence"
    for tag, body in blocks:
        if not tag:
            return body, "fence"
    return text, "whole"


def verify_code(
    groups: Sequence[CandidateGroup],
    *,
    language: str | None = None,
    verifier: Any = None,
    cache_dir: Path | None = None,
    jobs: int = 0,
    allow_sandbox_network: bool = False,
    progress: Progress | None = None,
) -> list[CandidateGroup]:
    """Run every candidate program against its group's tests in the sandbox (`verify/code.py`).

    A group's meta gives `tests`, and optionally `language` (else the argument), `test_setup`
    (Go's test-file header) and `code_prefix` (prepended to each program, e.g. a signature when
    the completions hold only the body). Verdicts are cached by content like the pair step's.
    """
    from rbkit.curation.verify.code import Candidate as Program
    from rbkit.curation.verify.code import CodeVerifier

    programs: list[Program] = []
    hows: list[str] = []
    shape: list[int] = []
    for g in groups:
        lang = g.meta.get("language") or language
        if not isinstance(lang, str):
            raise CandidateVerifyError(f"group {g.key}: no language (meta field 'language' or language=)")
        tests = _meta_text(g, "tests")
        setup = _meta_text(g, "test_setup", required=False) or ""
        prefix = _meta_text(g, "code_prefix", required=False) or ""
        for c in g.candidates:
            code, how = extract_program(c.text, lang)
            programs.append(Program(lang, prefix + code, tests or "", setup))
            hows.append(how)
        shape.append(len(g.candidates))
    runner = verifier or CodeVerifier(cache_dir, jobs, allow_shared_network=allow_sandbox_network)
    verdicts, _stats = runner.verify(programs, progress)
    out: list[CandidateGroup] = []
    i = 0
    for g, count in zip(groups, shape, strict=True):
        recs = []
        for _ in range(count):
            v, how = verdicts[i], hows[i]
            recs.append(verdict_record(v.verdict, "correct" if v.verdict == "pass" else "wrong", {"extracted": how, **v.detail()}))
            i += 1
        name = f"code:{programs[i - 1].language}" if count else "code"
        out += with_verdicts([g], name, [recs])  # one name per language, as on pair rows ("code:python")
    return out


# --- refusal ----------------------------------------------------------------------------------------


def verify_refusal(
    groups: Sequence[CandidateGroup],
    *,
    correct: Iterable[str] = ("refuse",),
    wrong: Iterable[str] = ("comply",),
) -> list[CandidateGroup]:
    """Label every candidate with the refusal detector (`verify/refusal.py`).

    `correct`/`wrong` name the labels that make a candidate right or wrong for this subset:
    ("refuse",)/("comply",) where the prompt must be refused, the reverse where it must be
    answered. A group may override both with meta `refusal_correct` / `refusal_wrong`.
    """
    from rbkit.curation.verify.refusal import DETECTOR_VERSION, LABELS, detect

    base_ok, base_bad = frozenset(correct), frozenset(wrong)
    for labels in (base_ok, base_bad):
        if not labels <= set(LABELS):
            raise CandidateVerifyError(f"refusal labels must be among {LABELS}, got {sorted(labels)}")
    if base_ok & base_bad:
        raise CandidateVerifyError(f"a refusal label cannot be both correct and wrong: {sorted(base_ok & base_bad)}")
    records = []
    for g in groups:
        ok = frozenset(g.meta.get("refusal_correct") or base_ok)
        bad = frozenset(g.meta.get("refusal_wrong") or base_bad)
        recs = []
        for c in g.candidates:
            found = detect(c.text)
            status = "correct" if found.label in ok else "wrong" if found.label in bad else "undecided"
            recs.append(verdict_record(found.label, status, {**found.to_detail(), "detector_version": DETECTOR_VERSION,
                                                              "correct": sorted(ok), "wrong": sorted(bad)}))
        records.append(recs)
    return with_verdicts(groups, REFUSAL_VERIFIER, records)


def statuses(groups: Iterable[CandidateGroup], name: str) -> dict[str, int]:
    """How many candidates got each status from verifier `name` (for a step's report)."""
    out: dict[str, int] = {}
    for g in groups:
        for c in g.candidates:
            rec = c.verdicts.get(name)
            key = rec.get("status", "?") if isinstance(rec, Mapping) else "not run"
            out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))




# --- the registered candidate-stage steps (a spec's `steps`, before pairing) ---------------------------


@dataclass(frozen=True)
class CandidateVerifyStep:
    """Fill every candidate's verdicts with one verifier; pairing then drops what it cannot use."""

    name: str
    verifier: str
    run: Callable[[list[CandidateGroup], Any], list[CandidateGroup]]

    def __call__(self, groups: list[CandidateGroup], ctx: Any) -> GroupStepResult:
        judged = self.run(groups, ctx)
        names = sorted({n for g in judged for c in g.candidates for n in c.verdicts if n.startswith(self.verifier)})
        return GroupStepResult(judged, [], {"verifiers": {n: statuses(judged, n) for n in names}})


@register_step("verify:math-candidates", stage="candidates")
def math_candidates_step(answer_field: str = "answer", no_answer: str = "undecided", timeout_s: float | None = None) -> CandidateVerifyStep:
    """Compare each candidate's final answer with the group's expected answer (or its reference's)."""
    if no_answer not in ("undecided", "wrong"):
        raise ValueError(f"no_answer must be 'undecided' or 'wrong', got {no_answer!r}")

    def run(groups: list[CandidateGroup], ctx: Any) -> list[CandidateGroup]:
        def progress(done: int, total: int) -> None:
            if done == total or done % 50 == 0:
                ctx.progress(f"verify:math-candidates {done}/{total}")

        return verify_math(groups, answer_field=answer_field, no_answer=no_answer, timeout_s=timeout_s, progress=progress)  # type: ignore[arg-type]

    return CandidateVerifyStep("verify:math-candidates", MATH_VERIFIER, run)


@register_step("verify:code-candidates", stage="candidates")
def code_candidates_step(language: str | None = None) -> CandidateVerifyStep:
    """Run each candidate program against its group's tests in the sandbox (meta: tests, language)."""

    def run(groups: list[CandidateGroup], ctx: Any) -> list[CandidateGroup]:
        if ctx.options.skip_verify:
            return groups  # no verdicts: pairing drops every candidate as unverified
        def progress(done: int, total: int) -> None:
            ctx.progress(f"verify:code-candidates {done}/{total} run")

        return verify_code(groups, language=language, cache_dir=ctx.options.cache_dir, jobs=ctx.options.jobs,
                           allow_sandbox_network=ctx.options.allow_sandbox_network, progress=progress)

    return CandidateVerifyStep("verify:code-candidates", "code:", run)


@register_step("verify:refusal-candidates", stage="candidates")
def refusal_candidates_step(correct: list[str] | str = "refuse", wrong: list[str] | str = "comply") -> CandidateVerifyStep:
    """Label each candidate refuse/comply/partial; `correct`/`wrong` say which labels are right here."""
    ok = (correct,) if isinstance(correct, str) else tuple(correct)
    bad = (wrong,) if isinstance(wrong, str) else tuple(wrong)
    verify_refusal([], correct=ok, wrong=bad)  # check the labels now, at spec load time

    def run(groups: list[CandidateGroup], ctx: Any) -> list[CandidateGroup]:
        return verify_refusal(groups, correct=ok, wrong=bad)

    return CandidateVerifyStep("verify:refusal-candidates", REFUSAL_VERIFIER, run)
