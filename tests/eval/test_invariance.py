"""Scores do not depend on batch size, order or padding (defect 1 of the original)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from rbkit.eval.runner import EvalConfig, run


def shuffled(src: Path, dest: Path) -> Path:
    lines = src.read_text().splitlines(keepends=True)
    random.Random(7).shuffle(lines)
    dest.write_text("".join(lines))
    return dest


def scores_by_key(outcome) -> dict[tuple[str, str], tuple[tuple[float, ...], float]]:
    return {(r.subset, r.id): (r.scores, r.credit) for r in outcome.rows}


def check_invariant(model: Path, rows: Path, tmp_path: Path, **kw) -> None:
    runs = {}
    for name, dataset, batch in (("b1", rows, 1), ("b7", rows, 7), ("b64", rows, 64),
                                 ("shuffled", shuffled(rows, tmp_path / "shuffled.jsonl"), 7)):
        cfg = EvalConfig(model=str(model), dataset=str(dataset), batch_size=batch, max_tokens=10**7, bootstrap=0,
                         cache=False, progress=False, **kw)
        outcome = run(cfg)
        assert outcome.results["run"]["rows_scored"] == 70
        runs[name] = scores_by_key(outcome)
    ref = runs["b1"]
    ties = sum(1 for s, _ in ref.values() if s[0] == s[1])
    assert ties == 0, "random model gave exact ties; the test would not see a flipped decision"
    for name, got in runs.items():
        assert got.keys() == ref.keys()
        for key, (scores, credit) in got.items():
            assert credit == ref[key][1], f"{name}: decision changed for {key}"
            for a, b in zip(scores, ref[key][0], strict=True):
                assert abs(a - b) <= 1e-5, f"{name}: {key} score {a} vs {b}"


def test_classifier_scores_do_not_depend_on_batching(tiny_rm, rows_70, tmp_path):
    check_invariant(tiny_rm, rows_70, tmp_path)


def test_dpo_scores_do_not_depend_on_batching(tiny_lm, rows_70, tmp_path):
    check_invariant(tiny_lm, rows_70, tmp_path, kind="dpo", reduction="sum")


def test_padding_is_real_in_these_batches(tiny_rm, rows_70):
    """The invariance above is only meaningful if batches mix lengths (so padding exists)."""
    lengths = {len(json.loads(line)["chosen"]) for line in rows_70.read_text().splitlines()}
    assert len(lengths) > 10
    outcome = run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), batch_size=64, max_tokens=10**7,
                             bootstrap=0, cache=False, progress=False))
    assert outcome.results["run"]["padding_fraction"] > 0.05


@pytest.mark.parametrize("budget", [64, 500, 4000])
def test_token_budget_changes_batches_not_scores(tiny_rm, rows_70, budget):
    base = run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), bootstrap=0, cache=False, progress=False))
    other = run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), max_tokens=budget, bootstrap=0, cache=False,
                           progress=False))
    a, b = scores_by_key(base), scores_by_key(other)
    assert all(abs(x - y) <= 1e-5 for k in a for x, y in zip(a[k][0], b[k][0], strict=True))
