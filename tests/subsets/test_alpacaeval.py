import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext, BuildOptions, SubsetOutcome, run_steps
from rbkit.curation.registry import get
from rbkit.curation.rows import DroppedRow, TrioRow
from rbkit.curation.sources import SourceFile, sha256_file
from rbkit.curation.text_filters import length_ratio
from rbkit.subsets import alpacaeval as ae

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EASY = ae.PAIRINGS[0]


@pytest.fixture
def fixture_mirror(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RBKIT_SOURCES", str(FIXTURES))
    return FIXTURES


def fixture_source(model: str, root: Path = FIXTURES) -> SourceFile:
    """The pinned upstream SourceFile, re-pinned to the hand-written fixture in the same layout."""
    src = ae.output_source(model)
    return replace(src, sha256=sha256_file(root / src.mirror_path), size=None)


def run_fixture(options: BuildOptions, sources: tuple[SourceFile, SourceFile] | None = None) -> SubsetOutcome:
    ctx = BuildContext(EASY.subset, options)
    sources = sources or (fixture_source("gpt4_turbo"), fixture_source("alpaca-7b"))
    return run_steps(EASY.subset, ae.build_pairs(EASY, ctx, sources), ae.steps_for(EASY), ctx, time.perf_counter)


def dropped_by_key(outcome: SubsetOutcome) -> dict[str, DroppedRow]:
    return {d.row["provenance"]["row_key"]: d for d in outcome.dropped if d.row is not None}


def test_pairs_are_joined_on_the_instruction_not_the_position(fixture_mirror):
    ctx = BuildContext(EASY.subset, BuildOptions())
    items = list(ae.build_pairs(EASY, ctx, (fixture_source("gpt4_turbo"), fixture_source("alpaca-7b"))))
    rows = [r for r in items if isinstance(r, TrioRow)]
    chosen = json.loads((FIXTURES / "alpacaeval/results/gpt4_turbo/model_outputs.json").read_text())
    rejected = {r["instruction"]: r["output"] for r in json.loads((FIXTURES / "alpacaeval/results/alpaca-7b/model_outputs.json").read_text())}
    assert len(rows) == 12  # 13 chosen rows, one without a rejected output
    for row in rows:
        index = row.provenance.extra_dict()["chosen_index"]
        assert row.prompt == chosen[index]["instruction"]
        assert row.chosen == chosen[index]["output"]
        assert row.rejected == rejected[row.prompt]
        assert (row.chosen_model, row.rejected_model) == ("gpt4_turbo", "alpaca-7b")
    # the file without the "chosen-only" row is shifted by one after it
    after = next(r for r in rows if r.provenance.row_key == "alpaca_eval#10")
    assert after.provenance.extra_dict()["rejected_index"] == 9


def test_instructions_missing_from_one_file_are_reported(fixture_mirror):
    ctx = BuildContext(EASY.subset, BuildOptions())
    items = list(ae.build_pairs(EASY, ctx, (fixture_source("gpt4_turbo"), fixture_source("alpaca-7b"))))
    joins = sorted((d.reason, d.location) for d in items if isinstance(d, DroppedRow))
    assert joins == [
        ("no output from alpaca-7b for this instruction", "alpacaeval/results/gpt4_turbo/model_outputs.json:9 instruction"),
        ("no output from gpt4_turbo for this instruction", "alpacaeval/results/alpaca-7b/model_outputs.json:13 instruction"),
    ]


def test_every_artefact_is_dropped_with_its_reason(fixture_mirror):
    outcome = run_fixture(BuildOptions(keep_all=True))
    drops = {k: (d.step, d.reason) for k, d in dropped_by_key(outcome).items()}
    assert drops == {
        "alpaca_eval#1": ("filter:nonempty", "chosen: empty"),
        "alpaca_eval#2": ("filter:complete", "rejected: truncated: ends on a function word"),
        "alpaca_eval#3": ("filter:no_refusal[chosen]", "chosen: refusal"),
        "alpaca_eval#4": ("filter:distinct", "pair: chosen and rejected are the same text"),
        "alpaca_eval#5": ("filter:no_template_leak", "rejected: chat template leaked into the response"),
        "alpaca_eval#6": ("filter:english", "chosen: not English: foreign function words outnumber English ones"),
        "alpaca_eval#7": ("filter:encoding", "chosen: broken encoding: mojibake sequence"),
        "alpaca_eval#9": ("filter:dedup", "exact-duplicate prompt of an earlier row"),
    }
    assert [r.provenance.row_key for r in outcome.rows] == ["alpaca_eval#0", "alpaca_eval#10", "alpaca_eval#11", "alpaca_eval#12"]


def test_refusal_drop_carries_the_detector_evidence(fixture_mirror):
    evidence = json.loads(dropped_by_key(run_fixture(BuildOptions(keep_all=True)))["alpaca_eval#3"].evidence)
    assert evidence["label"] == "refuse" and evidence["rule"] and evidence["cue"]


def test_kept_rows_record_every_filter_they_passed(fixture_mirror):
    row = run_fixture(BuildOptions(keep_all=True)).rows[0]
    assert row.provenance.filters_passed == (
        "nonempty", "encoding", "english", "complete", "no_template_leak", "distinct", "no_refusal[chosen]", "dedup",
    )


def test_selection_is_seeded_and_target_size_overrides(fixture_mirror):
    a = run_fixture(BuildOptions(target_size=2))
    b = run_fixture(BuildOptions(target_size=2))
    assert len(a.rows) == 2 and [r.id for r in a.rows] == [r.id for r in b.rows]
    selects = [d for d in a.dropped if d.step == "select"]
    assert len(selects) == 2 and all("target size 2" in d.reason for d in selects)
    picks = {tuple(r.id for r in run_fixture(BuildOptions(target_size=2, seed=s)).rows) for s in range(8)}
    assert len(picks) > 1  # the seed changes the pick


def copy_mirror(tmp_path: Path) -> Path:
    for model in ("gpt4_turbo", "alpaca-7b"):
        rel = f"alpacaeval/results/{model}/model_outputs.json"
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes((FIXTURES / rel).read_bytes())
    return tmp_path


def test_a_malformed_row_names_file_row_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = copy_mirror(tmp_path)
    target = root / "alpacaeval/results/alpaca-7b/model_outputs.json"
    data = json.loads(target.read_text())
    data[3]["output"] = 42
    target.write_text(json.dumps(data))
    monkeypatch.setenv("RBKIT_SOURCES", str(root))
    sources = (fixture_source("gpt4_turbo", root), fixture_source("alpaca-7b", root))
    with pytest.raises(SourceRowError, match=r"alpacaeval/results/alpaca-7b/model_outputs.json:4 output: expected a string"):
        run_fixture(BuildOptions(), sources)
    outcome = run_fixture(BuildOptions(keep_going=True, keep_all=True), sources)
    bad = [d for d in outcome.dropped if d.step == "source"]
    assert [d.location for d in bad] == ["alpacaeval/results/alpaca-7b/model_outputs.json:4 output"]


def test_a_row_from_another_generator_is_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = copy_mirror(tmp_path)
    target = root / "alpacaeval/results/gpt4_turbo/model_outputs.json"
    data = json.loads(target.read_text())
    data[0]["generator"] = "gpt4"
    target.write_text(json.dumps(data))
    monkeypatch.setenv("RBKIT_SOURCES", str(root))
    src = fixture_source("gpt4_turbo", root)
    with pytest.raises(SourceRowError, match=r":1 generator: expected 'gpt4_turbo', got 'gpt4'"):
        ae.read_outputs(src, "gpt4_turbo", target, BuildContext(EASY.subset, BuildOptions()))


def test_subsets_are_registered_with_sizes_sections_and_length_bias():
    specs = {p.subset: get(p.subset) for p in ae.PAIRINGS}
    assert {k: (s.expected, s.section, s.length_bias, s.license) for k, s in specs.items()} == {
        "alpacaeval-easy": (100, "Chat", "longer", "CC-BY-NC-4.0"),
        "alpacaeval-length": (95, "Chat", "none", "CC-BY-NC-4.0"),
        "alpacaeval-hard": (95, "Chat", "longer", "CC-BY-NC-4.0"),
    }
    assert any(s.name.startswith("length_window") for s in specs["alpacaeval-length"].steps)
    assert not any(s.name.startswith("length_window") for s in specs["alpacaeval-easy"].steps)


# --- the real mirror ---------------------------------------------------------------------------


@pytest.mark.slow
def test_mirror_builds_the_published_sizes_deterministically(mirror):
    from rbkit.curation.build import build_subset

    sizes, ids = {}, {}
    for pairing in ae.PAIRINGS:
        first = build_subset(get(pairing.subset), BuildOptions())
        second = build_subset(get(pairing.subset), BuildOptions())
        assert [r.to_record() for r in first.rows] == [r.to_record() for r in second.rows]
        assert [d.to_record() for d in first.dropped] == [d.to_record() for d in second.dropped]
        sizes[pairing.subset] = len(first.rows)
        ids[pairing.subset] = {r.id for r in first.rows}
        assert first.report["candidates"] == 805
        # every candidate is either kept or dropped with a reason
        assert len(first.rows) + len(first.dropped) == 805
        assert all(d.reason for d in first.dropped)
        for row in first.rows:
            assert row.chosen.strip() and row.rejected.strip() and row.chosen != row.rejected
    assert sizes == {"alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95}


@pytest.mark.slow
def test_mirror_length_subset_stays_in_its_window_and_is_not_solved_by_length(mirror):
    from rbkit.curation.build import build_subset
    from rbkit.curation.gates import rulers

    outcome = build_subset(get("alpacaeval-length"), BuildOptions())
    lo, hi = ae.LENGTH_WINDOW
    assert all(lo <= length_ratio(r.chosen, r.rejected) <= hi for r in outcome.rows)
    table = rulers(outcome.rows)
    assert 0.35 < table["longer"]["accuracy"] < 0.7


@pytest.mark.slow
def test_mirror_all_keeps_every_survivor(mirror):
    from rbkit.curation.build import build_subset

    outcome = build_subset(get("alpacaeval-hard"), BuildOptions(keep_all=True))
    assert len(outcome.rows) > 95 and not any(d.step == "select" for d in outcome.dropped)
