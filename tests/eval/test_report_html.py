"""`rbkit report --html`: one self-contained page with every part, holding the result files' numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rbkit.eval.aggregate import aggregate
from rbkit.eval.comparability import assess, label_overall
from rbkit.eval.compare import compare_many
from rbkit.eval.html_report import render_report
from rbkit.eval.report_entry import Entry, PairRow, load_entries
from rbkit.eval.sections import resolve
from result_folders import pair, rb2_result, three_results
from typer.testing import CliRunner

from rbkit.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "published"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("results")
    return [*three_results(base), rb2_result(base)]


@pytest.fixture(scope="module")
def page(folders: list[Path]) -> str:
    return render_report(load_entries(folders), compare_many(folders[:3], resamples=200))


def cell(page: str, model: str, col: str) -> str:
    row = re.search(rf'<tr data-model="{re.escape(model)}">(.*?)</tr>', page, re.S)
    assert row, model
    found = re.search(rf'<td class="num [a-z]+" data-v="([^"]*)" data-col="{re.escape(col)}"', row.group(1))
    assert found, (model, col)
    return found.group(1)


def test_leaderboard_cells_hold_the_numbers_of_the_result_files(folders, page):
    for folder in folders[:3]:
        res = json.loads((folder / "results.json").read_text())
        model = res["model"]["id"]
        for name, o in res["overall"].items():
            assert cell(page, model, f"overall:{name}") == f"{o['value']:.6f}"
        for name, s in res["sections"].items():
            assert cell(page, model, f"section:{name}") == f"{s['score']:.6f}"
        for name, s in res["subsets"].items():
            assert cell(page, model, f"subset:{name}") == f"{s['accuracy']:.6f}"


def test_every_part_of_the_report_is_on_the_page(page):
    assert page.count('<table class="lb"') == 2  # v1 pairs and RewardBench 2 apart
    for chart in ("overall:mean_4_sections", "section:Chat Hard", "subset:llmbar-natural", "subset:Factuality"):
        assert f'data-chart="{chart}"' in page
    assert page.count('data-group="chosen longer"') == 3 and "margin vs length" in page
    assert 'id="ties-table"' in page and re.search(r'tiny-rm</td><td class="num">98</td>.*?>6</td>', page)
    assert 'id="judge-table"' in page and ">75.0%<" in page and ">62.5%<" in page
    assert 'id="bon-table"' in page and 'data-k="4"' in page
    assert page.count('class="comparison"') == 3 and page.count('class="forest-row"') >= 3 * 14


def test_the_page_loads_nothing_from_anywhere(page):
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in page
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page) and " src=" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}


def test_same_results_give_a_byte_identical_page(folders, page):
    assert render_report(load_entries(folders), compare_many(folders[:3], resamples=200)) == page


def test_a_subset_one_result_lacks_is_marked_and_its_overall_is_partial(folders):
    page = render_report(load_entries([folders[1], FIXTURES / "v1"]))
    # the published full model has every core subset; tiny-rm scored six of them
    assert re.search(r'<td class="num missing" data-v="" data-col="subset:hep-cpp" title="not scored in this result">—</td>',
                     page)
    assert cell(page, "tiny-rm", "subset:hep-cpp") == "" and cell(page, "example-org/full-rm", "subset:hep-cpp") != ""
    assert re.search(r'data-model="tiny-rm">.*?<span class="flag partial">partial</span>', page, re.S)
    assert re.search(r'data-model="example-org/full-rm">.*?<span class="flag comparable">comparable</span>', page, re.S)
    assert re.search(r'<td class="num partial" data-v="[0-9.]+" data-col="overall:mean_4_sections" title="partial overall',
                     page)


def test_cli_writes_the_page_and_a_markdown_leaderboard(folders, tmp_path):
    runner = CliRunner()
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", *map(str, folders[:3]), "--html", str(out), "--compare", "--resamples", "100"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert out.read_text().count('class="comparison"') == 3
    md = runner.invoke(app, ["report", *map(str, folders[:3]), "--format", "md"])
    assert md.exit_code == 0, md.output
    res = json.loads((folders[1] / "results.json").read_text())
    ov = res["overall"]["mean_4_sections"]
    expected = f"{100 * ov['value']:.1f}* [{100 * ov['ci95'][0]:.1f}, {100 * ov['ci95'][1]:.1f}]"
    line = next(x for x in md.output.splitlines() if x.startswith("| tiny-rm | partial |"))
    assert line.split(" | ")[2] == expected
    assert "| Model | Comparability | mean_4_sections | paper_v1_5_sections | leaderboard_2_2_2_2_1 |" in md.output


def _big_entry(m: int, n: int) -> Entry:
    rows = [pair(s, str(i), float((i * 7 + m) % 5 > 1), 0.5, (10 + i % 97, 10 + (i * 3) % 89))
            for s in ("llmbar-natural", "donotanswer", "math-prm") for i in range(n)]
    blocks = aggregate(rows, resolve(["llmbar-natural", "donotanswer", "math-prm"]), best_of_n=False, resamples=0, seed=0)
    blocks["comparability"] = assess("reward-bench", {s: n for s in blocks["subsets"]}, {}, provenance="build.json")
    label_overall(blocks["comparability"], "reward-bench", blocks["overall"], blocks["sections"])
    prs = [PairRow(r.subset, r.id, r.scores, 1, r.credit, r.tie, False, r.lengths) for r in rows]
    return Entry(f"org/m{m}", "rbkit", f"/r/{m}", "reward-bench", "classifier", blocks, prs)


def test_the_page_grows_with_models_not_with_pairs():
    """What keeps 50 results fast to open: per-pair marks are capped per model, detail panels
    beyond the third start closed; the rest grows with models x columns only."""
    few, many = render_report([_big_entry(m, 200) for m in range(12)]), render_report([_big_entry(m, 2000) for m in range(12)])
    assert many.count("<circle") == few.count("<circle") <= 12 * (150 + 6)
    assert abs(len(many) - len(few)) < 0.02 * len(few) and len(many) < 400_000
    assert many.count("<details open") == 3


def test_results_on_different_subsets_also_meet_on_the_subsets_they_share(folders):
    page = render_report(load_entries([folders[1], FIXTURES / "v1"]))
    assert ">mean of 3 shared subsets</th>" in page
    metrics = json.loads((FIXTURES / "v1/eval-set/example-org/full-rm.json").read_text())
    expected = sum(metrics[s] for s in ("alpacaeval-easy", "donotanswer", "llmbar-natural")) / 3
    assert cell(page, "example-org/full-rm", "overall:shared") == f"{expected:.6f}"
    res = json.loads((folders[1] / "results.json").read_text())
    mine = sum(res["subsets"][s]["accuracy"] for s in ("alpacaeval-easy", "donotanswer", "llmbar-natural")) / 3
    assert cell(page, "tiny-rm", "overall:shared") == f"{mine:.6f}"
