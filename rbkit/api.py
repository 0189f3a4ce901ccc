"""The public Python API: thin entry points over `curation`, `subsets` and `eval`.

    import rbkit
    result = rbkit.build(["llmbar"], "out")
    report = rbkit.validate("out")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rbkit.curation.build import BuildFolder, BuildResult, read_build, run_build
from rbkit.curation.pipeline import BuildOptions
from rbkit.curation.registry import SubsetSpec, load_all, select
from rbkit.curation.validate import ValidationReport, validate_path


def build(
    selectors: Sequence[str] = (),
    out: str | Path = "out",
    *,
    allow_missing: bool = False,
    specs: Sequence[str | Path] = (),
    fetch: bool = False,
    **options: Any,
) -> BuildResult:
    """Build the selected subsets (names, sections, sources, 'core' or 'all') into `out`.

    Like `rbkit build`: a missing source raises SourceMissingError (every missing file, its pin
    and the fetch command) before anything is written, unless `allow_missing=True`; then the
    other subsets are built and the missing ones are listed in build.json["missing"] and on the
    card. `out` is replaced in one atomic step, only when the build succeeded.

    `specs` (like `rbkit build --spec`): subset spec files or folders of them, built beside the
    selected subsets (alone when no selector is given); `fetch` downloads their Hub/URL sources.
    """
    from rbkit.curation.spec_build import combine, prepare, spec_record_hook

    declared = prepare([Path(p) for p in specs], download=fetch) if specs else []
    chosen = select(selectors) if selectors or not declared else []
    return run_build(combine(list(chosen), declared), Path(out), BuildOptions(**options),
                     allow_missing=allow_missing, finalize=[spec_record_hook(declared)] if declared else [])


def validate(path: str | Path) -> ValidationReport:
    return validate_path(Path(path))


def list_subsets() -> dict[str, SubsetSpec]:
    """Every registered subset by name (built-in, installed plugins, and files loaded with
    `rbkit.curation.registry.load_plugin`)."""
    return load_all()


def load_build(path: str | Path) -> BuildFolder:
    return read_build(Path(path))


__all__ = ["BuildOptions", "build", "list_subsets", "load_build", "validate"]
