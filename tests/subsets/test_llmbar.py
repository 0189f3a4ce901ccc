import json
from pathlib import Path

from rbkit.curation.build import run_build
from rbkit.curation.pipeline import BuildOptions
from rbkit.curation.registry import select
from rbkit.curation.validate import validate_path

EXPECTED = {
    "llmbar-natural": 100,
    "llmbar-adver-neighbor": 134,
    "llmbar-adver-GPTInst": 92,
    "llmbar-adver-GPTOut": 47,
    "llmbar-adver-manual": 46,
}


def test_llmbar_builds_the_published_counts_from_the_mirror(mirror, tmp_path: Path):
    result = run_build(select(["llmbar"]), tmp_path / "out", BuildOptions())
    assert {o.subset: len(o.rows) for o in result.outcomes} == EXPECTED
    assert validate_path(tmp_path / "out").ok


def test_llmbar_chosen_follows_the_gold_label(mirror, tmp_path: Path):
    result = run_build(select(["llmbar-natural"]), tmp_path / "out", BuildOptions())
    upstream = json.loads((mirror / "llmbar" / "Natural" / "dataset.json").read_text())
    for row in result.outcomes[0].rows:
        index = json.loads(row.provenance.extra)["index"]
        up = upstream[index]
        assert row.chosen == up[f"output_{up['label']}"]
        assert row.rejected == up[f"output_{3 - up['label']}"]
        assert row.prompt == up["input"] and row.chosen_model == "unknown"


def test_llmbar_ids_are_stable_across_rebuilds(mirror, tmp_path: Path):
    a = run_build(select(["llmbar"]), tmp_path / "a", BuildOptions())
    b = run_build(select(["llmbar"]), tmp_path / "b", BuildOptions(seed=5))
    assert [r.id for o in a.outcomes for r in o.rows] == [r.id for o in b.outcomes for r in o.rows]
