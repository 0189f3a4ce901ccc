import dataclasses
import json

import pytest
from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.rows import canonical_json
from rbkit.curation.verify.math import VERIFIER, SideResult, VerifyMathAnswers, check_side, judge
from rbkit.curation.verify.math_worker import EquivalenceWorker

from tests.factories import make_row

REFERENCE = "\\frac{5}{6}"
CHOSEN = "So the sum is $\\frac{3}{6} + \\frac{2}{6} = \\boxed{\\frac{5}{6}}$."


def row(
    key: str,
    chosen: str = CHOSEN,
    rejected: str = "Add tops and bottoms.\n\n# Answer\n\n2/5",
    **extra,
):
    base = make_row(key, subset="math-prm", chosen=chosen, rejected=rejected)
    extra_json = canonical_json({"reference_answer": REFERENCE, **extra})
    return dataclasses.replace(
        base, provenance=dataclasses.replace(base.provenance, extra=extra_json)
    )


@pytest.fixture(scope="module")
def outcome():
    rows = [
        row("good"),
        row("rejected-right", rejected="Common denominators.\n\n# Answer\n\n\\dfrac{5}{6}"),
        row("chosen-wrong", chosen="So the answer is $\\boxed{\\frac{1}{6}}$."),
        row("rejected-silent", rejected="I give up halfway."),
        row("chosen-silent", chosen="No box at all."),
        row("rejected-slow", rejected="Huge.\n\n# Answer\n\n2^{2^{2^{2^{2^{2}}}}}"),
    ]
    ctx = BuildContext(subset="math-prm", options=BuildOptions())
    return VerifyMathAnswers(timeout_s=1.0)(rows, ctx)


def test_verified_pair_is_kept_with_both_verifications(outcome):
    assert [r.provenance.row_key for r in outcome.kept] == ["good"]
    checks = outcome.kept[0].provenance.verification
    assert [(v.verifier, v.side, v.verdict) for v in checks] == [
        (VERIFIER, "chosen", "equal"),
        (VERIFIER, "rejected", "unequal"),
    ]
    detail = json.loads(checks[1].detail)
    assert detail["extracted"] == "2/5" and detail["extraction"] == "answer-section"
    assert detail["reference"] == REFERENCE


def test_every_refuted_pair_is_dropped_with_its_answers(outcome):
    reasons = {d.row["provenance"]["row_key"]: d.reason for d in outcome.dropped}
    assert reasons == {
        "rejected-right": "rejected answer equals the reference",
        "chosen-wrong": "chosen answer differs from the reference",
        "rejected-silent": "rejected: no final answer found",
        "chosen-silent": "chosen: no final answer found",
        "rejected-slow": "rejected: comparison timeout",
    }
    evidence = {d.row["provenance"]["row_key"]: json.loads(d.evidence) for d in outcome.dropped}
    assert evidence["chosen-wrong"]["chosen"]["extracted"] == "\\frac{1}{6}"
    assert evidence["rejected-right"]["rejected"]["comparison"]["verdict"] == "equal"
    assert all(d.step == "verify:math" for d in outcome.dropped)


def test_report_counts_reasons_and_restarts(outcome):
    assert outcome.report["checked"] == 6 and outcome.report["kept"] == 1
    assert outcome.report["worker_restarts"] == 1
    assert sum(outcome.report["dropped"].values()) == 5


def test_a_row_without_a_reference_is_a_clear_error():
    bare = make_row("x", subset="math-prm")
    with pytest.raises(ValueError, match="reference_answer"):
        VerifyMathAnswers()([bare], BuildContext(subset="math-prm", options=BuildOptions()))


def test_judge_needs_positive_evidence_on_both_sides():
    with EquivalenceWorker(timeout_s=2.0) as worker:
        chosen = check_side("chosen", "$\\boxed{7}$", "7", worker)
        rejected = check_side("rejected", "# Answer\n\n8", "7", worker)
    assert judge(chosen, rejected) is None
    assert judge(chosen, SideResult("rejected", None, None)) == "rejected: no final answer found"
