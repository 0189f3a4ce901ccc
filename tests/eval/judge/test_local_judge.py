"""`--kind judge` with the local transformers backend (SmolLM2) on a few rows, and `rbkit report`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from rbkit.eval.data import load_file
from rbkit.eval.judge.plan import single_order
from rbkit.eval.judge.run import run_judge
from typer.testing import CliRunner

from rbkit.cli import app
from tests.eval.judge.conftest import config

pytestmark = pytest.mark.model


def test_one_order_per_pair_seeded_by_its_id_and_shown_by_report(smollm2_backend, pairs_file: Path, judge_options,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_judge(config(pairs_file, out), smollm2_backend, replace(judge_options, orders=1)).results
    judge = res["judge"]
    assert (judge["backend"], judge["mode"], judge["orders"]) == ("transformers", "pairwise", 1)
    assert judge["overall"]["requests"] == 2 and judge["overall"]["position_consistency"] is None
    slots = [json.loads(line)["slot"] for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert slots == [single_order(p, 0) for p in load_file(pairs_file).pairs]
    assert judge["prompt"]["name"] == "pair-v2-no-tie" and len(judge["prompt"]["sha256"]) == 64
    report = CliRunner().invoke(app, ["report", str(out)], env={"COLUMNS": "100"})
    assert report.exit_code == 0, report.output
    assert "judge: SmolLM2-135M-Instruct (transformers), pairwise, one seeded order" in report.output
    assert "unparseable" in report.output and "judge requests: 2 sent, 0 from cache" in report.output


def test_rewardbench2_best_of_n_and_ties_are_scored_through_ratings(smollm2_backend, rb2_file: Path, judge_options,
                                                                    tmp_path: Path) -> None:
    res = run_judge(config(rb2_file, tmp_path / "out"), smollm2_backend, judge_options).results
    assert res["benchmark"] == "reward-bench-2" and res["judge"]["mode"] == "ratings"
    assert res["judge"]["prompt"]["name"] == "single-v1"
    assert res["judge"]["overall"]["requests"] == 3 + 2 + 3  # every completion rated on its own
    assert res["subsets"]["Focus"]["metric"] == "best-of-n" and res["subsets"]["Ties"]["metric"] == "ties-formula"
    assert res["judge"]["overall"]["first_position_rate"] is None
