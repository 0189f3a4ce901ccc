"""The leaderboard as data: one row per result, one column per overall, section and subset.

Shared by the HTML page and the Markdown table so both show the same numbers. Results on
different benchmarks (RewardBench v1 pairs, RewardBench 2 best-of-N) get separate tables.
A subset that a result lacks while another result has it is a `missing` cell, never a zero
and never quietly dropped from an average: the overall of such a result carries its
"partial overall (...)" label and flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rbkit.eval.report import OVERALL_ORDER, SECTION_ORDER
from rbkit.eval.report_entry import Entry
from rbkit.eval.sections import PUBLISHED_COUNTS, RB2_SUBSETS

PUBLISHED_ORDER = {name: i for i, name in enumerate(PUBLISHED_COUNTS)}

BENCHMARK_TITLES = {"reward-bench": "RewardBench (v1)", "reward-bench-2": "RewardBench 2"}


@dataclass(frozen=True)
class Column:
    key: str  # "overall:<name>", "section:<name>", "subset:<name>"
    label: str
    group: str  # overall | section | subset


@dataclass(frozen=True)
class Cell:
    value: float | None
    ci95: tuple[float, float] | None = None
    state: str = "ok"  # ok | missing (not scored) | partial (an incomplete section or overall)
    note: str = ""


@dataclass
class Row:
    entry: int  # index into the report's entries
    name: str
    origin: str
    kind: str
    flags: list[str]
    label: str
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Leaderboard:
    benchmark: str
    columns: list[Column]
    rows: list[Row]

    @property
    def title(self) -> str:
        return BENCHMARK_TITLES.get(self.benchmark, self.benchmark)


def flags(comparability: dict[str, Any]) -> list[str]:
    """Short comparability flags: comparable, or partial / substitutes / sampled / unknown sources."""
    if comparability.get("comparable"):
        return ["comparable"]
    out = []
    if comparability.get("missing") or comparability.get("short") or comparability.get("over"):
        out.append("partial")
    if comparability.get("substitutes"):
        out.append("substitutes")
    if comparability.get("sample_per_subset") is not None:
        out.append("sampled")
    if comparability.get("provenance") == "unknown":
        out.append("unknown sources")
    return out or ["partial"]


def _ci(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if value else None


def _subset_order(entries: Sequence[Entry], benchmark: str) -> list[str]:
    rank = {name: i for i, name in enumerate(SECTION_ORDER)}
    seen: dict[str, str | None] = {}
    for e in entries:
        for name, s in e.results["subsets"].items():
            seen.setdefault(name, s.get("section"))
    if benchmark == "reward-bench-2":
        return sorted(seen, key=lambda n: (RB2_SUBSETS.index(n) if n in RB2_SUBSETS else len(RB2_SUBSETS), n))
    return sorted(seen, key=lambda n: (rank.get(seen[n] or "", len(rank)), PUBLISHED_ORDER.get(n, len(PUBLISHED_ORDER)), n))


def build(entries: Sequence[Entry]) -> list[Leaderboard]:
    """One leaderboard per benchmark, rows sorted by the first overall convention (best first)."""
    boards = []
    for benchmark in ("reward-bench", "reward-bench-2"):
        members = [(i, e) for i, e in enumerate(entries) if e.benchmark == benchmark]
        if not members:
            continue
        overall = [n for n in OVERALL_ORDER if any(n in e.results["overall"] for _, e in members)]
        sections = [n for n in SECTION_ORDER if any(n in e.results["sections"] for _, e in members)]
        subsets = _subset_order([e for _, e in members], benchmark)
        columns = ([Column(f"overall:{n}", n, "overall") for n in overall]
                   + [Column(f"section:{n}", n, "section") for n in sections]
                   + [Column(f"subset:{n}", n, "subset") for n in subsets])
        shared = shared_subsets([e for _, e in members])
        if shared:
            columns.insert(len(overall), Column(SHARED_KEY, f"mean of {len(shared)} shared subsets", "overall"))
        rows = []
        for i, e in members:
            res = e.results
            row = Row(i, e.name, e.origin, e.kind, flags(res["comparability"]), e.label)
            for n in overall:
                o = res["overall"].get(n)
                if o is None or o["value"] is None:
                    row.cells[f"overall:{n}"] = Cell(None, None, "missing", "no section of this convention was scored")
                else:
                    note = o.get("label", e.label)
                    state = "ok" if o.get("complete") and res["comparability"]["comparable"] else "partial"
                    row.cells[f"overall:{n}"] = Cell(o["value"], _ci(o["ci95"]), state, note)
            if shared:
                row.cells[SHARED_KEY] = shared_cell(e, shared)
            for n in sections:
                s = res["sections"].get(n)
                if s is None or s["score"] is None:
                    row.cells[f"section:{n}"] = Cell(None, None, "missing", "not scored")
                else:
                    missing = s.get("missing") or []
                    row.cells[f"section:{n}"] = Cell(s["score"], _ci(s["ci95"]), "ok" if s.get("complete") else "partial",
                                                     ("missing: " + ", ".join(missing)) if missing else "")
            for n in subsets:
                s = res["subsets"].get(n)
                if s is None or s["accuracy"] is None:
                    row.cells[f"subset:{n}"] = Cell(None, None, "missing", "not scored in this result")
                else:
                    row.cells[f"subset:{n}"] = Cell(s["accuracy"], _ci(s["ci95"]), "ok", f"n={s['n']}" if s.get("n") else "")
            rows.append(row)
        first = columns[0].key if columns else None
        rows.sort(key=lambda r: (r.cells[first].value is None, -(r.cells[first].value or 0.0), r.name) if first else r.name)
        boards.append(Leaderboard(benchmark, columns, rows))
    return boards


SHARED_KEY = "overall:shared"
SHARED_RESAMPLES, SHARED_SEED = 1000, 0


def shared_subsets(entries: Sequence[Entry]) -> list[str]:
    """The subsets every result scored, when the results do not all hold the same ones (else
    [] : the conventions already compare like with like)."""
    scored = [{n for n, s in e.results["subsets"].items() if s["accuracy"] is not None} for e in entries]
    if len(scored) < 2 or all(s == scored[0] for s in scored):
        return []
    return sorted(set.intersection(*scored))


def shared_cell(entry: Entry, shared: Sequence[str]) -> Cell:
    """Unweighted mean accuracy over the shared subsets, so a partial result and a complete one
    can be set side by side on the same data; bootstrap CI from the per-pair credits when the
    result has them (seeded per subset as in `rbkit eval`)."""
    from rbkit.eval.stats import bootstrap_means, percentile_ci, seeded_rng

    subs = entry.results["subsets"]
    value = sum(subs[n]["accuracy"] for n in shared) / len(shared)
    credits = {n: [r.correct for r in entry.rows if r.subset == n] for n in shared}
    ci = None
    if all(credits.values()) and all(subs[n].get("metric") != "ties-formula" for n in shared):
        import numpy as np

        samples = sum(bootstrap_means(np.asarray(credits[n]), SHARED_RESAMPLES, seeded_rng(SHARED_SEED, n)) for n in shared)
        ci = percentile_ci(samples / len(shared))
    return Cell(value, ci, "ok", "unweighted mean over the subsets every result in this table scored: " + ", ".join(shared))


def cell_text(cell: Cell, *, with_ci: bool = True) -> str:
    """"72.3 [68.1, 76.0]" in percent; "—" for a missing value; "*" marks a partial one."""
    if cell.value is None:
        return "—"
    text = f"{100 * cell.value:.1f}" + ("*" if cell.state == "partial" else "")
    if with_ci and cell.ci95 is not None:
        text += f" [{100 * cell.ci95[0]:.1f}, {100 * cell.ci95[1]:.1f}]"
    return text
