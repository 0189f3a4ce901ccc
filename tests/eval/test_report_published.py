"""Published RewardBench results (v1 and v2 layout) read beside rbkit's, and rbkit's written in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rbkit.eval.errors import ResultsError
from rbkit.eval.leaderboard import build
from rbkit.eval.report_entry import load_entries
from rbkit.eval.rewardbench_export import export_rewardbench
from rbkit.eval.sections import PUBLISHED_COUNTS
from result_folders import rb2_result, three_results
from typer.testing import CliRunner

from rbkit.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "published"


def test_v1_metrics_alone_give_the_published_formulas_without_cis():
    full = next(e for e in load_entries([FIXTURES / "v1"]) if e.name == "example-org/full-rm")
    metrics = json.loads((FIXTURES / "v1/eval-set/example-org/full-rm.json").read_text())
    chat = ("alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med")
    weighted = sum(metrics[s] * PUBLISHED_COUNTS[s] for s in chat) / sum(PUBLISHED_COUNTS[s] for s in chat)
    assert full.results["sections"]["Chat"]["score"] == pytest.approx(weighted)
    assert full.results["sections"]["Prior Sets"]["score"] == pytest.approx((0.6 + 0.75 + 0.55 + 0.62) / 4)
    assert full.results["comparability"]["comparable"] and full.label == "RewardBench overall"
    assert full.results["overall"]["mean_4_sections"]["ci95"] is None and full.origin == "RewardBench results v1"


def test_v1_per_pair_scores_give_cis_ties_and_a_partial_label():
    small = next(e for e in load_entries([FIXTURES / "v1"]) if e.name == "example-org/small-rm")
    sub = small.results["subsets"]["donotanswer"]
    assert sub["accuracy"] == pytest.approx(3 / 5) and sub["n"] == 5 and sub["ties"] == 1 and sub["truncated"] is None
    assert sub["ci95"][0] < 0.6 < sub["ci95"][1]
    assert small.label.startswith("partial overall (3/23 subsets") and not small.notices
    assert len(small.rows) == 18 and small.rows[0].scores == (1.5, 1.0)


def test_v2_best_of_n_and_ties_match_the_published_metrics():
    (bon,) = load_entries([FIXTURES / "v2"])
    metrics = json.loads((FIXTURES / "v2/eval-set/example-org/bon-rm.json").read_text())
    assert bon.benchmark == "reward-bench-2" and not bon.notices  # rows reproduce every published number
    for name in ("Factuality", "Math", "Ties"):
        assert bon.results["subsets"][name]["accuracy"] == pytest.approx(metrics[name])
    assert bon.results["subsets"]["Ties"]["metric"] == "ties-formula"
    assert bon.label == "partial overall (3/6 subsets, short: Factuality 3/475, Math 2/183, Ties 4/102)"


def test_one_file_of_the_layout_is_one_model():
    (e,) = load_entries([FIXTURES / "v1/eval-set/example-org/small-rm.json"])
    assert e.name == "example-org/small-rm" and len(e.rows) == 18


def test_a_bad_field_is_named_with_its_file_and_row(tmp_path):
    bad = tmp_path / "eval-set-scores/org/m.json"
    bad.parent.mkdir(parents=True)
    (tmp_path / "eval-set/org").mkdir(parents=True)
    (tmp_path / "eval-set/org/m.json").write_text(json.dumps({"model": "org/m", "alpacaeval-easy": 1.0}))
    bad.write_text(json.dumps({"id": [0, 1], "subset": ["alpacaeval-easy"] * 2, "results": [1, "x"],
                               "scores_chosen": [1.0, 2.0], "scores_rejected": [0.0, 1.0]}))
    with pytest.raises(ResultsError, match=r"m\.json: row 1, field 'results': expected a number, got 'x'"):
        load_entries([tmp_path])


def _table(entries):
    return [[(r.cells[c.key].value, r.cells[c.key].ci95, r.cells[c.key].state) for c in b.columns]
            for b in build(entries) for r in b.rows]


@pytest.mark.parametrize("which", ["v1", "v2"])
def test_export_then_import_gives_the_same_table(tmp_path, which):
    base = tmp_path / "results"
    folder = three_results(base)[0] if which == "v1" else rb2_result(base)
    (entry,) = load_entries([folder])
    written = export_rewardbench(entry, tmp_path / "rb")
    (back,) = load_entries([tmp_path / "rb"])
    assert _table([back]) == _table([entry])
    assert back.label == entry.label and back.name == entry.name
    names = sorted(str(p.relative_to(tmp_path / "rb")) for p in written)
    model = "HuggingFaceTB/SmolLM2-135M-Instruct" if which == "v1" else "local/tiny-rm"
    expected = [f"eval-set-scores/{model}.json", f"eval-set/{model}.json"]
    if which == "v1":
        expected += [f"pref-sets-scores/{model}.json", f"pref-sets/{model}.json"]
    assert names == sorted(expected)


def test_exported_files_carry_the_original_field_names(tmp_path):
    folder = three_results(tmp_path / "results")[0]
    CliRunner().invoke(app, ["report", str(folder), "--export", "rewardbench", str(tmp_path / "rb")], catch_exceptions=False)
    metrics = json.loads((tmp_path / "rb/eval-set/HuggingFaceTB/SmolLM2-135M-Instruct.json").read_text())
    scores = json.loads((tmp_path / "rb/eval-set-scores/HuggingFaceTB/SmolLM2-135M-Instruct.json").read_text())
    assert metrics["model_type"] == "DPO Ref. Free" and metrics["chat_template"] == "tokenizer"
    assert "anthropic_helpful" not in metrics and 0 <= metrics["llmbar-natural"] <= 1
    assert set(scores) == {"id", "subset", "results", "scores_chosen", "scores_rejected", "model", "model_type",
                           "chat_template"}
    assert scores["id"][0] == 0 and set(scores["results"]) <= {0, 1}
