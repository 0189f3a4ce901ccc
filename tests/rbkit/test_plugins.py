"""A subset from outside: the example in examples/my_subsets.py builds and validates through
both routes, an installed package's `rbkit.subsets` entry point and `rbkit build --plugin`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
from rbkit.curation import registry
from rbkit.curation.registry import PluginError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "my_subsets.py"
EXAMPLE_SOURCES = REPO / "examples" / "sources"
RBKIT = [sys.executable, "-m", "rbkit"]


@pytest.fixture
def clean_registry(monkeypatch):
    """The registry as a fresh process would find it; whatever a test registers goes away."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_scanned", False)
    yield registry
    for name in [m for m in sys.modules if m in ("my_subsets", "broken_subsets") or m.startswith("rbkit_plugin_")]:
        del sys.modules[name]


def installed(*extra: EntryPoint):
    """entry_points() as it would look with `extra` installed beside rbkit."""
    real = list(entry_points(group=registry.ENTRY_POINT_GROUP))
    return lambda group: [*real, *extra] if group == registry.ENTRY_POINT_GROUP else []


def test_the_example_builds_and_validates_from_an_entry_point(clean_registry, monkeypatch, tmp_path):
    import rbkit

    monkeypatch.syspath_prepend(str(EXAMPLE.parent))
    monkeypatch.setenv("RBKIT_SOURCES", str(EXAMPLE_SOURCES))
    ep = EntryPoint(name="my-subsets", value="my_subsets", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", installed(ep))

    specs = rbkit.list_subsets()
    assert "my-pairs" in specs and "llmbar-natural" in specs
    assert list(specs)[-1] == "my-pairs", "rbkit's own subsets come first"
    result = rbkit.build(["my-pairs"], tmp_path / "out")
    report = rbkit.validate(tmp_path / "out")
    assert report.ok, report
    manifest = json.loads((tmp_path / "out" / "build.json").read_text())
    subset = manifest["subsets"]["my-pairs"]
    assert (subset["section"], subset["expected"], subset["built"]) == ("Chat", 4, 4)
    assert subset["dropped_by_reason"] == {
        "filter:different: chosen and rejected are identical": 1,
        "select: not selected: 5 survivors, target size 4": 1,
    }
    assert result.manifest["subsets"]["my-pairs"]["built"] == 4


def test_the_example_builds_and_validates_with_plugin(tmp_path):
    env = {**os.environ, "RBKIT_SOURCES": str(EXAMPLE_SOURCES), "COLUMNS": "200"}
    out = tmp_path / "out"
    built = subprocess.run([*RBKIT, "build", "my-pairs", "--plugin", str(EXAMPLE), "--out", str(out)],
                           capture_output=True, text=True, env=env)
    assert built.returncode == 0, built.stderr
    checked = subprocess.run([*RBKIT, "validate", str(out)], capture_output=True, text=True, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = json.loads((out / "build.json").read_text())
    assert list(manifest["subsets"]) == ["my-pairs"] and manifest["subsets"]["my-pairs"]["built"] == 4
    listed = subprocess.run([*RBKIT, "ls", "--json", "--plugin", str(EXAMPLE)], capture_output=True, text=True, env=env)
    names = [r["subset"] for r in json.loads(listed.stdout)]
    assert names[-1] == "my-pairs" and "llmbar-natural" in names


def test_without_the_plugin_the_subset_is_unknown(tmp_path):
    env = {**os.environ, "RBKIT_SOURCES": str(EXAMPLE_SOURCES), "COLUMNS": "200"}
    proc = subprocess.run([*RBKIT, "build", "my-pairs", "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "'my-pairs' names no subset" in proc.stderr


def test_a_broken_plugin_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "broken_subsets.py"
    bad.write_text("import not_a_real_module_rbkit\n", encoding="utf-8")
    proc = subprocess.run([*RBKIT, "ls", "--plugin", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"subset plugin {bad} failed to load: ModuleNotFoundError" in proc.stderr and "Traceback" not in proc.stderr
    missing = subprocess.run([*RBKIT, "ls", "--plugin", str(tmp_path / "nope.py")], capture_output=True, text=True)
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_a_broken_entry_point_names_itself(clean_registry, monkeypatch):
    ep = EntryPoint(name="broken", value="not_a_real_module_rbkit", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", installed(ep))
    with pytest.raises(PluginError, match=r"subset plugin 'broken' \(not_a_real_module_rbkit, entry point group rbkit.subsets\) failed to load"):
        registry.load_all()


def test_stale_install_metadata_says_how_to_fix_it(clean_registry, monkeypatch):
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    with pytest.raises(PluginError, match="reinstall rbkit"):
        registry.load_all()


def test_a_plugin_file_loads_once(clean_registry, monkeypatch):
    monkeypatch.setenv("RBKIT_SOURCES", str(EXAMPLE_SOURCES))
    assert registry.load_plugin(EXAMPLE) == ["my-pairs"]
    assert registry.load_plugin(EXAMPLE) == []
    assert registry.get("my-pairs").expected == 4


def test_contributing_shows_the_example_that_is_built():
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text[text.index("## Add a subset in one file"):]
    block = section[section.index("```python\n") + len("```python\n"):section.index("\n```\n")]
    example = EXAMPLE.read_text(encoding="utf-8")
    assert block.strip() == example[example.index("from __future__ import annotations"):].strip()
