from __future__ import annotations

import dataclasses
import time
from collections import Counter
from pathlib import Path

import pytest
from rbkit.curation.errors import SourceMissingError, SourceRowError
from rbkit.curation.pipeline import BuildContext, BuildOptions, run_steps
from rbkit.curation.registry import get, select
from rbkit.curation.rows import DroppedRow, TrioRow
from rbkit.curation.sources import SourceFile, sha256_file
from rbkit.curation.validate import validate_records
from rbkit.subsets import hh_rlhf, hhh_alignment, mtbench_judgments, shp, summarize
from rbkit.subsets import prior_sets as ps

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "prior_sets"


def ctx(subset: str, **options) -> BuildContext:
    return BuildContext(subset=subset, options=BuildOptions(**options))


def pinned_to(src: SourceFile, path: Path) -> SourceFile:
    """The same source, pinned to a fixture's bytes (readers take the resolved path)."""
    return dataclasses.replace(src, sha256=sha256_file(path))


def split(items) -> tuple[list[TrioRow], list[DroppedRow]]:
    items = list(items)
    return [i for i in items if isinstance(i, TrioRow)], [i for i in items if isinstance(i, DroppedRow)]


def assert_valid(rows: list[TrioRow]) -> None:
    # Every source module records the section's one builder name and version (build bytes).
    assert {(r.provenance.builder, r.provenance.builder_version) for r in rows} == {("subsets.prior_sets", "1")}
    _, violations = validate_records("<test>", ((i, r.to_record()) for i, r in enumerate(rows, 1)))
    assert violations == []


# --- parsing ---------------------------------------------------------------------------------


def test_parse_dialogue_hh_format():
    text = "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Bye"
    assert ps.parse_dialogue(text) == [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"},
    ]


def test_parse_dialogue_needs_a_leading_role_for_unmarked_text():
    with pytest.raises(ValueError, match="before the first"):
        ps.parse_dialogue("no marker here")
    assert ps.parse_dialogue("plain question", leading_role="user") == [{"role": "user", "content": "plain question"}]


def test_hh_pair_reports_why_a_row_is_not_a_pair():
    assert hh_rlhf.hh_pair("\n\nHuman: a\n\nAssistant: x", "\n\nHuman: b\n\nAssistant: y") == "dialogues differ before the final turn"
    assert hh_rlhf.hh_pair("\n\nHuman: a\n\nAssistant: x", "\n\nHuman: a\n\nAssistant: x") == "chosen and rejected responses are identical"


# --- fixtures in the upstream formats --------------------------------------------------------


def test_hhh_label_one_is_chosen_and_multiturn_inputs_become_messages():
    path = FIX / "hhh_alignment" / "honest.json"
    src = pinned_to(hhh_alignment.HHH_SOURCES[2], path)
    rows, dropped = split(hhh_alignment.hhh_rows("anthropic_hhh", src, path, ctx("anthropic_hhh")))
    assert dropped == [] and len(rows) == 3
    assert rows[0].chosen == "It is 100 degrees Celsius." and rows[0].rejected == "It is 90 degrees Celsius."
    assert rows[2].chosen == "No, it is made of rock."  # labels [0, 1]
    assert [m["role"] for m in rows[1].prompt] == ["user", "assistant", "user"]
    assert rows[1].prompt[1]["content"] == "Sure, what kind of birds interest you?"
    assert rows[0].provenance.row_key == "honest.json#0"
    assert_valid(rows)


def test_hhh_bad_labels_name_file_row_and_field(tmp_path: Path):
    path = tmp_path / "honest.json"
    path.write_text('{"input":"q","targets":{"choices":["a","b"],"labels":[1,1]}}\n')
    src = pinned_to(hhh_alignment.HHH_SOURCES[2], path)
    with pytest.raises(SourceRowError, match=r"honest.json:1 targets.labels"):
        list(hhh_alignment.hhh_rows("anthropic_hhh", src, path, ctx("anthropic_hhh")))
    kept = list(hhh_alignment.hhh_rows("anthropic_hhh", src, path, ctx("anthropic_hhh", keep_going=True)))
    assert len(kept) == 1 and isinstance(kept[0], DroppedRow) and kept[0].location.endswith("targets.labels")


def test_hh_rlhf_final_assistant_turns_become_the_pair():
    path = FIX / "hh-rlhf" / "harmless-base" / "test.jsonl.gz"
    src = pinned_to(hh_rlhf.HH_HARMLESS, path)
    rows, dropped = split(hh_rlhf.hh_rows("anthropic_harmless", src, path, ctx("anthropic_harmless")))
    assert len(rows) == 2
    assert rows[0].prompt == ({"role": "user", "content": "How do I boil an egg?"},)
    assert rows[0].chosen == "Put it in boiling water for nine minutes."
    assert rows[0].rejected == "Eggs are laid by hens."
    assert [m["role"] for m in rows[1].prompt] == ["user", "assistant", "user"]
    assert rows[1].chosen.startswith("Why did the cat")
    assert sorted(d.reason for d in dropped) == [
        "dialogues differ before the final turn",
        "empty final response",
        "turns do not alternate between user and assistant",
    ]
    assert all(d.step == "source" and d.location.startswith(src.mirror_path + ":") for d in dropped)
    assert_valid(rows)


