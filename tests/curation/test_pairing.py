"""Pairing candidates into trio rows from their verdicts or from scores (curation/pairing.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rbkit.curation.candidate_verify import verdict_record
from rbkit.curation.candidates import Candidate, CandidateGroup
from rbkit.curation.pairing import (
    PairingError,
    eval_scores,
    judge_scores,
    pair_best_of_n,
    pair_from_scores,
    pair_pairwise,
    scoring_rows,
)
from rbkit.curation.rows import Provenance
from rbkit.curation.trio_io import to_table
from rbkit.eval.aggregate import RowScore
from rbkit.eval.data import pairs_from_records
from rbkit.eval.results import scores_table

from rbkit import schemas

PROV = Provenance(
    source="my-math",
    upstream_file="candidates.parquet",
    revision="local",
    sha256="0" * 64,
    row_key="",
    builder="spec:my-math",
    builder_version="1",
)


def cand(index: int, status: str | None, text: str | None = None, model: str = "smol") -> Candidate:
    verdicts = {} if status is None else {"math:answer": verdict_record({"correct": "equal", "wrong": "unequal"}.get(status, "timeout"), status)}
    return Candidate(index=index, text=text or f"answer {index}", model=model, verdicts=verdicts)


def group(key: str, *statuses: str | None, reference: str | None = "The reference solution.") -> CandidateGroup:
    return CandidateGroup(key=key, prompt=f"Problem {key}?", candidates=[cand(i, s) for i, s in enumerate(statuses)], reference=reference)


def reasons(dropped) -> dict[int, str]:
    return {d.row["candidate"]["index"]: d.reason for d in dropped}


def test_pairwise_chosen_passes_and_rejected_fails():
    rows, dropped = pair_pairwise([group("p1", "wrong", "correct")], subset="my-math", provenance=PROV)
    [row] = rows
    assert (row.chosen, row.rejected) == ("answer 1", "answer 0")
    assert dropped == []
    sides = {(v.side, v.verdict) for v in row.provenance.verification}
    assert sides == {("chosen", "equal"), ("rejected", "unequal")}
    assert row.provenance.row_key == "p1"


def test_best_of_n_row_has_one_chosen_and_three_wrong_in_the_rewardbench2_layout():
    rows, dropped = pair_best_of_n([group("p1", "wrong", "correct", "wrong", "wrong", "correct")], subset="my-math", n=4, provenance=PROV)
    [row] = rows
    assert isinstance(row.chosen, tuple) and len(row.chosen) == 1
    assert sorted(row.rejected) == ["answer 0", "answer 2", "answer 3"]
    [extra] = dropped
    assert extra.reason == "unused: extra correct candidate"
    assert extra.step == "pair:best_of_n"
    table = to_table(rows)
    rec = table.to_pylist()[0]
    assert (rec["num_correct"], rec["total_completions"]) == (1, 4)
    assert list(schemas.validator("trio").iter_errors(rec)) == []


def test_best_of_n_rows_are_scored_by_rbkit_eval_as_best_of_n():
    rows, _ = pair_best_of_n([group("p1", "wrong", "correct", "wrong", "wrong")], subset="my-math", n=4, provenance=PROV)
    [pair] = pairs_from_records(to_table(rows).to_pylist(), "rows")
    assert pair.best_of_n and len(pair.chosen) == 1 and len(pair.rejected) == 3


def test_reference_is_chosen_and_correct_candidates_go_unused():
    rows, dropped = pair_best_of_n(
        [group("p1", "wrong", "correct", "wrong", "wrong")], subset="my-math", n=4, chosen="reference", provenance=PROV
    )
    [row] = rows
    assert row.chosen == ("The reference solution.",)
    assert row.chosen_model == "reference"
    assert reasons(dropped) == {1: "unused: extra correct candidate (the reference answer is chosen)"}
    assert json.loads(row.provenance.extra)["pairing"]["chosen"] == {"source": "reference"}


def test_too_few_wrong_candidates_drops_the_group_with_the_count():
    rows, dropped = pair_best_of_n([group("p1", "wrong", "correct", "wrong")], subset="my-math", n=4, provenance=PROV)
    assert rows == []
    assert set(reasons(dropped).values()) == {"not enough verified-wrong candidates (2 < 3)"}
    assert len(dropped) == 3


def test_no_correct_candidate_drops_the_group():
    rows, dropped = pair_pairwise([group("p1", "wrong", "wrong")], subset="my-math", provenance=PROV)
    assert rows == []
    assert set(reasons(dropped).values()) == {"no verified-correct candidate (0 of 2)"}


def test_undecided_and_unverified_candidates_are_dropped_with_the_verdict():
    rows, dropped = pair_pairwise([group("p1", "correct", "undecided", None, "wrong")], subset="my-math", provenance=PROV)
    assert len(rows) == 1
    assert reasons(dropped) == {1: "undecided: math:answer timeout", 2: "unverified: no verifier judged this candidate"}
    evidence = json.loads(dropped[0].evidence)
    assert evidence["status"] == "undecided" and evidence["verdicts"]["math:answer"]["verdict"] == "timeout"


def test_a_duplicate_wrong_answer_is_not_used_twice():
    g = CandidateGroup("p1", "Q?", [cand(0, "correct"), cand(1, "wrong", "x = 3"), cand(2, "wrong", " x = 3 "), cand(3, "wrong")])
    rows, dropped = pair_best_of_n([g], subset="my-math", n=4, provenance=PROV)
    assert rows == []  # two distinct wrong answers, not three
    assert reasons(dropped)[2] == "unused: same text as candidate 1"
    assert reasons(dropped)[1] == "not enough verified-wrong candidates (2 < 3)"


def test_choice_is_seeded_and_deterministic():
    groups = [group(f"p{i}", "correct", "correct", "wrong", "wrong", "wrong") for i in range(20)]
    a = pair_pairwise(groups, subset="s", seed=1, provenance=PROV)
    b = pair_pairwise(groups, subset="s", seed=1, provenance=PROV)
    c = pair_pairwise(groups, subset="s", seed=2, provenance=PROV)
    assert [r.to_record() for r in a[0]] == [r.to_record() for r in b[0]]
    assert [d.to_record() for d in a[1]] == [d.to_record() for d in b[1]]
    assert [r.chosen for r in a[0]] != [r.chosen for r in c[0]]


def test_row_ids_depend_only_on_subset_and_group_key():
    one, _ = pair_pairwise([group("k", "correct", "wrong")], subset="s", provenance=PROV)
    two, _ = pair_pairwise([group("other", "correct", "wrong"), group("k", "correct", "wrong")], subset="s", provenance=PROV)
    assert one[0].id == two[1].id


def test_duplicate_group_keys_are_an_error():
    with pytest.raises(PairingError, match="share the key 'p1'"):
        pair_pairwise([group("p1", "correct", "wrong"), group("p1", "correct", "wrong")], subset="s", provenance=PROV)


def test_missing_provenance_is_an_error_naming_the_group():
    with pytest.raises(PairingError, match="group p1: no provenance"):
        pair_pairwise([group("p1", "correct", "wrong")], subset="s")


# --- from scores -------------------------------------------------------------------------------------


def test_from_scores_top_is_chosen_bottom_rejected():
    g = group("p1", None, None, None)
    rows, dropped = pair_from_scores([g], {"p1": {0: 0.2, 1: 1.5, 2: -0.7}}, subset="s", min_margin=1.0, provenance=PROV)
    [row] = rows
    assert (row.chosen, row.rejected) == ("answer 1", "answer 2")
    assert reasons(dropped) == {0: "unused: scored between chosen and rejected"}
    assert json.loads(row.provenance.extra)["pairing"]["margin"] == pytest.approx(2.2)


def test_from_scores_below_margin_drops_the_group():
    rows, dropped = pair_from_scores([group("p1", None, None)], {"p1": {0: 0.5, 1: 0.4}}, subset="s", min_margin=0.5, provenance=PROV)
    assert rows == []
    assert set(reasons(dropped).values()) == {"margin 0.1 below min_margin 0.5"}


def test_from_scores_never_chooses_a_candidate_verified_wrong():
    g = group("p1", "wrong", "correct", None)
    rows, _ = pair_from_scores([g], {"p1": {0: 9.0, 1: 1.0, 2: 0.0}}, subset="s", provenance=PROV)
    assert rows[0].chosen == "answer 1"


def test_judge_scores_file_feeds_pairing(tmp_path: Path):
    path = tmp_path / "judge.jsonl"
    path.write_text("".join(json.dumps({"key": "p1", "index": i, "score": s}) + "\n" for i, s in enumerate([3, 9, 1])))
    scores = judge_scores(path)
    rows, _ = pair_from_scores([group("p1", None, None, None)], scores, subset="s", provenance=PROV)
    assert (rows[0].chosen, rows[0].rejected) == ("answer 1", "answer 2")


def test_judge_scores_bad_row_names_file_and_line(tmp_path: Path):
    path = tmp_path / "judge.jsonl"
    path.write_text('{"key": "p1", "index": 0, "score": 1}\n{"key": "p1", "index": 1}\n')
    with pytest.raises(PairingError, match=r"judge.jsonl:2 score: missing"):
        judge_scores(path)


def test_eval_scores_map_back_to_candidates_through_scoring_rows(tmp_path: Path):
    groups = [group("p1", None, None, None)]
    [rec] = scoring_rows(groups, "s")
    [pair] = pairs_from_records([rec], "rows")  # what rbkit eval reads
    assert pair.completions == ("answer 0", "answer 1", "answer 2")
    # scores.parquet as rbkit eval writes it: scores in the pair's completion order
    table = scores_table([RowScore(pair.id, "s", (0.1, 0.3, 0.9), 1, 0.0, False, False)])
    pq.write_table(table, tmp_path / "scores.parquet")
    assert eval_scores(tmp_path, groups) == {"p1": {0: 0.1, 1: 0.3, 2: 0.9}}


# --- the registered steps a spec names ------------------------------------------------------------


def test_registered_best_of_n_step_pairs_from_a_judge_scores_file(tmp_path: Path):
    from rbkit.curation.pipeline import BuildContext, BuildOptions
    from rbkit.curation.steps_registry import make_step

    path = tmp_path / "judge.csv"
    path.write_text("key,index,score\np1,0,0.9\np1,1,0.1\np1,2,0.5\np1,3,0.2\n")
    entry, step = make_step("pairing:best-of-n", {"n": 3, "chosen_from": "scores", "scores": str(path), "min_margin": 0.2})
    assert entry.stage == "pairing"
    g = group("p1", None, None, None, None)
    g.meta["provenance"] = {k: v for k, v in PROV.to_record().items() if k not in ("filters_passed", "verification", "review")}
    result = step([g], BuildContext("s", BuildOptions()))
    [row] = result.kept
    assert row.chosen == ("answer 0",) and set(row.rejected) == {"answer 1", "answer 3"}
    assert result.report["rows"] == 1 and result.report["dropped"] == {"unused: scored between chosen and rejected": 1}


def test_registered_step_refuses_a_best_of_n_below_two():
    from rbkit.curation.steps_registry import StepParamsError, make_step

    with pytest.raises(StepParamsError, match="n must be an integer of at least 2"):
        make_step("pairing:best-of-n", {"n": 1})


def test_scores_may_name_a_prompt_by_the_id_after_its_source_key():
    g = CandidateGroup("generated:q1", "Q?", [cand(0, None), cand(1, None)])
    rows, _ = pair_from_scores([g], {"q1": {0: 0.0, 1: 1.0}}, subset="s", provenance=PROV)
    assert rows[0].chosen == "answer 1" and rows[0].provenance.row_key == "generated:q1"
