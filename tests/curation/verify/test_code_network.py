"""Code verification without a private network namespace: it stops, unless explicitly allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rbkit.curation.build import run_build
from rbkit.curation.pipeline import BuildOptions
from rbkit.curation.verify import sandbox as sandbox_mod
from rbkit.curation.verify.sandbox import SandboxIsolationError

from tests.subsets.test_humanevalpack import demo_mirror, fixture_spec  # noqa: F401 (a fixture)


@pytest.fixture
def no_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The capability probe finds neither `unshare -n` nor `unshare -r -n`."""
    monkeypatch.setattr(sandbox_mod.Sandbox, "network_wrapper", property(lambda self: []))
    monkeypatch.setattr(sandbox_mod, "_DEFAULT", {})


def test_no_network_namespace_stops_code_verification(demo_mirror: Path, tmp_path: Path, no_namespace: None):  # noqa: F811
    out = tmp_path / "out"
    options = BuildOptions(cache_dir=tmp_path / "cache", jobs=2)
    with pytest.raises(SandboxIsolationError) as err:
        run_build([fixture_spec("python")], out, options)
    message = str(err.value)
    assert "\n" not in message and "no private network namespace" in message and "--allow-sandbox-network" in message
    assert not out.exists()
    assert not any((tmp_path / "cache").rglob("*.json")), "no candidate may have run"


def test_allow_sandbox_network_runs_and_is_recorded(demo_mirror: Path, tmp_path: Path, no_namespace: None):  # noqa: F811
    out = tmp_path / "out"
    options = BuildOptions(cache_dir=tmp_path / "cache", jobs=2, allow_sandbox_network=True)
    result = run_build([fixture_spec("python")], out, options)
    assert len(result.outcomes[0].rows) == 1  # verified as usual: one kept, one dropped
    manifest = json.loads((out / "build.json").read_text())
    assert manifest["options"]["allow_sandbox_network"] is True
    step = manifest["subsets"]["demo-hep-python"]["report"]["steps"]["verify:code"]
    assert step["sandbox"]["network"].startswith("shared (--allow-sandbox-network)")
    card = (out / "README.md").read_text()
    assert "--allow-sandbox-network" in card and "network access" in card


def test_a_normal_build_records_that_the_network_was_isolated(demo_mirror: Path, tmp_path: Path):  # noqa: F811
    out = tmp_path / "out"
    run_build([fixture_spec("python")], out, BuildOptions(cache_dir=tmp_path / "cache", jobs=2))
    manifest = json.loads((out / "build.json").read_text())
    assert manifest["options"]["allow_sandbox_network"] is False
    step = manifest["subsets"]["demo-hep-python"]["report"]["steps"]["verify:code"]
    assert step["sandbox"]["network"].startswith("isolated (unshare")
    assert "--allow-sandbox-network" not in (out / "README.md").read_text()
