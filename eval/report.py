"""Rich tables for a result folder (`rbkit report DIR`) and a comparison (`rbkit compare A B`)."""

from __future__ import annotations

from typing import Any

from rbkit.eval.scoring import CONVENTIONS
from rbkit.eval.sections import CORE_SECTIONS, PRIOR_SETS
from rich.console import Console, Group
from rich.table import Table

SECTION_ORDER = (*CORE_SECTIONS, PRIOR_SETS)
OVERALL_ORDER = (*(c.name for c in CONVENTIONS), "rb2_mean_6_subsets")


def ordered(block: dict[str, Any], order: tuple[str, ...]) -> list[tuple[str, Any]]:
    return sorted(block.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def ci(c: list[float] | None) -> str:
    return "—" if not c else f"[{100 * c[0]:.1f}, {100 * c[1]:.1f}]"


def signed(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:+.1f}"


def pval(p: float | None) -> str:
    return "—" if p is None else (f"{p:.3f}" if p >= 0.001 else "<0.001")


def results_tables(res: dict[str, Any]) -> Group:
    model = res["model"]
    title = f"{model['id']} — {res['kind']}" + (f" (ref {res['ref_model']['id']})" if res.get("ref_model") else "")
    subsets = Table(title=title, caption=f"{res['benchmark']} · template {res['rendering']['template']} · "
                    f"dtype {res['dtype']} · ties {res['config']['ties']}")
    for col, just in (("section", "left"), ("subset", "left"), ("n", "right"), ("score", "right"),
                      ("95% CI", "right"), ("ties", "right"), ("trunc.", "right")):
        subsets.add_column(col, justify=just, no_wrap=col != "section")  # type: ignore[arg-type]
    rank = {name: i for i, name in enumerate(SECTION_ORDER)}
    order = sorted(res["subsets"].items(), key=lambda kv: (rank.get(kv[1]["section"], len(rank)), kv[0]))
    for name, s in order:
        subsets.add_row(s["section"] or "—", name, str(s["n"]), pct(s["accuracy"]), ci(s["ci95"]),
                        str(s["ties"]), str(s["truncated"]))
    parts: list[Any] = [subsets]
    if res.get("judge"):
        parts.append(judge_table(res["judge"]))
    if res["sections"]:
        sec = Table(title="sections")
        for col in ("section", "score", "95% CI", "complete", "missing"):
            sec.add_column(col)
        for name, s in ordered(res["sections"], SECTION_ORDER):
            sec.add_row(name, pct(s["score"]), ci(s["ci95"]), "yes" if s["complete"] else "no",
                        ", ".join(s["missing"]) or "—")
        parts.append(sec)
    comp = res["comparability"]
    ov = Table(title=f"overall: {comp['label']}", caption=f"compared with {comp['reference']}")
    ov.add_column("convention", no_wrap=True)
    for col in ("value", "95% CI", "complete", "label"):
        ov.add_column(col, no_wrap=True)
    definitions = []
    for name, o in ordered(res["overall"], OVERALL_ORDER):
        ov.add_row(name, pct(o["value"]), ci(o["ci95"]), "yes" if o["complete"] else "no", short_label(o["label"]))
        own = extra_label(o["label"], comp["label"])
        definitions.append(f"[dim]{name}: {o['definition']}{own}[/]")
    parts.append(ov)
    parts.extend(definitions)  # below the table: a definition column would squeeze to nothing at 80 columns
    parts.append(comparability_line(comp))
    run = res["run"]
    rate = run.get("pairs_per_second")
    parts.append(
        f"[dim]{run['rows_scored']} rows scored, {run['rows_cached']} from cache, {run['seconds']:.1f}s"
        + (f", {rate:.1f} pairs/s" if rate else "")
        + (f", padding {100 * run['padding_fraction']:.1f}%" if run.get("padding_fraction") is not None else "")
        + (f"; judge requests: {run['requests_sent']} sent, {run['requests_cached']} from cache"
           if "requests_sent" in run else "")
        + "[/]"
    )
    return Group(*parts)


def judge_table(judge: dict[str, Any]) -> Table:
    """A generative judge's position bias and failures, per subset and overall."""
    orders = "both answer orders" if judge["orders"] == 2 else "one seeded order"
    table = Table(title=f"judge: {judge['model']} ({judge['backend']}), {judge['mode']}, {orders}",
                  caption=f"prompt {judge['prompt']['name']} sha256 {judge['prompt']['sha256'][:12]} · "
                  "consistency: same winner in both orders · first: verdicts for the answer shown first")
    for col, just in (("subset", "left"), ("requests", "right"), ("consistency", "right"), ("first", "right"),
                      ("unparseable", "right"), ("errors", "right")):
        table.add_column(col, justify=just, no_wrap=col == "subset")  # type: ignore[arg-type]
    for name, s in [*judge["subsets"].items(), ("overall", judge["overall"])]:
        table.add_row(name, str(s["requests"]), pct(s["position_consistency"]), pct(s["first_position_rate"]),
                      str(s["unparseable"]), str(s["errors"]), style="bold" if name == "overall" else None)
    return table


def extra_label(own: str, common: str) -> str:
    """What a convention's label adds to the common one (e.g. "Prior Sets incomplete"), or ""."""
    if own == common:
        return ""
    if common.endswith(")") and own.startswith(common[:-1]) and own.endswith(")"):
        return f" ({own[len(common) - 1:-1].lstrip(', ')})"
    return f" ({own})"


def short_label(label: str) -> str:
    """The label's first words for a table cell; the title and the line below carry the rest."""
    return label.split(" (", 1)[0]


def comparability_line(comp: dict[str, Any]) -> str:
    """One line saying whether the overall may be set beside published numbers, and if not, why."""
    if comp["comparable"]:
        return f"[green]comparable to {comp['reference']}: {comp['label']}[/]"
    why = [f"{comp['subsets_present']}/{comp['subsets_total']} published subsets present"]
    if comp["missing"]:
        why.append("missing: " + ", ".join(comp["missing"]))
    if comp["substitutes"]:
        why.append("built from a substitute source: " + "; ".join(f"{n} ({v})" for n, v in comp["substitutes"].items()))
    if comp["short"]:
        why.append("short of the published size: " + ", ".join(f"{n} {v['rows']}/{v['published']}"
                                                                for n, v in comp["short"].items()))
    if comp["over"]:
        why.append("above the published size: " + ", ".join(f"{n} {v['rows']}/{v['published']}"
                                                             for n, v in comp["over"].items()))
    if comp["sample_per_subset"] is not None:
        why.append(f"--sample {comp['sample_per_subset']}: not every row was scored")
    if comp["provenance"] == "unknown":
        why.append("the dataset has no build.json, so its sources are unknown")
    return f"[yellow]NOT comparable to {comp['reference']} ({'; '.join(why)})[/]"


VERDICT_SHORT = {"better": "better", "worse": "worse", "no detectable difference": "n.d."}


def _verdict(s: dict[str, Any]) -> str:
    v = s.get("verdict")
    return "—" if v is None else VERDICT_SHORT.get(v, v)


def comparison_tables(cmp: dict[str, Any]) -> Group:
    from rich import box

    head = Table(title=f"A = {cmp['a']['model']}   B = {cmp['b']['model']}", box=box.SIMPLE_HEAD, pad_edge=False,
                 collapse_padding=True, show_edge=False, caption=f"{cmp['pairs']} shared pairs · paired bootstrap ({cmp['resamples']}) · A/B: pairs only A / "
                 "only B got right · p: exact McNemar, Holm-adjusted across subsets (raw p in --json)")
    for col in ("subset", "n", "A", "B", "A−B", "95% CI", "A/B", "p Holm", "A is"):
        head.add_column(col, justify="left" if col in ("subset", "A is") else "right", no_wrap=col != "95% CI")
    for name, s in cmp["subsets"].items():
        head.add_row(name, str(s["n"]), pct(s["a"]), pct(s["b"]), signed(s["delta"]), ci(s["ci95"]),
                     f"{s['a_only']}/{s['b_only']}", pval(s.get("p_holm")), _verdict(s))
    parts: list[Any] = [head]
    label = cmp["comparability"]["label"] if "comparability" in cmp else None
    for title, block, order in (("sections", cmp["sections"], SECTION_ORDER),
                                ("overall" + (f": {label}" if label else ""), cmp["overall"], OVERALL_ORDER)):
        if not block:
            continue
        t = Table(title=title, caption="p: paired bootstrap, Holm-adjusted within the table")
        for col in ("name", "A", "B", "A−B", "95% CI", "p Holm", "A is"):
            t.add_column(col, no_wrap=True)
        for name, s in ordered(block, order):
            t.add_row(short_name(name), pct(s["a"]), pct(s["b"]), signed(s["delta"]), ci(s["ci95"]),
                      pval(s.get("p_holm")), _verdict(s))
        parts.append(t)
    parts.append(f"[dim]A is better/worse only where the Holm-adjusted p < {cmp.get('alpha', 0.05)}; "
                 "n.d. = no detectable difference[/]")
    if "comparability" in cmp:
        parts.append(comparability_line(cmp["comparability"]))
    if cmp["only_in_a"] or cmp["only_in_b"]:
        parts.append(f"[yellow]{cmp['only_in_a']} pair(s) only in A and {cmp['only_in_b']} only in B were left out[/]")
    return Group(*parts)


def short_name(name: str) -> str:
    """Overall convention names short enough for 80 columns (the full names are in results.json)."""
    return {"paper_v1_5_sections": "paper_v1_5", "leaderboard_2_2_2_2_1": "leaderboard_22221",
            "mean_4_sections": "mean_4", "rb2_mean_6_subsets": "rb2_mean_6"}.get(name, name)


def print_results(res: dict[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(results_tables(res))


def print_comparison(cmp: dict[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(comparison_tables(cmp))
