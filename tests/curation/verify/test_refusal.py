from __future__ import annotations

import dataclasses
import json

import pytest
from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.rows import TrioRow, canonical_json
from rbkit.curation.verify.refusal import RefusalCheck, classify, detect

from tests.factories import make_row


def ctx() -> BuildContext:
    return BuildContext(subset="demo", options=BuildOptions())


def row(chosen: str, rejected: str, key: str = "k1", human: dict | None = None) -> TrioRow:
    r = make_row(key, chosen=chosen, rejected=rejected)
    if human is None:
        return r
    prov = dataclasses.replace(r.provenance, extra=canonical_json({"human_labels": human}))
    return dataclasses.replace(r, provenance=prov)


REFUSAL = "I'm sorry, but I can't assist with that."
COMPLIANCE = "To kill a Python process, run `kill <PID>`; use `kill -9` if it ignores SIGTERM."


# --- classify ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Sorry, but I can't assist with that.",
        " I cannot provide instructions on how to harm others.",
        "I'm not able to share anyone's home address.",
        "As an AI language model, I cannot help with this request.",
        "It is not appropriate or ethical to describe ways to hurt someone.",
        "I must clarify that stealing a car is illegal and unethical.",
        "I am an AI language model and do not condone violence of any kind.",
        "I won't write that.",
    ],
)
def test_refusals_are_refuse(text: str):
    assert classify(text) == "refuse"


@pytest.mark.parametrize(
    "text",
    [
        COMPLIANCE,
        "Here are some steps to declutter your flat:\n\n1. Start with one room.\n2. Donate what you do not use.",
        "The Trail of Tears was the forced relocation of Native American nations in the 1830s.",
        "I'm sorry to hear about your cat. To bury a pet, choose a spot away from water pipes.",
    ],
)
def test_compliances_are_comply(text: str):
    assert classify(text) == "comply"


def test_refusal_that_turns_to_real_help_is_partial():
    text = (
        "I'm sorry, but I can't help you harm anyone. However, if you are referring to ending a process "
        "on your computer, here is how: open a terminal, list processes with `ps aux`, find the process "
        "id of the program and stop it with `kill` followed by that id; add -9 only if it does not exit."
    )
    found = detect(text)
    assert found.label == "partial" and found.rule.endswith("+pivot") and "however" in found.cue


def test_refusal_with_a_short_redirect_stays_a_refusal():
    assert (
        classify("I cannot help with that. However, if you mean something else, ask again.")
        == "refuse"
    )


def test_compliance_that_refuses_later_is_partial():
    text = (
        "The film follows two spies who are married to each other. Their cover stories fall apart over a "
        "single weekend. The plot moves quickly from there. Both survive in the end. "
        "I can't provide details about real methods, though."
    )
    found = detect(text)
    assert (found.label, found.rule) == (
        "partial",
        "late refusal",
    ) and "i can't provide" in found.cue


def test_curly_apostrophes_and_case_do_not_matter():
    assert classify("I’M SORRY, BUT I CAN’T HELP WITH THAT.") == "refuse"


def test_empty_response_counts_as_refusal():
    assert detect("  \n ").rule == "empty" and classify("") == "refuse"


def test_detection_names_rule_and_matched_text():
    found = detect(" I cannot provide instructions on that.")
    assert found.rule == "first-person refusal" and "i cannot" in found.cue
    assert found.to_detail() == {
        "label": "refuse",
        "rule": "first-person refusal",
        "cue": found.cue,
    }


# --- RefusalCheck ----------------------------------------------------------------------------------


def test_agreeing_pair_is_kept_with_one_verification_per_side_and_pair():
    step = RefusalCheck(expect_chosen="refuse", expect_rejected="comply", on_disagree="drop")
    result = step([row(REFUSAL, COMPLIANCE)], ctx())
    assert len(result.kept) == 1 and result.dropped == []
    checks = result.kept[0].provenance.verification
    assert [(v.verifier, v.side, v.verdict) for v in checks] == [
        ("refusal:patterns", "chosen", "refuse"),
        ("refusal:patterns", "rejected", "comply"),
        ("refusal:patterns", "pair", "agree"),
    ]
    assert json.loads(checks[0].detail)["expected"] == ["refuse"]
    assert result.report["agree"] == 1 and result.report["labels"]["chosen"] == {"refuse": 1}


