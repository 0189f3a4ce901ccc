"""`rbkit build --spec`: a folder of specs builds beside a --plugin subset into one folder
that validate, publish --dry-run and eval's loader take unchanged; a wrong hash writes nothing
and `rbkit` prints the spec line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from rbkit.curation import registry
from rbkit.curation.publish import publish
from rbkit.curation.validate import validate_path
from rbkit.eval.data import load_build_folder
from typer.testing import CliRunner

from rbkit.cli import app

REPO = Path(__file__).resolve().parents[3]
SPECS = REPO / "tests" / "fixtures" / "specs"
RBKIT = [sys.executable, "-m", "rbkit"]


def rbkit(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RBKIT, *args], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "COLUMNS": "120", **env})


@pytest.fixture
def clean_registry(monkeypatch):
    """The subset registry as a fresh process finds it; the --plugin subset goes away after."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_scanned", False)
    yield
    for name in [m for m in sys.modules if m.startswith("rbkit_plugin_")]:
        del sys.modules[name]


def test_spec_folder_and_plugin_build_together_and_validate_publish_and_load(tmp_path, clean_registry, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv("RBKIT_SOURCES", str(REPO / "examples" / "sources"))
    built = CliRunner().invoke(app, ["build", "my-pairs", "--plugin", str(REPO / "examples" / "my_subsets.py"),
                                     "--spec", str(SPECS), "--out", str(out)])
    assert built.exit_code == 0, built.output
    manifest = json.loads((out / "build.json").read_text())
    assert {n: s["built"] for n, s in manifest["subsets"].items()} == {"my-pairs": 4, "spec-pairs": 3, "spec-pairs-yaml": 4}
    checked = validate_path(out)  # what `rbkit validate` runs
    assert checked.ok and checked.rows == 22, checked

    layout = publish(out, "me/spec-pairs", dry_run=True).layout
    ds = datasets.load_dataset(str(layout.root), name="spec-pairs", split="filtered", cache_dir=str(tmp_path / "hf"))
    assert len(ds) == 3 and set(ds["subset"]) == {"spec-pairs"}

    loaded = load_build_folder(out, ["spec-pairs", "spec-pairs-yaml"])
    assert sorted({p.subset for p in loaded.pairs}) == ["spec-pairs", "spec-pairs-yaml"]
    assert loaded.sections["spec-pairs-yaml"]["section"] == "Chat Hard"


def test_wrong_sha256_exits_with_the_spec_line_and_writes_nothing(tmp_path):
    for file in SPECS.glob("*.*"):
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "pairs.jsonl").write_text((SPECS / "pairs.jsonl").read_text().replace("eight", "8"))
    out = tmp_path / "out"
    run = rbkit("build", "--spec", str(tmp_path / "pairs.toml"), "--out", str(out))
    assert run.returncode == 1
    assert f"{tmp_path / 'pairs.toml'}:11 sources.pairs.sha256: the file's bytes are not the pinned ones" in run.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))
