"""The subset registry: builders register each subset by name with a decorator.

    @register_subset(name="llmbar-natural", section="Chat Hard", source="llmbar",
                     license="MIT", expected=100, sources=(NATURAL,), verification="label")
    def build_natural(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]: ...

`rbkit ls` and `rbkit build` read this table; a build records each subset's section and weight
in build.json, which is where the evaluator reads them.

Where subsets come from. The registry belongs to the machinery and knows no builder by name:
- the `rbkit.subsets` entry-point group: every installed package (rbkit itself included, whose
  built-in builders are listed in `rbkit.subsets.BUILDER_MODULES`) names a module that
  registers subsets when imported, or a sequence of such module names;
- `load_plugin(path)`: a local Python file (`rbkit build --plugin my_subsets.py`).

Loading the table imports the builder modules, so they keep their imports light: a verifier that
needs a heavy library imports it when it first runs, not when its module is imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Literal

from rbkit.curation.errors import RbkitError
from rbkit.curation.pipeline import BuildContext, Step
from rbkit.curation.rows import DroppedRow, TrioRow
from rbkit.curation.sources import SourceFile

SECTIONS: tuple[str, ...] = ("Chat", "Chat Hard", "Safety", "Reasoning", "Prior Sets")
LengthBias = Literal["longer", "shorter", "none"]
Builder = Callable[[BuildContext], Iterable[TrioRow | DroppedRow]]
ENTRY_POINT_GROUP = "rbkit.subsets"
BUILTIN_ENTRY_POINT = "rbkit"  # rbkit's own entry in the group (pyproject.toml)


class PluginError(RbkitError):
    """A subset plugin (entry point or `--plugin` file) that cannot be loaded."""


def slug(text: str) -> str:
    return text.lower().replace(" ", "-")


@dataclass(frozen=True)
class SubsetSpec:
    name: str
    section: str
    source: str  # source family, e.g. "llmbar"; `rbkit build llmbar` selects by it
    license: str  # SPDX id; "unknown" blocks publishing
    expected: int | None  # published row count (None when there is no published target)
    sources: tuple[SourceFile, ...]
    build: Builder
    steps: tuple[Step, ...] = ()
    verification: str = "none"  # none | label | code | math | refusal
    length_bias: LengthBias = "none"  # the bias the original authors expected for this subset
    description: str = ""
    substitute: str | None = None  # set when rows are rebuilt from a stand-in source; shown on cards
    weight: int | None = None  # section weight when it differs from the row count (math-prm: 984)
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def section_slug(self) -> str:
        return slug(self.section)


_REGISTRY: dict[str, SubsetSpec] = {}
_scanned = False  # the entry-point group is read once per process


def register_subset(
    *,
    name: str,
    section: str,
    source: str,
    license: str,
    expected: int | None,
    sources: Sequence[SourceFile],
    steps: Sequence[Step] = (),
    verification: str = "none",
    length_bias: LengthBias = "none",
    description: str = "",
    substitute: str | None = None,
    weight: int | None = None,
    tags: Sequence[str] = (),
) -> Callable[[Builder], Builder]:
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}; expected one of {SECTIONS}")

    def wrap(fn: Builder) -> Builder:
        if name in _REGISTRY and _REGISTRY[name].build is not fn:
            raise ValueError(f"subset {name!r} is registered twice")
        _REGISTRY[name] = SubsetSpec(
            name=name,
            section=section,
            source=source,
            license=license,
            expected=expected,
            sources=tuple(sources),
            build=fn,
            steps=tuple(steps),
            verification=verification,
            length_bias=length_bias,
            description=description or _first_line(fn.__doc__),
            substitute=substitute,
            weight=weight,
            tags=tuple(tags),
        )
        return fn

    return wrap


def _first_line(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return lines[0] if lines else ""


# --- where subsets come from --------------------------------------------------------------------


def load_entry_point(ep: EntryPoint) -> None:
    """Import what one `rbkit.subsets` entry point names: a module that registers subsets when
    imported, or a sequence of such module names."""
    try:
        target = ep.load()
        if isinstance(target, (list, tuple)):
            for module in target:
                _import_builder(module)
    except RbkitError:
        raise
    except Exception as exc:
        raise PluginError(
            f"subset plugin '{ep.name}' ({ep.value}, entry point group {ENTRY_POINT_GROUP}) "
            f"failed to load: {type(exc).__name__}: {exc}"
        ) from exc


def _import_builder(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # a real import error inside a builder
            raise


def load_entry_points() -> None:
    """Load every installed package's subsets (once per process)."""
    global _scanned
    if _scanned:
        return
    found = list(entry_points(group=ENTRY_POINT_GROUP))
    if not any(ep.name == BUILTIN_ENTRY_POINT for ep in found):
        raise PluginError(
            f"rbkit's own subsets are not registered (no '{BUILTIN_ENTRY_POINT}' entry point in the "
            f"{ENTRY_POINT_GROUP} group): the installed metadata is older than the code; "
            "reinstall rbkit (`pip install -e .` in the repository, or `make venv`)"
        )
    # rbkit's own subsets first (the order `rbkit ls` shows), then each package's by name.
    for ep in sorted(found, key=lambda ep: (ep.name != BUILTIN_ENTRY_POINT, ep.name, ep.value)):
        load_entry_point(ep)
    _scanned = True


