"""Trivial-baseline rulers and the build gate that reads them.

Why: "pick the longer answer" solves RewardBench's alpacaeval-easy and -hard outright, and no
build-time check said so. A ruler is a rule that needs no model: pick the longer response,
pick the shorter one, or pick the one whose bag of words is closest to the prompt's (cosine
similarity of term counts, which is length-normalised). Its accuracy on a subset, with a Wilson
95% interval, says how much of the subset a reward model can get right for a trivial reason.
The gate turns that into a warning or a failed build when a ruler is too good on a subset
whose authors did not declare that bias (`SubsetSpec.length_bias`).

Everything here is a pure function of rows and numbers; the build runner calls `rulers` for
each subset, `apply_gate` with the subset's declared bias, and prints `ruler_table`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rbkit.curation.errors import RbkitError
from rbkit.curation.rows import TrioRow

Z95 = 1.959963984540054  # two-sided 95% normal quantile
RULERS: tuple[str, ...] = ("longer", "shorter", "bow")
RULER_TITLES: dict[str, str] = {
    "longer": "pick the longer",
    "shorter": "pick the shorter",
    "bow": "bag-of-words closest to prompt",
}
# The ruler a declared length bias makes expected (and therefore exempt from the gate).
EXEMPT_BY_BIAS: dict[str, tuple[str, ...]] = {"longer": ("longer",), "shorter": ("shorter",), "none": ()}
_TOKEN = re.compile(r"[^\W_]+")


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (0, 1) when n is 0.

    Better than the normal interval at the small sizes (28-47 rows) and extreme accuracies
    (near 100%) that the rulers produce. Half-credit ties make `successes` fractional, which
    the formula accepts.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


# --- per-response scores ---------------------------------------------------------------------


def _prompt_text(prompt: str | Sequence[Mapping[str, str]]) -> str:
    if isinstance(prompt, str):
        return prompt
    return "\n".join(m.get("content", "") for m in prompt)


def _bag(text: str) -> Counter[str]:
    return Counter(t.lower() for t in _TOKEN.findall(text))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    """Cosine similarity of two term-count vectors (0 when either is empty)."""
    if not a or not b:
        return 0.0
    dot = sum(v * b[k] for k, v in a.items() if k in b)
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


ScoreFn = Callable[[str, str], float]  # (prompt, response) -> score; the ruler picks the highest

SCORERS: dict[str, ScoreFn] = {
    "longer": lambda prompt, response: float(len(response.strip())),
    "shorter": lambda prompt, response: -float(len(response.strip())),
    "bow": lambda prompt, response: cosine(_bag(prompt), _bag(response)),
}


def _sides(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def credit(row: TrioRow, ruler: str) -> float:
    """1 if the ruler's pick is a chosen response, 0 if rejected; a k-way tie at the top that
    includes c chosen responses earns c/k (the expected score of breaking the tie at random).

    For best-of-N rows (lists), every chosen completion counts as correct.
    """
    score = SCORERS[ruler]
    prompt = _prompt_text(row.prompt)
    chosen = [score(prompt, t) for t in _sides(row.chosen)]
    rejected = [score(prompt, t) for t in _sides(row.rejected)]
    top = max(chosen + rejected)
    winners_c = sum(1 for s in chosen if s == top)
    winners_r = sum(1 for s in rejected if s == top)
    return winners_c / (winners_c + winners_r)


def rulers(rows: Sequence[TrioRow]) -> dict[str, Any]:
    """Accuracy of each trivial ruler on `rows`, with ties and a Wilson 95% interval.

    Returns {"n": N, "longer": {...}, "shorter": {...}, "bow": {...}} where each ruler entry is
    {"accuracy", "ci95": [lo, hi], "correct", "ties"} (accuracy counts a tie as half).
    """
    out: dict[str, Any] = {"n": len(rows)}
    for name in RULERS:
        credits = [credit(r, name) for r in rows]
        total = sum(credits)
        lo, hi = wilson(total, len(rows))
        out[name] = {
            "accuracy": round(total / len(rows), 4) if rows else None,
            "ci95": [round(lo, 4), round(hi, 4)],
            "correct": sum(1 for c in credits if c == 1.0),
            "ties": sum(1 for c in credits if 0.0 < c < 1.0),
        }
    return out


# --- the gate --------------------------------------------------------------------------------

GateMode = Literal["off", "warn", "fail"]


@dataclass(frozen=True)
class GateConfig:
    """When a ruler is "too good": accuracy (or its CI lower bound) above `threshold`.

    `statistic="lower"` only flags subsets where even the Wilson lower bound is above the
    threshold, which avoids flagging 28-row subsets on noise.
    """

    threshold: float = 0.90
    mode: GateMode = "warn"
    statistic: Literal["point", "lower"] = "point"
    rulers: tuple[str, ...] = RULERS

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"gate threshold must be in (0, 1], got {self.threshold}")
        unknown = set(self.rulers) - set(RULERS)
        if unknown:
            raise ValueError(f"unknown rulers {sorted(unknown)}; known: {list(RULERS)}")

    def to_record(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "mode": self.mode, "statistic": self.statistic, "rulers": list(self.rulers)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> GateConfig:
        """The gate a build recorded in build.json (`gate`), so a later rewrite of the folder
        (`rbkit review pull`) judges its rows the same way; the default when none is recorded."""
        if not record:
            return cls()
        return cls(
            threshold=float(record["threshold"]),
            mode=record["mode"],
            statistic=record["statistic"],
            rulers=tuple(record["rulers"]),
        )


@dataclass(frozen=True)
class GateResult:
    subset: str
    status: Literal["ok", "warn", "fail", "off"]
    violations: tuple[str, ...] = ()
    exempt: tuple[str, ...] = field(default_factory=tuple)

    def to_record(self) -> dict[str, Any]:
        return {"status": self.status, "violations": list(self.violations), "exempt": list(self.exempt)}


class GateFailedError(RbkitError):
    """A subset is solved by a trivial ruler it was not declared to be biased towards."""


def apply_gate(subset: str, length_bias: str, table: Mapping[str, Any], config: GateConfig = GateConfig()) -> GateResult:
    """Judge one subset's ruler table; a declared length bias exempts the matching ruler."""
    exempt = EXEMPT_BY_BIAS.get(length_bias)
    if exempt is None:
        raise ValueError(f"{subset}: unknown length_bias {length_bias!r}; expected one of {sorted(EXEMPT_BY_BIAS)}")
    if config.mode == "off":
        return GateResult(subset, "off", (), exempt)
    violations = []
    for name in config.rulers:
        entry = table.get(name)
        if name in exempt or not entry or entry.get("accuracy") is None:
            continue
        value = entry["accuracy"] if config.statistic == "point" else entry["ci95"][0]
        if value > config.threshold:
            lo, hi = entry["ci95"]
            violations.append(
                f"{subset}: '{RULER_TITLES[name]}' is right on {entry['accuracy']:.1%} of {table['n']} pairs "
                f"(95% CI {lo:.1%}-{hi:.1%}), above the {config.threshold:.0%} gate, and the subset "
                f"declares length_bias={length_bias!r}"
            )
    status = ("fail" if config.mode == "fail" else "warn") if violations else "ok"
    return GateResult(subset, status, tuple(violations), exempt)


