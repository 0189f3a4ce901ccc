"""The front door opens at once: `rbkit --help` and `rbkit ls` load no heavy library, and a
floor loads only the floors below it (bench/import_time.py measures the seconds)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sympy", "mpmath", "numpy", "polars", "pyarrow", "torch", "transformers", "datasets", "argilla", "httpx",
         "huggingface_hub", "jsonschema")


def loaded_after(code: str) -> set[str]:
    """Top-level packages and rbkit floors in sys.modules after running `code` in a fresh interpreter."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        "names = {m.split('.')[0] for m in sys.modules} | {'.'.join(m.split('.')[:2]) for m in sys.modules if m.startswith('rbkit.')}\n"
        "print(json.dumps(sorted(names)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(proc.stdout.splitlines()[-1]))


def run_cli(*args: str) -> str:
    return (
        "import contextlib, io, sys\n"
        "from rbkit.cli import main\n"
        f"sys.argv = ['rbkit', *{list(args)!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main()"
    )


def test_help_loads_no_heavy_library_and_no_rich():
    loaded = loaded_after(run_cli("--help"))
    assert not loaded & {*HEAVY, "rich", "pydantic"}, sorted(loaded & {*HEAVY, "rich", "pydantic"})
    assert "rbkit.curation" not in loaded and "rbkit.eval" not in loaded


def test_ls_and_the_registry_load_no_heavy_library():
    for code in (run_cli("ls"), "from rbkit.curation.registry import load_all; assert len(load_all()) > 20"):
        loaded = loaded_after(code)
        assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
        assert "rbkit.eval" not in loaded


@pytest.mark.parametrize(
    ("module", "must_not_load"),
    [
        ("rbkit.core.files", {"rbkit.curation", "rbkit.subsets", "rbkit.eval", "rbkit.commands", "rbkit.api"}),
        ("rbkit.curation.build", {"rbkit.subsets", "rbkit.eval", "rbkit.commands", "rbkit.api"}),
        ("rbkit.eval.aggregate", {"rbkit.curation", "rbkit.subsets", "rbkit.commands", "rbkit.api"}),
        ("rbkit.eval.sections", {"rbkit.curation", "rbkit.subsets", "rbkit.commands", "rbkit.api"}),
    ],
)
def test_a_floor_loads_only_the_floors_below(module, must_not_load):
    loaded = loaded_after(f"import {module}")
    assert not loaded & must_not_load, sorted(loaded & must_not_load)
