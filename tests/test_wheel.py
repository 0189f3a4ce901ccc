"""One name in site-packages: the wheel holds the single top-level package `rbkit`.

The repository keeps `core/`, `schemas/`, `curation/`, `subsets/` and `eval/` at the top; the
setuptools `package-dir` mapping in pyproject.toml installs them as `rbkit.<folder>`. The wheel
is built from a copy of the tree (setuptools writes build/ and egg-info next to pyproject.toml),
so the test never touches the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for folder in mapping().values():
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = src / "dist"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))", str(dist)],
        cwd=src, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    built = dist / proc.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(built) as zf:
        yield zf


def mapping() -> dict[str, str]:
    """installed package -> repository folder, from pyproject.toml."""
    from setuptools.config.pyprojecttoml import read_configuration  # tomllib is 3.11+

    config = read_configuration(REPO / "pyproject.toml", expand=False)
    return dict(config["tool"]["setuptools"]["package-dir"])


def test_the_only_top_level_package_is_rbkit(wheel):
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith((".dist-info", ".data"))} == {"rbkit"}
    toplevel = next(n for n in wheel.namelist() if n.endswith(".dist-info/top_level.txt"))
    assert wheel.read(toplevel).decode().split() == ["rbkit"]


def test_the_schemas_ship_inside_rbkit(wheel):
    names = set(wheel.namelist())
    for schema in sorted((REPO / "schemas").glob("*.json")):
        assert f"rbkit/schemas/{schema.name}" in names, schema.name


def test_every_package_folder_is_in_the_wheel(wheel):
    """Guards the explicit `packages` list: a new folder with an __init__.py must be added there."""
    names = set(wheel.namelist())
    missing = []
    for package, folder in mapping().items():
        for init in sorted((REPO / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(REPO / folder)
            dotted = ".".join([package, *rel.parts])
            if f"{dotted.replace('.', '/')}/__init__.py" not in names:
                missing.append(f"{dotted} ({init.parent.relative_to(REPO)})")
    assert not missing, "add to [tool.setuptools] packages in pyproject.toml: " + ", ".join(missing)
    for module in sorted((REPO / "curation").rglob("*.py")):
        rel = module.relative_to(REPO / "curation")
        if "__pycache__" not in rel.parts:
            assert f"rbkit/curation/{rel.as_posix()}" in names, rel


def test_the_subset_entry_point_ships(wheel):
    entry = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    text = wheel.read(entry).decode()
    assert "[rbkit.subsets]\nrbkit = rbkit.subsets:BUILDER_MODULES" in text
    assert "rbkit = rbkit.cli:main" in text
