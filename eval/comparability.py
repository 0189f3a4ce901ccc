"""Whether a result can stand next to published RewardBench numbers, and what to call its overall.

A score is "RewardBench overall" only when every published core subset was scored, at its
published size, from the original data (not a stand-in source), on every row (no `--sample`).
Anything else is a "partial overall (N/23 subsets, substitutes: ..., short: ...)", so stand-in
or partial data never reads like a leaderboard number. What was built from a substitute
source is learnt from the dataset itself (build.json's per-subset `substitute`), never from
the builders; a plain file says nothing about its sources, so its provenance is "unknown"
and it is not comparable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rbkit.eval.sections import CORE_SECTIONS, PUBLISHED_COUNTS

# allenai/reward-bench-2, split test (DESIGN.md section 3).
RB2_COUNTS: dict[str, int] = {"Factuality": 475, "Precise IF": 160, "Math": 183, "Safety": 450, "Focus": 495, "Ties": 102}


@dataclass(frozen=True)
class Reference:
    """A published benchmark: the name its overall carries and the size of each of its subsets."""

    name: str
    source: str
    counts: Mapping[str, int]


REFERENCES: dict[str, Reference] = {
    "reward-bench": Reference("RewardBench", "allenai/reward-bench, split filtered", PUBLISHED_COUNTS),
    "reward-bench-2": Reference("RewardBench 2", "allenai/reward-bench-2, split test", RB2_COUNTS),
}
PROVENANCE = ("build.json", "published split", "unknown")


def assess(
    benchmark: str,
    counts: Mapping[str, int],
    substitutes: Mapping[str, str] | None,
    *,
    provenance: str,
    sample_per_subset: int | None = None,
) -> dict[str, Any]:
    """The `comparability` block of results.json.

    `counts` are the full row counts of the subsets that have rows (before `--sample`);
    `substitutes` maps a subset to the stand-in source it was rebuilt from, or is None when
    the dataset does not say (a plain file).
    """
    ref = REFERENCES[benchmark]
    present = [name for name in ref.counts if counts.get(name, 0) > 0]
    missing = [name for name in ref.counts if name not in present]
    subs = {n: substitutes[n] for n in ref.counts if substitutes and substitutes.get(n) and n in present}
    short = {n: {"rows": counts[n], "published": ref.counts[n]} for n in present if counts[n] < ref.counts[n]}
    over = {n: {"rows": counts[n], "published": ref.counts[n]} for n in present if counts[n] > ref.counts[n]}
    known = substitutes is not None
    comparable = not missing and not subs and not short and not over and known and sample_per_subset is None
    block: dict[str, Any] = {
        "reference": ref.source,
        "comparable": comparable,
        "subsets_present": len(present),
        "subsets_total": len(ref.counts),
        "missing": missing,
        "substitutes": subs,
        "short": short,
        "over": over,
        "sample_per_subset": sample_per_subset,
        "provenance": provenance if known else "unknown",
    }
    block["label"] = overall_label(block, benchmark)
    return block


def overall_label(block: Mapping[str, Any], benchmark: str, extra: Sequence[str] = ()) -> str:
    """"RewardBench overall" for a comparable result, else "partial overall (...)" saying why.

    `extra` adds reasons that concern one overall convention only (a missing Prior Sets).
    """
    if block["comparable"] and not extra:
        return f"{REFERENCES[benchmark].name} overall"
    parts = [f"{block['subsets_present']}/{block['subsets_total']} subsets"]
    if block["substitutes"]:
        parts.append("substitutes: " + ", ".join(block["substitutes"]))
    if block["short"]:
        parts.append("short: " + ", ".join(f"{n} {v['rows']}/{v['published']}" for n, v in block["short"].items()))
    if block["over"]:
        parts.append("over size: " + ", ".join(f"{n} {v['rows']}/{v['published']}" for n, v in block["over"].items()))
    if block["sample_per_subset"] is not None:
        parts.append(f"sampled: {block['sample_per_subset']} rows per subset")
    if block["provenance"] == "unknown":
        parts.append("sources unknown: no build.json")
    parts.extend(extra)
    return f"partial overall ({', '.join(parts)})"


def label_overall(block: Mapping[str, Any], benchmark: str, overall: dict[str, Any], sections: Mapping[str, Any]) -> None:
    """Give each overall convention its `label`; a convention using a section that is missing or
    incomplete (Prior Sets when none were scored) is partial even on comparable core data."""
    for entry in overall.values():
        if benchmark == "reward-bench-2":  # its overall weighs subsets, already counted in "N/6 subsets"
            entry["label"] = overall_label(block, benchmark)
            continue
        extra = []
        for name in [*entry.get("missing", []), *entry.get("weights", {})]:
            if name in CORE_SECTIONS and not block["comparable"]:
                continue  # a partial core is already told by the subsets count
            if name not in sections:
                extra.append(f"no {name}")
            elif not sections[name]["complete"]:
                extra.append(f"{name} incomplete")
        entry["label"] = overall_label(block, benchmark, extra)
