"""DPO implicit rewards: chunked log-probs equal the textbook ones; reductions; reference model."""

from __future__ import annotations

import math

import pytest
import torch
from rbkit.eval.batching import collate
from rbkit.eval.dpo import load_causal_lm, reduce, response_logps
from rbkit.eval.heads import LoadOptions
from rbkit.eval.models import resolve
from rbkit.eval.render import EncodedPair
from rbkit.eval.runner import EvalConfig, run


def batch_of(seqs, starts):
    return collate(list(range(len(seqs))), [EncodedPair([s], [st]) for s, st in zip(seqs, starts, strict=True)], pad_id=0)


def test_chunked_gather_equals_full_log_softmax(tiny_lm):
    model = load_causal_lm(resolve(str(tiny_lm)), LoadOptions())
    seqs = [[1, 10, 11, 12, 13, 14, 2], [1, 20, 21, 2]]
    starts = [3, 2]
    batch = batch_of(seqs, starts)
    lp, owner = response_logps(model, batch, chunk_bytes=4 * model.config.vocab_size)  # one row per chunk
    expected = []
    with torch.no_grad():
        for s, start in zip(seqs, starts, strict=True):
            logits = model(torch.tensor([s])).logits[0].double()
            full = torch.log_softmax(logits, dim=-1)
            expected += [float(full[t - 1, s[t]]) for t in range(start, len(s))]
    assert owner.tolist() == [0] * 4 + [1] * 2
    assert lp.tolist() == pytest.approx(expected, abs=1e-5)


def test_reductions():
    lp = torch.tensor([-1.0, -2.0, -2.0, -0.5], dtype=torch.float64)
    owner = torch.tensor([0, 0, 0, 1])
    assert reduce(lp, owner, 2, "sum").tolist() == [-5.0, -0.5]
    assert reduce(lp, owner, 2, "avg").tolist() == pytest.approx([-5 / 3, -0.5])
    assert reduce(lp, owner, 2, "norm").tolist() == pytest.approx([-3.0, -0.5])


def test_policy_equal_to_reference_ties_every_pair(tiny_lm, rows_70):
    outcome = run(EvalConfig(model=str(tiny_lm), ref_model=str(tiny_lm), dataset=str(rows_70), bootstrap=0,
                             cache=False, progress=False))
    assert outcome.results["kind"] == "dpo" and outcome.results["config"]["reduction"] == "ref"
    assert all(r.scores == (0.0, 0.0) and r.tie for r in outcome.rows)
    assert all(s["ties"] == s["n"] and s["accuracy"] == 0.0 for s in outcome.results["subsets"].values())
    half = run(EvalConfig(model=str(tiny_lm), ref_model=str(tiny_lm), dataset=str(rows_70), bootstrap=0,
                          cache=False, progress=False, ties="half"))
    assert all(s["accuracy"] == 0.5 for s in half.results["subsets"].values())


def test_reference_free_sum_is_the_sum_of_response_logps(tiny_lm, rows_70):
    avg = run(EvalConfig(model=str(tiny_lm), kind="dpo", reduction="avg", dataset=str(rows_70), bootstrap=0,
                         cache=False, progress=False))
    total = run(EvalConfig(model=str(tiny_lm), kind="dpo", reduction="sum", dataset=str(rows_70), bootstrap=0,
                           cache=False, progress=False))
    assert all(s < 0 for r in total.rows for s in r.scores)
    assert all(math.isfinite(s) for r in avg.rows for s in r.scores)
    # avg = sum / tokens, so the two disagree on some pairs with different lengths
    assert [r.credit for r in avg.rows] != [r.credit for r in total.rows]
