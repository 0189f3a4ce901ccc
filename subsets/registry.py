"""The subset registry: builders register each subset by name with a decorator.

    @register_subset(name="llmbar-natural", section="Chat Hard", source="llmbar",
                     license="MIT", expected=100, sources=(NATURAL,), verification="label")
    def build_natural(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]: ...

`rbkit ls`, `rbkit build` and the evaluator's section scores all read this table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rbkit.curation.pipeline import BuildContext, Step
from rbkit.curation.rows import DroppedRow, TrioRow
from rbkit.curation.sources import SourceFile

SECTIONS: tuple[str, ...] = ("Chat", "Chat Hard", "Safety", "Reasoning", "Prior Sets")
LengthBias = Literal["longer", "shorter", "none"]
Builder = Callable[[BuildContext], Iterable[TrioRow | DroppedRow]]


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

# Modules that register subsets; imported lazily so `import subsets` stays cheap.
BUILDER_MODULES: tuple[str, ...] = (
    "rbkit.subsets.alpacaeval",
    "rbkit.subsets.mtbench",
    "rbkit.subsets.llmbar",
    "rbkit.subsets.xstest",
    "rbkit.subsets.donotanswer",
    "rbkit.subsets.refusals",
    "rbkit.subsets.humanevalpack",
    "rbkit.subsets.prm_math",
    "rbkit.subsets.prior_sets",
)


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


def load_all() -> dict[str, SubsetSpec]:
    for module in BUILDER_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real import error inside a builder
                raise
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
    return list(seen.values())
