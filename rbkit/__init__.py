"""rbkit: rebuild, verify, review, publish and evaluate RewardBench.

    import rbkit
    result = rbkit.build(["llmbar"], "out")

The public API (`rbkit.api`) loads on first use, so that importing one floor (`rbkit.eval`,
`rbkit.curation`, ...) never loads the others, and `rbkit --help` starts at once. The list of
subsets is `rbkit.list_subsets()`: `rbkit.subsets` is the package of built-in builders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["BuildOptions", "build", "list_subsets", "load_build", "validate"]

if TYPE_CHECKING:
    from rbkit.api import BuildOptions, build, list_subsets, load_build, validate


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rbkit import api

        return getattr(api, name)
    raise AttributeError(f"module 'rbkit' has no attribute {name!r}")
