"""Steps by name: rbkit's own, a package's through the `rbkit.steps` entry-point group, and the
spec's expected-size gate."""

from __future__ import annotations

import shutil
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from rbkit.curation import steps_registry
from rbkit.curation.build import build_subset, run_build
from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.spec_build import SpecNameClash, prepare
from rbkit.curation.step_catalog import ExpectedSizeError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "specs"


def spec_copy(tmp_path: Path, old: str, new: str) -> Path:
    for file in FIXTURES.glob("*.*"):
        shutil.copy(file, tmp_path / file.name)
    path = tmp_path / "pairs.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.setattr(steps_registry, "_STEPS", dict(steps_registry._STEPS))
    monkeypatch.setattr(steps_registry, "_loaded", False)
    yield steps_registry
    sys.modules.pop("short_answers", None)


def test_rbkit_registers_its_filters_verifiers_dedup_and_gates():
    steps = steps_registry.load_steps()
    for name in ("nonempty", "chat_artefacts", "length_window", "dedup", "verify:code", "verify:math",
                 "verify:refusal", "verify:label", "gate:rulers", "gate:expected_size"):
        assert steps[name].stage == "rows", name
    assert steps["length_window"].parameters() == ["low", "high"]


def test_a_package_step_from_the_entry_point_group_is_usable_in_a_spec(fresh_registry, monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(FIXTURES / "plugin"))
    ep = EntryPoint(name="short", value="short_answers", group=steps_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(steps_registry, "entry_points", lambda group: [ep] if group == ep.group else [])
    path = spec_copy(tmp_path, 'name = "chat_artefacts"', 'name = "short_chosen"\nparams = { max_chars = 28 }')
    (declared,) = prepare([path])
    names = [step.name for step in declared.subset.steps]
    assert names[0] == "short_chosen[28]"
    rows = list(declared.subset.build(BuildContext("spec-pairs", BuildOptions())))
    kept = declared.subset.steps[0](rows, BuildContext("spec-pairs", BuildOptions()))
    assert [r.chosen for r in kept.kept] == ["A spider has eight legs.", "A clear daytime sky is blue.", "Two plus two is four."]


def test_fewer_rows_than_expected_fails_before_anything_is_written(tmp_path):
    path = spec_copy(tmp_path, "[expected]\nsize = 3", "[expected]\nsize = 5")
    declared = prepare([path])
    with pytest.raises(ExpectedSizeError, match="spec-pairs: 3 rows survived, 5 expected"):
        run_build([d.subset for d in declared], tmp_path / "out", BuildOptions())
    assert not (tmp_path / "out").exists()


def test_on_short_label_builds_and_records_the_shortfall(tmp_path):
    path = spec_copy(tmp_path, "[expected]\nsize = 3", '[expected]\nsize = 5\non_short = "label"')
    (declared,) = prepare([path])
    outcome = build_subset(declared.subset, BuildOptions())  # the pipeline run_build runs, without the folder
    assert (len(outcome.rows), outcome.report["steps"]["gate:expected_size"]["status"]) == (3, "short")
    assert outcome.report["summary"] == ["short: spec-pairs: 3 rows survived, 5 expected"]


def test_a_spec_may_not_reuse_a_registered_subset_name(tmp_path):
    path = spec_copy(tmp_path, 'name = "spec-pairs"', 'name = "llmbar-natural"')
    with pytest.raises(SpecNameClash, match=r"pairs\.toml:2 name: subset 'llmbar-natural' is already registered"):
        prepare([path])


def test_a_labelled_substitute_takes_the_place_of_the_registered_subset(tmp_path):
    from rbkit.curation.registry import select
    from rbkit.curation.spec_build import combine

    path = spec_copy(tmp_path, 'name = "spec-pairs"\nsection = "Chat"',
                     'name = "llmbar-natural"\nsection = "Chat Hard"\nsubstitute = "hand-written pairs"')
    declared = prepare([path])
    chosen = combine(select(["llmbar"]), declared)
    natural = [s for s in chosen if s.name == "llmbar-natural"]
    assert len(natural) == 1 and natural[0].substitute == "hand-written pairs"
    assert {s.name for s in chosen} == {s.name for s in select(["llmbar"])}


def test_a_substitute_stays_in_the_section_of_the_subset_it_replaces(tmp_path):
    path = spec_copy(tmp_path, 'name = "spec-pairs"', 'name = "llmbar-natural"\nsubstitute = "hand-written pairs"')
    with pytest.raises(SpecNameClash, match=r"pairs\.toml:4 section: a substitute for 'llmbar-natural' belongs to its section 'Chat Hard'"):
        prepare([path])


def test_a_path_parameter_is_relative_to_the_spec_not_the_working_directory(fresh_registry, monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(FIXTURES / "plugin"))
    ep = EntryPoint(name="short", value="short_answers", group=steps_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(steps_registry, "entry_points", lambda group: [ep] if group == ep.group else [])
    path = spec_copy(tmp_path, 'name = "chat_artefacts"', 'name = "prompts_not_in"\nparams = { file = "banned.txt" }')
    (tmp_path / "banned.txt").write_text("What is two plus two?\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (declared,) = prepare([path])
    rows = list(declared.subset.build(BuildContext("spec-pairs", BuildOptions())))
    result = declared.subset.steps[0](rows, BuildContext("spec-pairs", BuildOptions()))
    assert [d.row["prompt"] for d in result.dropped] == ["What is two plus two?"]


def test_decontam_files_in_a_spec_are_read_from_the_spec_folder(monkeypatch, tmp_path):
    from rbkit.curation.decontam import DecontamStep

    path = spec_copy(
        tmp_path,
        'name = "chat_artefacts"',
        'name = "decontam"\nparams = { against_files = [{ path = "train.jsonl", field = "q" }], threshold = 0.0 }',
    )
    (tmp_path / "train.jsonl").write_text('{"q": "What is two plus two?"}\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (declared,) = prepare([path])
    (step,) = [s for s in declared.subset.steps if isinstance(s, DecontamStep)]
    assert step.against_files == ((str(tmp_path / "train.jsonl"), "q"),)
