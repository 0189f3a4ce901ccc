"""Answer orders, row credits and the judge statistics, on hand-made verdicts."""

from __future__ import annotations

import pytest
from rbkit.eval.data import Pair
from rbkit.eval.generation.types import Completion, SamplingParams
from rbkit.eval.judge.plan import plan_pairwise, plan_ratings, single_order
from rbkit.eval.judge.prompts import JudgePrompt
from rbkit.eval.judge.tally import judge_all, judge_block, pairwise_rows, rating_rows

PAIRWISE = JudgePrompt("t-pair", "pairwise", "Judge.", "{question}|A={answer_a}|B={answer_b}")
SINGLE = JudgePrompt("t-single", "single", "Rate.", "{question}|{answer}")
PARAMS = SamplingParams(max_new_tokens=8)


def pair(i: int, subset: str = "s") -> Pair:
    return Pair(f"p{i}", subset, (("user", f"q{i}"),), (f"good{i}",), (f"bad{i}",))


def answer(planned, texts):
    return [Completion(p.request.id, t, "stop" if t != "ERR" else "error", 1, 1, "m",
                       error="boom" if t == "ERR" else None) for p, t in zip(planned, texts, strict=True)]


def test_both_orders_show_each_answer_first_once() -> None:
    planned = plan_pairwise([pair(0)], PAIRWISE, PARAMS, orders=2, seed=0)
    users = [p.request.messages[-1].content for p in planned]
    assert users == ["q0|A=good0|B=bad0", "q0|A=bad0|B=good0"]


def test_single_order_is_seeded_by_pair_id_and_varies_across_pairs() -> None:
    pairs = [pair(i) for i in range(40)]
    first = [p.slot for p in plan_pairwise(pairs, PAIRWISE, PARAMS, orders=1, seed=0)]
    again = [p.slot for p in plan_pairwise(list(reversed(pairs)), PAIRWISE, PARAMS, orders=1, seed=0)]
    assert first == list(reversed(again)) and set(first) == {"ab", "ba"}
    assert [single_order(p, 1) for p in pairs] != [single_order(p, 0) for p in pairs]


def test_credit_and_position_statistics() -> None:
    pairs = [pair(0), pair(1), pair(2), pair(3)]
    planned = plan_pairwise(pairs, PAIRWISE, PARAMS, orders=2, seed=0)
    # p0: chosen wins both; p1: A both times (flips with order); p2: unparseable + chosen; p3: error + loses
    texts = ["[[A]]", "[[B]]", "[[A]]", "[[A]]", "no idea", "[[B]]", "ERR", "[[A]]"]
    judged = judge_all(planned, answer(planned, texts), "pairwise")
    rows = pairwise_rows(pairs, judged)
    assert [r.credit for r in rows] == [1.0, 0.5, 0.75, 0.25]
    assert [r.tie for r in rows] == [False, True, False, False]
    stats = judge_block(pairs, judged, 2, "pairwise")["overall"]
    assert stats == {"position_consistency": 0.5, "first_position_rate": 4 / 6, "unparseable": 1, "errors": 1,
                     "requests": 8}


def test_one_order_has_no_consistency() -> None:
    pairs = [pair(0)]
    planned = plan_pairwise(pairs, PAIRWISE, PARAMS, orders=1, seed=0)
    judged = judge_all(planned, answer(planned, ["[[A]]"]), "pairwise")
    assert judge_block(pairs, judged, 1, "pairwise")["overall"]["position_consistency"] is None


def test_best_of_n_rows_need_ratings() -> None:
    bon = Pair("b", "Focus", (("user", "q"),), ("c",), ("r1", "r2", "r3"), best_of_n=True)
    with pytest.raises(Exception, match="ratings"):
        plan_pairwise([bon], PAIRWISE, PARAMS, orders=2, seed=0)


def test_ratings_credit_best_of_n_with_shared_top_and_unparseable() -> None:
    rows_in = [Pair("b1", "Focus", (("user", "q"),), ("c",), ("r1", "r2", "r3"), best_of_n=True),
               Pair("b2", "Focus", (("user", "q2"),), ("c",), ("r1", "r2", "r3"), best_of_n=True)]
    planned = plan_ratings(rows_in, SINGLE, PARAMS)
    texts = ["[[9]]", "[[9]]", "[[3]]", "junk",  # b1: chosen shares the top with one other -> 1/2
             "junk", "[[2]]", "[[1]]", "[[1]]"]  # b2: chosen unreadable (0) -> 0
    judged = judge_all(planned, answer(planned, texts), "ratings")
    rows = rating_rows(rows_in, judged, "wrong")
    assert [r.credit for r in rows] == [0.5, 0.0] and rows[0].scores == (9.0, 9.0, 3.0, 0.0)
    assert judge_block(rows_in, judged, 1, "ratings")["subsets"]["Focus"]["unparseable"] == 2