def load_plugin(path: str | Path) -> list[str]:
    """Import a local Python file that registers subsets; returns the names it registered.

    The file is imported as module `rbkit_plugin_<stem>`; loading the same file twice is a no-op.
    Installed subsets load first, so the file's subsets come after them (`rbkit ls` order).
    """
    load_entry_points()
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise PluginError(f"subset plugin {path} does not exist (give the path of a .py file)")
    module_name = f"rbkit_plugin_{path.stem}"
    loaded = sys.modules.get(module_name)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == path:
        return []
    before = set(_REGISTRY)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"subset plugin {path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except RbkitError:
        sys.modules.pop(module_name, None)
        raise
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise PluginError(f"subset plugin {path} failed to load: {type(exc).__name__}: {exc}") from exc
    return [name for name in _REGISTRY if name not in before]


# --- reading the table ----------------------------------------------------------------------------


def load_all() -> dict[str, SubsetSpec]:
    load_entry_points()
    return dict(_REGISTRY)


def get(name: str) -> SubsetSpec:
    specs = load_all()
    if name not in specs:
        raise KeyError(f"unknown subset {name!r}; `rbkit ls` lists them")
    return specs[name]


def select(selectors: Iterable[str]) -> list[SubsetSpec]:
    """Resolve subset names, section slugs ("chat-hard"), source names ("llmbar"), "core" or "all".

    "all" (or no selector) means every registered subset; "core" the RewardBench core set
    (everything except Prior Sets). Order follows registration order.
    """
    specs = load_all()
    wanted = list(selectors) or ["all"]
    picked: dict[str, SubsetSpec] = {}
    for sel in wanted:
        key = sel.strip()
        matches = [
            s
            for s in specs.values()
            if key == "all"
            or (key == "core" and s.section != "Prior Sets")
            or key == s.name
            or key.lower() == s.section_slug
            or key == s.source
        ]
        if not matches:
            raise KeyError(
                f"'{sel}' names no subset, section or source; `rbkit ls` lists them "
                f"(sections: {', '.join(slug(s) for s in SECTIONS)})"
            )
        for s in matches:
            picked.setdefault(s.name, s)
    order = list(specs)
    return sorted(picked.values(), key=lambda s: order.index(s.name))


def all_sources() -> list[SourceFile]:
    seen: dict[str, SourceFile] = {}
    for spec in load_all().values():
        for src in spec.sources:
            seen.setdefault(src.name, src)
    for src in _STANDALONE_SOURCES.values():
        seen.setdefault(src.name, src)
    return list(seen.values())


_STANDALONE_SOURCES: dict[str, SourceFile] = {}


def register_source(src: SourceFile) -> SourceFile:
    """A pinned file that a command reads but no subset builds from (the MT-Bench judge
    prompts): `rbkit sources list|fetch|check` know it like any subset's source."""
    _STANDALONE_SOURCES.setdefault(src.name, src)
    return src
