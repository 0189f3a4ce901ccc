"""A subset spec's schema errors name the file, the line of the offending key and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rbkit.curation.spec_file import SpecError, load_spec, toml_line_index, walk_keys

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "specs"


def spec_copy(tmp_path: Path, name: str, old: str = "", new: str = "") -> Path:
    """A copy of a fixture spec (beside its source file) with `old` replaced by `new`."""
    for file in FIXTURES.glob("*.*"):
        shutil.copy(file, tmp_path / file.name)
    path = tmp_path / name
    text = path.read_text()
    if old:
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def test_every_key_of_a_toml_spec_has_the_line_it_is_written_on():
    text = (FIXTURES / "pairs.toml").read_text()
    index = toml_line_index(text)
    lines = text.splitlines()
    for path in walk_keys(load_spec(FIXTURES / "pairs.toml").data):
        assert path in index, path
    assert "low = 0.5" in lines[index[("steps", 2, "params", "low")] - 1]
    assert lines[index[("steps", 1)] - 1] == "[[steps]]" and "verify:label" in lines[index[("steps", 1, "name")] - 1]
    assert lines[index[("mapping", "extra", 0)] - 1].startswith("extra")
    assert lines[index[("sources", "pairs", "sha256")] - 1].startswith("sha256")


def test_toml_line_index_follows_multiline_strings_arrays_and_subtables():
    text = 'a = """x\nb = 1\n"""\nc = [\n  { d = 1 },\n  "e",\n]\n[[s]]\nn = 1\n[[s]]\nn = 2\n[s.p]\nq = 3\n'
    index = toml_line_index(text)
    assert ("b",) not in index  # inside a multi-line string
    assert index[("c", 0, "d")] == 5 and index[("c", 1)] == 6
    assert index[("s", 1, "n")] == 11 and index[("s", 1, "p", "q")] == 13


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "reason"),
    [
        ('section = "Chat"', 'section = "Chitchat"', "section =", "section", "'Chitchat' is not one of"),
        ('license = "CC0-1.0"', 'licence = "CC0-1.0"', "licence =", "licence", "did you mean 'license'"),
        ('sha256 = "ac22', 'sha256 = "AC22', "sha256 =", "sources.pairs.sha256", "64 lowercase hex digits"),
        ('path = "pairs.jsonl"', 'path = "pairs.jsonl"\nurl = "https://example.org/p.jsonl"', "[sources.pairs]",
         "sources.pairs", "exactly one location"),
        ('name = "verify:label"', 'nam = "verify:label"', "nam =", "steps[1].nam", "unknown key"),
        ("size = 3\nseed = 7", 'size = "three"\nseed = 7', 'size = "three"', "selection.size", "not of type 'integer'"),
    ],
)
def test_schema_error_names_file_line_and_field(tmp_path, old, new, needle, field, reason):
    path = spec_copy(tmp_path, "pairs.toml", old, new)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value).startswith(f"{path}:{line_of(path, needle)} {field}: "), str(err.value)
    assert reason in err.value.reason


def test_missing_required_key_names_the_key(tmp_path):
    path = spec_copy(tmp_path, "pairs.toml", 'citation = "@misc{spec-pairs, title={Spec pairs}, author={rbkit}, year={2026}}"\n', "")
    with pytest.raises(SpecError, match=r"pairs\.toml:1 citation: required key missing"):
        load_spec(path)


def test_yaml_schema_error_names_the_line(tmp_path):
    path = spec_copy(tmp_path, "pairs.yaml", "on_short: label", "on_short: maybe")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value).startswith(f"{path}:{line_of(path, 'on_short')} expected.on_short: 'maybe' is not one of")


def test_toml_syntax_error_names_its_line(tmp_path):
    path = spec_copy(tmp_path, "pairs.toml", 'prompt = "question"', "prompt = question")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert err.value.line == line_of(path, "prompt = question") and err.value.field == "<toml>"