def test_shp_builder_and_steps_keep_one_clear_pair_per_post():
    path = FIX / "shp" / "test.parquet"
    src = pinned_to(shp.SHP_TEST, path)
    spec = get("shp")
    c = ctx("shp")
    outcome = run_steps("shp", shp.shp_rows("shp", src, path, c), spec.steps, c, time.perf_counter)
    assert [r.chosen for r in outcome.rows] == ["The best answer.", "Comment two."]
    assert outcome.rows[1].rejected == "Comment one."  # labels == 0: B preferred
    assert Counter(d.step for d in outcome.dropped) == {
        "filter:shp:score-ratio": 1,
        "filter:shp:votes": 1,
        "shp:one-per-post": 1,
    }
    assert_valid(outcome.rows)


def test_summarize_choice_picks_the_summary_and_policies_are_models():
    path = FIX / "summarize_from_feedback" / "comparisons-validation.parquet"
    src = pinned_to(summarize.SUMMARIZE_VALIDATION, path)
    rows, dropped = split(summarize.summarize_rows("summarize", src, path, ctx("summarize")))
    assert len(rows) == 2
    assert rows[0].chosen == " friend forgot my birthday, I'm hurt" and rows[0].chosen_model == "sup4_ppo_rm3_kl10"
    assert rows[1].prompt[0]["content"] == "A storm hit the coast on Monday."  # CNN/DM rows: the article
    assert rows[1].chosen_model == "ref"
    assert [d.reason for d in dropped] == ["chosen and rejected summaries are identical"]
    assert_valid(rows)


def test_mtbench_turn_one_pairs_ties_and_turn_two_dropped():
    path = FIX / "mt_bench_human_judgments" / "human.parquet"
    src = pinned_to(mtbench_judgments.MTBENCH_HUMAN, path)
    rows, dropped = split(mtbench_judgments.mtbench_rows("mtbench_human", src, path, ctx("mtbench_human")))
    assert [(r.chosen, r.chosen_model, r.rejected_model) for r in rows] == [
        ("Rain taps the window", "gpt-4", "llama-13b"),
        ("It rains a lot", "llama-13b", "gpt-4"),
    ]
    assert rows[0].prompt == ({"role": "user", "content": "Write a haiku about rain."},)
    assert [d.reason for d in dropped] == [
        "no preference: winner is 'tie'",
        "turn 2: the conversations differ before the judged answer",
    ]
    assert_valid(rows)


def test_parquet_source_missing_a_column_fails_clearly(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "test.parquet"
    pq.write_table(pa.table({"post_id": ["p"]}), path)
    with pytest.raises(SourceRowError, match="column missing"):
        list(shp.shp_rows("shp", pinned_to(shp.SHP_TEST, path), path, ctx("shp")))


# --- registration and the real mirror -------------------------------------------------------


def test_prior_sets_section_registers_the_seven_subsets():
    """Each source module registers its subsets; all record the section's one builder name."""
    names = {s.name for s in select(["prior-sets"])}
    assert names == {
        "anthropic_hhh", "anthropic_harmless", "anthropic_helpful", "shp", "summarize", "mtbench_human", "mtbench_gpt4",
    }
    assert all(s.section == "Prior Sets" for s in select(["prior-sets"]))


def test_missing_source_fails_with_source_missing_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RBKIT_SOURCES", str(tmp_path))
    with pytest.raises(SourceMissingError, match="hh-rlhf/helpful-base/test"):
        list(get("anthropic_helpful").build(ctx("anthropic_helpful")))


def test_anthropic_hhh_from_mirror_has_221_pairs(mirror: Path):
    spec = get("anthropic_hhh")
    c = ctx("anthropic_hhh")
    outcome = run_steps("anthropic_hhh", spec.build(c), spec.steps, c, time.perf_counter)
    assert len(outcome.rows) == 221 and outcome.dropped == []
    assert Counter(r.provenance.extra_dict()["category"] for r in outcome.rows) == {
        "harmless": 58, "helpful": 59, "honest": 61, "other": 43,
    }
    assert_valid(outcome.rows)


def test_anthropic_harmless_from_mirror_drops_only_unusable_dialogues(mirror: Path):
    spec = get("anthropic_harmless")
    c = ctx("anthropic_harmless")
    outcome = run_steps("anthropic_harmless", spec.build(c), spec.steps, c, time.perf_counter)
    # 2312 upstream rows; preference-test-sets has 2266 (its filter is unpublished)
    assert len(outcome.rows) + len(outcome.dropped) == 2312
    assert Counter(d.reason for d in outcome.dropped) == {
        "dialogues differ before the final turn": 5,
        "empty final response": 4,
        "turns do not alternate between user and assistant": 4,
    }
    assert len({r.id for r in outcome.rows}) == len(outcome.rows)
    assert_valid(outcome.rows)
