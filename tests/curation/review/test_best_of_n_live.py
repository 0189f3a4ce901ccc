"""Best-of-N rows in the real local Argilla: every answer shown, correct rejected answers drop rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rbkit.curation.review.decisions import read_decisions
from rbkit.curation.review.pull import pull
from rbkit.curation.review.push import push
from rbkit.curation.trio_io import read_rows

from tests.curation.review.conftest import BEST_OF_4, Live, best_of_n_rows

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


def dropped_of(build: Path) -> list[dict]:
    return [json.loads(line) for line in (build / "dropped.jsonl").read_text().splitlines() if line.strip()]


def letter_of(record: dict, text: str) -> str:
    (name,) = [name for name, value in record["fields"].items() if name.startswith("answer_") and value == text]
    return name.removeprefix("answer_")


def test_a_rejected_answer_marked_correct_drops_the_row_with_its_reason(live_argilla: Live, best_of_n_build: Path):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(best_of_n_build, target)
    rows = best_of_n_rows()
    records = {int(r["external_id"]): r for r in live_argilla.records(ws, BEST_OF_4)}
    assert records[rows[1].id]["fields"] == {
        "prompt": rows[1].prompt, "chosen": rows[1].chosen[0],
        **{f"rejected_{i + 1}": text for i, text in enumerate(rows[1].rejected)},
    }
    alice = live_argilla.reviewer("alice", ws)
    alice.answer(BEST_OF_4, rows[0].id, "chosen")
    alice.answer(BEST_OF_4, rows[1].id, "chosen", "0.15 x 80 = 12 is right", correct=["rejected_3"])

    pull(best_of_n_build, target)
    kept = {r.id: r for r in read_rows(best_of_n_build / "data" / f"{BEST_OF_4}.parquet")}
    assert sorted(kept) == sorted([rows[0].id, rows[2].id])
    assert kept[rows[0].id].provenance.review.status == "accepted"
    (drop,) = dropped_of(best_of_n_build)
    assert (drop["step"], drop["row"]["id"]) == ("review", rows[1].id)
    assert drop["reason"] == "review: rejected answer 3 actually correct, by alice: 0.15 x 80 = 12 is right"
    assert read_decisions(best_of_n_build)[rows[1].id].rejected_correct == (2,)


def test_blind_best_of_n_maps_letters_back_to_the_rows(live_argilla: Live, best_of_n_build: Path):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(best_of_n_build, target, blind=True)
    rows = best_of_n_rows()
    records = {int(r["external_id"]): r for r in live_argilla.records(ws, BEST_OF_4)}
    assert sorted(records[rows[0].id]["fields"]) == ["answer_a", "answer_b", "answer_c", "answer_d", "prompt"]
    alice = live_argilla.reviewer("alice", ws)
    mul, percent, solve = rows
    alice.answer(BEST_OF_4, mul.id, letter_of(records[mul.id], mul.chosen[0]))
    alice.answer(BEST_OF_4, percent.id, letter_of(records[percent.id], percent.chosen[0]),
                 correct=[letter_of(records[percent.id], percent.rejected[2])])
    alice.answer(BEST_OF_4, solve.id, letter_of(records[solve.id], solve.rejected[0]), "x = 7 checks out")

    report = pull(best_of_n_build, target)
    decisions = read_decisions(best_of_n_build)
    assert {i: (d.label, d.rejected_correct) for i, d in decisions.items()} == {
        mul.id: ("chosen", ()), percent.id: ("chosen", (2,)), solve.id: ("rejected", ()),
    }
    assert [r.id for r in read_rows(best_of_n_build / "data" / f"{BEST_OF_4}.parquet")] == [mul.id]
    reasons = {d["row"]["id"]: d["reason"] for d in dropped_of(best_of_n_build)}
    assert reasons[percent.id].startswith("review: rejected answer 3 actually correct, by alice")
    assert reasons[solve.id] == "review: rejected by alice: x = 7 checks out (best-of-N rows cannot be swapped)"
    assert (report.agreement["with_label"]["agree"], report.agreement["with_label"]["picked"]) == (2, 3)
