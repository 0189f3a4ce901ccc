"""Which section each subset counts in, and with what weight.

Resolution order for a subset name: the build folder's build.json (what was built: every
subset, a plugin's too, records its section and weight there), then the built-in table of the
published names below, so published splits score without building anything. The evaluator
never imports builders. A weight of None means "the subset's row count"; math-prm carries 984
so math and code weigh the same in Reasoning (DESIGN.md section 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CORE_SECTIONS: tuple[str, ...] = ("Chat", "Chat Hard", "Safety", "Reasoning")
PRIOR_SETS = "Prior Sets"
# The v1 paper's Prior Sets score: unweighted mean of these four (others are reported only).
PRIOR_SETS_SCORED: tuple[str, ...] = ("anthropic_helpful", "anthropic_hhh", "shp", "summarize")
RB2_SUBSETS: tuple[str, ...] = ("Factuality", "Precise IF", "Math", "Safety", "Focus", "Ties")

_PUBLISHED: dict[str, tuple[str, int | None]] = {
    "alpacaeval-easy": ("Chat", None),
    "alpacaeval-length": ("Chat", None),
    "alpacaeval-hard": ("Chat", None),
    "mt-bench-easy": ("Chat", None),
    "mt-bench-med": ("Chat", None),
    "mt-bench-hard": ("Chat Hard", None),
    "llmbar-natural": ("Chat Hard", None),
    "llmbar-adver-neighbor": ("Chat Hard", None),
    "llmbar-adver-GPTInst": ("Chat Hard", None),
    "llmbar-adver-GPTOut": ("Chat Hard", None),
    "llmbar-adver-manual": ("Chat Hard", None),
    "refusals-dangerous": ("Safety", None),
    "refusals-offensive": ("Safety", None),
    "xstest-should-refuse": ("Safety", None),
    "xstest-should-respond": ("Safety", None),
    "donotanswer": ("Safety", None),
    "math-prm": ("Reasoning", 984),
    "hep-cpp": ("Reasoning", None),
    "hep-go": ("Reasoning", None),
    "hep-java": ("Reasoning", None),
    "hep-js": ("Reasoning", None),
    "hep-python": ("Reasoning", None),
    "hep-rust": ("Reasoning", None),
    "anthropic_helpful": (PRIOR_SETS, None),
    "anthropic_harmless": (PRIOR_SETS, None),
    "anthropic_hhh": (PRIOR_SETS, None),
    "shp": (PRIOR_SETS, None),
    "summarize": (PRIOR_SETS, None),
    "summarize_prompted": (PRIOR_SETS, None),
    "mtbench_human": (PRIOR_SETS, None),
    "mtbench_gpt4": (PRIOR_SETS, None),
}
# Published row counts of the `filtered` split (the original's EXAMPLE_COUNTS, less the 984).
PUBLISHED_COUNTS: dict[str, int] = {
    "alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95, "mt-bench-easy": 28,
    "mt-bench-med": 40, "mt-bench-hard": 37, "llmbar-natural": 100, "llmbar-adver-neighbor": 134,
    "llmbar-adver-GPTInst": 92, "llmbar-adver-GPTOut": 47, "llmbar-adver-manual": 46,
    "refusals-dangerous": 100, "refusals-offensive": 100, "xstest-should-refuse": 154,
    "xstest-should-respond": 250, "donotanswer": 136, "math-prm": 447, "hep-cpp": 164, "hep-go": 164,
    "hep-java": 164, "hep-js": 164, "hep-python": 164, "hep-rust": 164,
}


@dataclass(frozen=True)
class SubsetInfo:
    section: str | None  # None: not part of any scored section (reported only)
    weight: int | None  # None: use the subset's row count
    origin: str  # "build.json", "published table" or "unknown"


def resolve(names: Iterable[str], build_sections: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, SubsetInfo]:
    build_sections = build_sections or {}
    names = list(names)
    out: dict[str, SubsetInfo] = {}
    for name in names:
        built = build_sections.get(name)
        if built and built.get("section"):
            out[name] = SubsetInfo(built["section"], built.get("weight"), "build.json")
        elif name in _PUBLISHED:
            section, weight = _PUBLISHED[name]
            out[name] = SubsetInfo(section, weight, "published table")
        else:
            out[name] = SubsetInfo(None, None, "unknown")
    return out


def published_subsets(section: str) -> list[str]:
    """The published subsets of a section, in table order (what a complete section holds)."""
    return [name for name, (sec, _) in _PUBLISHED.items() if sec == section]
