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
from rbkit.curation.validate import ValidationReport, validate_path
from rbkit.subsets.registry import SubsetSpec, load_all, select


def build(
    selectors: Sequence[str] = (),
    out: str | Path = "out",
    *,
    allow_missing: bool = False,
    **options: Any,
) -> BuildResult:
    """Build the selected subsets (names, sections, sources, 'core' or 'all') into `out`."""
    return run_build(select(selectors), Path(out), BuildOptions(**options), allow_missing=allow_missing)


def validate(path: str | Path) -> ValidationReport:
    return validate_path(Path(path))


def subsets() -> dict[str, SubsetSpec]:
    return load_all()


def load_build(path: str | Path) -> BuildFolder:
    return read_build(Path(path))


__all__ = ["BuildOptions", "build", "load_build", "subsets", "validate"]
