"""The step registry: pipeline steps by name, so a subset spec can list them as data.

    @register_step("length_window")
    def length_window_step(low: float, high: float) -> Step: ...

A registered factory takes the spec's `params` as keyword arguments and returns a step.
Three stages, run in this order by a spec build:
- "candidates": `(groups: list[CandidateGroup], ctx) -> GroupStepResult` (verifiers that fill
  each candidate's `verdicts`, drop or keep groups);
- "pairing": `(groups, ctx) -> StepResult` turning groups into trio rows and drops (a spec's
  `pairing.mode` names it: "pairing:pairwise", "pairing:best-of-n");
- "rows": the ordinary `Step`, `(rows: list[TrioRow], ctx) -> StepResult` (text filters,
  verifiers of pairs, dedup, decontamination, gates).

Where steps come from, as subsets do (curation.registry): rbkit's own modules
(`BUILTIN_STEP_MODULES`), then every installed package's module named in the `rbkit.steps`
entry-point group:

    [project.entry-points."rbkit.steps"]
    my-steps = "my_package.steps"
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal

from rbkit.core.errors import RbkitError
from rbkit.curation.candidates import CandidateGroup
from rbkit.curation.rows import DroppedRow

StepStage = Literal["candidates", "pairing", "rows"]
STAGES: tuple[str, ...] = ("candidates", "pairing", "rows")
ENTRY_POINT_GROUP = "rbkit.steps"
# Modules that register rbkit's own steps; one not present yet (being written) is skipped.
BUILTIN_STEP_MODULES: tuple[str, ...] = (
    "rbkit.curation.step_catalog",
    "rbkit.curation.pairing",
    "rbkit.curation.candidate_verify",
    "rbkit.curation.decontam",
)


class UnknownStepError(RbkitError):
    """A step name nobody registered."""

    def __init__(self, name: str, known: list[str]):
        self.name, self.known = name, known
        super().__init__(f"unknown step {name!r}; known steps: {', '.join(known)}")


class StepParamsError(RbkitError):
    """Parameters a step does not take, or values it refuses."""


@dataclass
class GroupStepResult:
    """What a candidate-stage step returns: the groups it keeps, the drops with reasons."""

    kept: list[CandidateGroup]
    dropped: list[DroppedRow] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisteredStep:
    name: str
    factory: Callable[..., Any]
    stage: StepStage
    summary: str
    path_params: tuple[str, ...] = ()  # parameters holding file paths (a spec's are relative to it)

    def parameters(self) -> list[str]:
        """The parameter names the factory takes (for messages and `--list-steps`)."""
        return [p.name for p in inspect.signature(self.factory).parameters.values()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


_STEPS: dict[str, RegisteredStep] = {}
_loaded = False


def register_step(
    name: str, *, stage: StepStage = "rows", path_params: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register `factory(**params) -> step` under `name`.

    `path_params` names the parameters that hold file paths: a path (a string, `{path, ...}`
    or `[path, field]`, alone or in a list) given relative in a spec is taken relative to the
    spec's folder, so a spec builds the same from any working directory.
    """
    if stage not in STAGES:
        raise ValueError(f"step {name!r}: stage must be one of {STAGES}, got {stage!r}")

    def wrap(factory: Callable[..., Any]) -> Callable[..., Any]:
        known = _STEPS.get(name)
        if known is not None and known.factory is not factory:
            qual = getattr(known.factory, "__qualname__", None)
            if qual != getattr(factory, "__qualname__", None) or known.factory.__module__ != factory.__module__:
                raise ValueError(f"step {name!r} is registered twice")
        doc = (inspect.getdoc(factory) or "").strip().splitlines()
        _STEPS[name] = RegisteredStep(name, factory, stage, doc[0] if doc else "", tuple(path_params))
        return factory

    return wrap


def load_steps() -> dict[str, RegisteredStep]:
    """Every registered step: rbkit's own, then the `rbkit.steps` entry points (once)."""
    global _loaded
    if not _loaded:
        for module in BUILTIN_STEP_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value)):
            try:
                target = ep.load()
                if isinstance(target, (list, tuple)):
                    for module in target:
                        importlib.import_module(module)
            except RbkitError:
                raise
            except Exception as exc:
                raise RbkitError(
                    f"step plugin '{ep.name}' ({ep.value}, entry point group {ENTRY_POINT_GROUP}) "
                    f"failed to load: {type(exc).__name__}: {exc}"
                ) from exc
        _loaded = True
    return dict(_STEPS)


def get_step(name: str) -> RegisteredStep:
    steps = load_steps()
    if name not in steps:
        raise UnknownStepError(name, sorted(steps))
    return steps[name]


def make_step(name: str, params: Mapping[str, Any] | None = None) -> tuple[RegisteredStep, Any]:
    """The registered entry and a step built from `params`; bad names or parameters raise."""
    entry = get_step(name)
    params = dict(params or {})
    try:
        inspect.signature(entry.factory).bind(**params)
    except TypeError as exc:
        takes = ", ".join(entry.parameters()) or "none"
        raise StepParamsError(f"step {name!r}: {exc} (parameters: {takes})") from None
    try:
        return entry, entry.factory(**params)
    except (TypeError, ValueError) as exc:
        raise StepParamsError(f"step {name!r}: {exc}") from None
