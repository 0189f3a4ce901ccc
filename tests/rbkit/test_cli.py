import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.curation.review.conftest import write_fixture_build

RBKIT = [sys.executable, "-c", "from rbkit.cli import main; main()"]


def rbkit(*args, env=None, cwd=None):
    return subprocess.run([*RBKIT, *args], capture_output=True, text=True, env=env, cwd=cwd)


@pytest.fixture
def env(mirror, monkeypatch):
    import os

    return {**os.environ, "RBKIT_SOURCES": str(mirror), "COLUMNS": "200"}


@pytest.fixture
def bare_env(tmp_path):
    """For commands that need no upstream data: an empty folder as the mirror."""
    import os

    (tmp_path / "empty-mirror").mkdir()
    return {**os.environ, "RBKIT_SOURCES": str(tmp_path / "empty-mirror"), "COLUMNS": "200"}


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != "timings.json":
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def test_build_llmbar_validates_and_rebuilds_byte_identically(env, tmp_path):
    out1, out2 = tmp_path / "out1", tmp_path / "out2"
    first = rbkit("build", "llmbar", "--out", str(out1), env=env)
    assert first.returncode == 0, first.stderr
    assert rbkit("build", "llmbar", "--out", str(out2), env=env).returncode == 0
    assert digest(out1) == digest(out2)
    built = json.loads((out1 / "build.json").read_text())["subsets"]
    assert {k: v["built"] for k, v in built.items()} == {
        "llmbar-natural": 100,
        "llmbar-adver-neighbor": 134,
        "llmbar-adver-GPTInst": 92,
        "llmbar-adver-GPTOut": 47,
        "llmbar-adver-manual": 46,
    }
    check = rbkit("validate", str(out1), env=env)
    assert check.returncode == 0 and check.stdout.startswith("ok: 838 rows")


def test_corrupted_source_copy_is_refused_with_the_hash_message(env, mirror, tmp_path):
    copy = tmp_path / "mirror"
    shutil.copytree(mirror / "llmbar", copy / "llmbar")
    target = copy / "llmbar" / "Natural" / "dataset.json"
    target.write_bytes(target.read_bytes()[:-10] + b"  ]\n\n\n\n\n\n")
    result = rbkit("build", "llmbar", "--out", str(tmp_path / "out"), env={**env, "RBKIT_SOURCES": str(copy)})
    assert result.returncode == 1
    assert "sha256 mismatch" in result.stderr
    assert "f7127b7aa78104cb8e03a2b1b3ac0077e95b125714dd441a8ee63666145a3375" in result.stderr
    assert hashlib.sha256(target.read_bytes()).hexdigest() in result.stderr
    assert not (tmp_path / "out").exists()


def test_validate_reports_violations_and_exits_1(tmp_path, bare_env):
    f = tmp_path / "rows.jsonl"
    f.write_text(json.dumps({"prompt": "p", "chosen": "c"}) + "\n")
    result = rbkit("validate", str(f), env=bare_env)
    assert result.returncode == 1
    assert f"{f}:1 chosen_model: 'chosen_model' is a required property" in result.stdout


def test_ls_lists_llmbar_with_built_counts(bare_env, tmp_path):
    write_fixture_build(tmp_path / "out")  # 4 hand-made llmbar-natural pairs; no mirror needed
    result = rbkit("ls", str(tmp_path / "out"), "--json", env=bare_env)
    rows = {r["subset"]: r for r in json.loads(result.stdout)}
    assert rows["llmbar-natural"]["built"] == 4 and rows["llmbar-natural"]["license"] == "MIT"
    assert rows["llmbar-adver-manual"]["built"] is None


def test_sources_check_passes_on_the_mirror(env, mirror):
    result = rbkit("sources", "check", str(mirror), env=env)
    assert result.returncode == 0, result.stderr
    assert " 0 bad" in result.stdout


def test_unknown_selector_is_a_clear_error(bare_env, tmp_path):
    result = rbkit("build", "nonsense", "--out", str(tmp_path / "o"), env=bare_env)
    assert result.returncode == 1 and "'nonsense' names no subset" in result.stderr
