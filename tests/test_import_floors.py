"""The house as drawn (CONTRIBUTING.md, "Floors"): imports only look down.

    top      rbkit (cli, commands, api, __main__)  may import anything
    eval     rbkit.eval                             ground floor only
    subsets  rbkit.subsets                          curation and the ground floor
    curation rbkit.curation                         the ground floor only
    ground   rbkit.core, rbkit.schemas              nothing above

Every `import`, `from ... import` (also inside functions, where a lazy import still is a
dependency) and `importlib.import_module("...")` with a literal name is parsed with `ast`,
never executed. A second check finds import cycles among module-level imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# folder in the repository -> the package it installs as (pyproject.toml package-dir)
FOLDERS: dict[str, str] = {
    "rbkit": "rbkit",
    "core": "rbkit.core",
    "schemas": "rbkit.schemas",
    "curation": "rbkit.curation",
    "subsets": "rbkit.subsets",
    "eval": "rbkit.eval",
}
FLOOR_OF: dict[str, str] = {
    "rbkit.core": "ground",
    "rbkit.schemas": "ground",
    "rbkit.curation": "curation",
    "rbkit.subsets": "subsets",
    "rbkit.eval": "eval",
}
# which floors each floor may import from
MAY_IMPORT: dict[str, frozenset[str]] = {
    "ground": frozenset({"ground"}),
    "curation": frozenset({"ground", "curation"}),
    "subsets": frozenset({"ground", "curation", "subsets"}),
    "eval": frozenset({"ground", "eval"}),
    "top": frozenset({"ground", "curation", "subsets", "eval", "top"}),
}


def floor(module: str) -> str | None:
    """The floor of an rbkit module name; None for modules outside rbkit."""
    if module != "rbkit" and not module.startswith("rbkit."):
        return None
    for package, name in FLOOR_OF.items():
        if module == package or module.startswith(package + "."):
            return name
    return "top"  # rbkit itself, rbkit.cli, rbkit.commands.*, rbkit.api, rbkit.__main__


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO)
    parts = [FOLDERS[rel.parts[0]], *rel.parts[1:]]
    parts[-1] = parts[-1].removesuffix(".py")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            found[module_name(path)] = path
    return found


@dataclass(frozen=True)
class Import:
    target: str  # the module imported (for `from pkg import name`: pkg.name when that is a module)
    line: int
    top_level: bool  # runs when the module is imported (not inside a function or TYPE_CHECKING)


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


def imports_of(source: str, module: str, *, is_package: bool = False, known: frozenset[str] = frozenset()) -> Iterator[Import]:
    """Every rbkit import in `source` (the text of module `module`)."""
    tree = ast.parse(source)
    lazy: set[int] = set()  # ids of nodes inside functions or `if TYPE_CHECKING:`
    for node in ast.walk(tree):
        inside = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or (
            isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        )
        if inside:
            lazy.update(id(child) for child in ast.walk(node) if child is not node)
    for node in ast.walk(tree):
        top = id(node) not in lazy
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno, top)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(module, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield Import(sub if sub in known else base, node.lineno, top)
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("importlib.import_module", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Import(node.args[0].value, node.lineno, top)


def violations(source: str, module: str, *, is_package: bool = False, known: frozenset[str] = frozenset()) -> list[str]:
    """Imports of `module` that point up a floor or sideways into a sibling floor."""
    own = floor(module)
    assert own is not None, module
    bad = []
    for imp in imports_of(source, module, is_package=is_package, known=known):
        theirs = floor(imp.target)
        if theirs is not None and theirs not in MAY_IMPORT[own]:
            bad.append(f"{module}:{imp.line} ({own}) imports {imp.target} ({theirs})")
    return bad


def test_the_walk_sees_every_floor():
    assert {"rbkit.cli", "rbkit.core", "rbkit.schemas", "rbkit.curation.registry", "rbkit.subsets.llmbar",
            "rbkit.eval.runner"} <= set(all_modules())


def test_every_import_looks_down():
    modules = all_modules()
    known = frozenset(modules)
    bad = []
    for name, path in modules.items():
        bad += violations(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py", known=known)
    assert not bad, "imports that point up a floor or sideways:\n" + "\n".join(bad)


def test_no_import_cycles():
    """Module-level imports form no cycle (function-level ones run later and cannot deadlock)."""
    modules = all_modules()
    known = frozenset(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for imp in imports_of(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py", known=known):
            target = imp.target
            while target and target not in known:  # `from rbkit.x import name` -> rbkit.x
                target = target.rpartition(".")[0]
            if imp.top_level and target and target != name and not name.startswith(target + "."):
                deps.add(target)
        graph[name] = deps
    cycles = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*stack[stack.index(dep):], dep]))
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("rbkit.curation.evil", "from rbkit.subsets import llmbar\n"),  # up a floor
        ("rbkit.curation.evil", "def f():\n    from rbkit.subsets.llmbar import NATURAL\n"),  # lazy, still up
        ("rbkit.curation.evil", "import importlib\nimportlib.import_module('rbkit.subsets.llmbar')\n"),
        ("rbkit.curation.evil", "from rbkit.commands import build\n"),  # into the CLI
        ("rbkit.eval.evil", "from rbkit.curation.rows import canonical_json\n"),  # sideways
        ("rbkit.eval.evil", "from rbkit.subsets import BUILDER_MODULES\n"),  # sideways
        ("rbkit.core.evil", "from rbkit.curation.errors import RbkitError\n"),  # the ground floor looks at nothing
        ("rbkit.schemas.evil", "import rbkit.eval.results\n"),
        ("rbkit.subsets.evil", "from rbkit.cli import main\n"),
        ("rbkit.subsets.evil", "from rbkit import api\n"),
        ("rbkit.curation.verify.evil", "from ...subsets import llmbar\n"),  # relative, up
    ],
)
def test_the_checker_catches_an_upward_import(module, source):
    known = frozenset(all_modules()) | {"rbkit.api", "rbkit.subsets.llmbar"}
    assert violations(source, module, known=known), f"{module}: {source!r} should be refused"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("rbkit.subsets.fine", "from rbkit.curation.registry import register_subset\nfrom rbkit.core.jsonio import canonical_json\n"),
        ("rbkit.eval.fine", "from rbkit import schemas\nfrom rbkit.core.files import atomic_write\nimport torch\n"),
        ("rbkit.curation.fine", "from . import rows\nfrom .verify import code\n"),
        ("rbkit.commands.fine", "from rbkit.eval.runner import run\nfrom rbkit.subsets import BUILDER_MODULES\n"),
    ],
)
def test_the_checker_lets_downward_imports_pass(module, source):
    assert violations(source, module, known=frozenset(all_modules())) == []


def test_the_checker_runs_on_a_deliberate_upward_import_in_a_file(tmp_path, monkeypatch):
    """A module file added under curation/ that imports a builder fails the real test."""
    fake = tmp_path / "repo"
    for folder in FOLDERS:
        (fake / folder).mkdir(parents=True)
    (fake / "curation" / "evil.py").write_text("from rbkit.subsets.llmbar import NATURAL\n", encoding="utf-8")
    (fake / "eval" / "fine.py").write_text("from rbkit.core.paths import cache_root\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "REPO", fake)
    with pytest.raises(AssertionError, match=r"rbkit\.curation\.evil:1 \(curation\) imports rbkit\.subsets\.llmbar"):
        test_every_import_looks_down()