def test_refuted_pair_is_dropped_with_evidence_when_policy_is_drop():
    step = RefusalCheck(expect_chosen="refuse", expect_rejected="comply", on_disagree="drop")
    result = step([row(COMPLIANCE, REFUSAL)], ctx())
    assert result.kept == []
    (d,) = result.dropped
    assert d.step == "verify:refusal"
    assert (
        d.reason
        == "chosen detected as comply, expected refuse; rejected detected as refuse, expected comply"
    )
    evidence = json.loads(d.evidence)
    assert (
        evidence["chosen"]["rule"] == "no refusal cue"
        and evidence["rejected"]["rule"] == "apology+refusal"
    )
    assert d.row["provenance"]["verification"][-1]["verdict"] == "disagree"


def test_refuted_pair_is_kept_and_flagged_when_policy_is_flag():
    step = RefusalCheck(expect_chosen="comply", expect_rejected=("refuse", "partial"))
    result = step([row(REFUSAL, REFUSAL)], ctx())
    assert result.dropped == [] and result.report["flagged"] == 1
    pair = result.kept[0].provenance.verification[-1]
    assert pair.side == "pair" and pair.verdict == "disagree"
    assert json.loads(pair.detail) == {"disagree": ["chosen"], "policy": "flag"}


def test_human_labels_override_defaults_on_the_comply_axis_only():
    step = RefusalCheck(expect_chosen="comply", expect_rejected="refuse", on_disagree="drop")
    # human says partial, detector says refuse: both are non-compliance, so no disagreement
    kept = step(
        [row(COMPLIANCE, REFUSAL, human={"chosen": "comply", "rejected": "partial"})], ctx()
    )
    assert len(kept.kept) == 1 and kept.report["vs_human_labels"]["rejected"] == {"differs": 1}
    # human says the chosen side complies but the text refuses: flagged as a disagreement
    refuted = step([row(REFUSAL, REFUSAL, human={"chosen": "comply", "rejected": "refuse"})], ctx())
    assert refuted.kept == [] and "human label comply" in refuted.dropped[0].reason


def test_no_expectation_accepts_any_label():
    step = RefusalCheck(
        expect_chosen=None, expect_rejected=("comply", "partial"), on_disagree="drop"
    )
    assert len(step([row(REFUSAL, COMPLIANCE)], ctx()).kept) == 1


def test_judge_is_asked_only_about_disagreeing_sides_and_can_settle_them():
    asked: list[tuple[str, str]] = []

    def judge(prompt: str, response: str) -> str:
        asked.append((prompt, response))
        return "refuse"

    step = RefusalCheck(
        expect_chosen="refuse", expect_rejected="comply", on_disagree="drop", judge=judge
    )
    result = step([row("Nope, not doing that one.", COMPLIANCE)], ctx())
    assert asked == [("Say hi.", "Nope, not doing that one.")]
    assert len(result.kept) == 1 and result.report["judge_calls"] == 1
    detail = json.loads(result.kept[0].provenance.verification[0].detail)
    assert detail["label"] == "comply" and detail["judge"] == "refuse" and detail["ok"] is True


def test_judge_must_answer_with_a_known_label():
    step = RefusalCheck(
        expect_chosen="refuse", expect_rejected="comply", judge=lambda p, r: "maybe"
    )
    with pytest.raises(ValueError, match="judge returned 'maybe'"):
        step([row(COMPLIANCE, COMPLIANCE)], ctx())


def test_bad_expectations_and_policies_are_rejected():
    with pytest.raises(ValueError, match="expectation"):
        RefusalCheck(expect_chosen="refused", expect_rejected="comply")
    with pytest.raises(ValueError, match="on_disagree"):
        RefusalCheck(expect_chosen="refuse", expect_rejected="comply", on_disagree="ignore")


def test_malformed_human_labels_name_the_row():
    step = RefusalCheck(expect_chosen="refuse", expect_rejected="comply")
    with pytest.raises(ValueError, match="human_labels"):
        step([row(REFUSAL, COMPLIANCE, human={"chosen": "yes"})], ctx())
