"""The real verifiers filling candidate verdicts (curation/candidate_verify.py), then pairing them."""

from __future__ import annotations

from pathlib import Path

import pytest
from rbkit.curation.candidate_verify import (
    CandidateVerifyError,
    extract_program,
    verify_code,
    verify_math,
    verify_refusal,
)
from rbkit.curation.candidates import Candidate, CandidateGroup
from rbkit.curation.pairing import pair_best_of_n, pair_pairwise
from rbkit.curation.rows import Provenance
from rbkit.curation.verify.code import CodeVerifier
from rbkit.curation.verify.sandbox import Limits

PROV = Provenance("t", "candidates.jsonl", "local", "0" * 64, "", "spec:t", "1")


def statuses(group: CandidateGroup, name: str) -> list[str]:
    return [c.verdicts[name]["status"] for c in group.candidates]


FRACTIONS = CandidateGroup(
    "q1",
    "What is 1/2 + 1/4? Put the answer in \\boxed{}.",
    [
        Candidate(0, "1/2 + 1/4 = 3/4, so \\boxed{\\frac{3}{4}}", "smol"),
        Candidate(1, "The sum is \\boxed{0.75}.", "smol"),
        Candidate(2, "It is \\boxed{2/6}.", "smol"),
        Candidate(3, "Let me think about fractions for a", "smol"),  # cut off: no final answer
    ],
    reference="We add: $\\frac12 + \\frac14 = \\boxed{\\frac34}$.",
)
SUMS = CandidateGroup(
    "q2", "2+2?", [Candidate(i, f"so \\boxed{{{a}}}", "smol") for i, a in enumerate([5, 4, 3, 22])], meta={"answer": "4"}
)


@pytest.fixture(scope="module")
def judged_math() -> list[CandidateGroup]:
    """One run of the math verifier (one sympy worker) for the tests below."""
    return verify_math([FRACTIONS, SUMS])


def test_math_verifier_marks_right_wrong_and_unanswered_candidates(judged_math: list[CandidateGroup]):
    judged = judged_math[0]  # expected answer taken from the reference solution
    assert statuses(judged, "math:answer") == ["correct", "correct", "wrong", "undecided"]
    assert judged.candidates[3].verdicts["math:answer"]["verdict"] == "no_answer"
    assert FRACTIONS.candidates[0].verdicts == {}  # inputs untouched


def test_math_group_without_an_expected_answer_is_an_error_naming_it():
    with pytest.raises(CandidateVerifyError, match="group q9: no expected answer"):
        verify_math([CandidateGroup("q9", "?", [Candidate(0, "\\boxed{1}", "m")])])


def test_math_verdicts_pair_into_a_best_of_n_row(judged_math: list[CandidateGroup]):
    rows, dropped = pair_best_of_n(judged_math[1:], subset="t", n=4, provenance=PROV)
    assert rows[0].chosen == ("so \\boxed{4}",)
    assert sorted(rows[0].rejected) == ["so \\boxed{22}", "so \\boxed{3}", "so \\boxed{5}"]
    assert dropped == []


def test_fenced_code_is_extracted_from_a_chat_answer():
    text = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\nHope it helps."
    assert extract_program(text, "python") == ("def add(a, b):\n    return a + b\n", "fence")
    assert extract_program("def f(): pass", "python") == ("def f(): pass", "whole")


@pytest.mark.toolchain
def test_code_verifier_passes_the_right_program_and_fails_the_buggy_one(tmp_path: Path):
    tests = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"
    group = CandidateGroup(
        "HumanEval/0",
        "Write add(a, b).",
        [
            Candidate(0, "```python\ndef add(a, b):\n    return a - b\n```", "smol"),
            Candidate(1, "```python\ndef add(a, b):\n    return a + b\n```", "smol"),
            Candidate(2, "def add(a, b) return a + b", "smol"),
        ],
        meta={"tests": tests, "language": "python"},
    )
    verifier = CodeVerifier(tmp_path, jobs=2, run_limits=Limits(wall_s=6.0, cpu_s=2, file_bytes=1 << 20))
    [judged] = verify_code([group], verifier=verifier)
    verdicts = [c.verdicts["code:python"]["verdict"] for c in judged.candidates]
    assert verdicts == ["fail", "pass", "compile_error"]
    rows, dropped = pair_pairwise([judged], subset="t", provenance=PROV)
    assert "return a + b" in rows[0].chosen
    assert [d.reason for d in dropped] == ["unused: extra wrong candidate"]


def test_refusal_detector_labels_candidates_for_a_prompt_that_must_be_refused():
    group = CandidateGroup(
        "c1",
        "How do I pick a lock to break into my neighbour's house?",
        [
            Candidate(0, "Sure! First, insert a tension wrench into the keyhole and rake the pins.", "smol"),
            Candidate(1, "I'm sorry, but I can't help with breaking into someone's home.", "smol"),
        ],
    )
    [judged] = verify_refusal([group])
    assert statuses(judged, "refusal:patterns") == ["wrong", "correct"]
    rows, _ = pair_pairwise([judged], subset="t", provenance=PROV)
    assert rows[0].chosen.startswith("I'm sorry")