def raise_on_failures(results: Sequence[GateResult]) -> None:
    """Stop the build when any gate failed, listing every violation."""
    failed = [v for r in results if r.status == "fail" for v in r.violations]
    if failed:
        raise GateFailedError(
            "trivial-baseline gate failed (nothing was written):\n  " + "\n  ".join(failed) + "\n"
            "Fix the subset's filters, declare its length_bias if the bias is intended, "
            "or rerun with --gate warn."
        )


def gate_hook(config: GateConfig) -> Callable[[Any], None]:
    """A `curation.build.run_build` finalize hook: rulers and gate verdict of every built subset
    go into build.json (`subsets.<name>.rulers`, `subsets.<name>.gate`, top-level `gate`); a
    failed gate raises before anything is written. It reads only rows and build.json (the
    declared `length_bias` is there), so `rbkit review pull` can rerun it on a folder."""

    def hook(result: Any) -> None:
        verdicts = []
        for outcome in result.outcomes:
            info = result.manifest["subsets"][outcome.subset]
            table = rulers(outcome.rows)
            verdict = apply_gate(outcome.subset, info["length_bias"], table, config)
            info["rulers"] = table
            info["gate"] = verdict.to_record()
            verdicts.append(verdict)
        result.manifest["gate"] = config.to_record()
        raise_on_failures(verdicts)

    return hook


def render_summary(manifest: Mapping[str, Any]) -> list[Any]:
    """What the build summary prints about rulers: the table, then each gate warning."""
    subsets = {k: v for k, v in manifest.get("subsets", {}).items() if "rulers" in v}
    if not subsets:
        return []
    out: list[Any] = [ruler_table({k: v["rulers"] for k, v in subsets.items()}, {k: v["gate"] for k, v in subsets.items()})]
    for info in subsets.values():
        for line in info["gate"]["violations"]:
            out.append(f"[yellow]gate warning:[/] {line}")
    return out


def ruler_table(per_subset: Mapping[str, Mapping[str, Any]], gates: Mapping[str, Mapping[str, Any]] | None = None):
    """A rich Table of ruler accuracies (with CIs) per subset, and the gate status if given
    (gate records as in build.json: {"status", "violations", "exempt"})."""
    from rich.table import Table

    table = Table(title="trivial-baseline rulers (accuracy, 95% Wilson CI; ties count half)")
    table.add_column("subset", no_wrap=True, min_width=max(map(len, per_subset), default=6))  # names never cut
    table.add_column("n", justify="right")
    for name in RULERS:
        table.add_column(RULER_TITLES[name], justify="right")
    if gates is not None:
        table.add_column("gate")
    for subset in per_subset:
        t = per_subset[subset]
        cells = [subset, str(t["n"])]
        for name in RULERS:
            e = t[name]
            cells.append("-" if e["accuracy"] is None else f"{e['accuracy']:.1%} [{e['ci95'][0]:.0%}-{e['ci95'][1]:.0%}]")
        if gates is not None:
            g = gates.get(subset)
            status = g["status"] if g else "-"
            colour = {"fail": "red", "warn": "yellow"}.get(status)
            cells.append(f"[{colour}]{status}[/]" if colour else status)
        table.add_row(*cells)
    return table
