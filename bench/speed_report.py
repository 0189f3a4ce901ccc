"""Figures per evaluator and kind, the side-by-side table, and the targets of issue 10.

Definitions (the same for both sides):
- wall: the evaluator's whole process, from launch to exit (imports, model and data loading,
  tokenisation, scoring, writing results); pairs/s and tokens/s use it.
- scoring: first trunk forward to last; what the hardware comparison uses.
- tokens: the tokens of the chosen and rejected sequences as that evaluator builds them
  (prompt counted in both, no padding): the workload, whatever is shared or padded.
- computed: token positions the trunk ran (padding included, shared prefixes once);
  padding = 1 - real / computed.
- FLOPs: executed = computed positions x projections/MLP + dense attention over each padded
  batch + vocabulary projections; needed = the same for real tokens only, causal attention.
  Achieved GFLOP/s = executed / scoring seconds, against the measured matmul peak. The
  hardware limit is the machine doing rbkit's needed FLOPs (prompt once, no padding) at peak.
"""

from __future__ import annotations

from typing import Any

from speed_matmul import LlamaCost

TARGETS = {"classifier": 2.5, "dpo": 2.0}
# (label, figure key, format, ratio: "" none, "plain" rbkit/original, "inverse" original/rbkit)
ROWS = (
    ("wall seconds", "wall_s", ".1f", "inverse"),
    ("CPU seconds (process)", "cpu_s", ".1f", "inverse"),
    ("pairs/s (wall)", "pairs_per_s", ".3f", "plain"),
    ("tokens/s (wall)", "tokens_per_s", ".0f", "plain"),
    ("scoring seconds", "score_s", ".1f", "inverse"),
    ("tokens in pairs", "tokens", ",d", ""),
    ("positions computed", "computed_positions", ",d", "plain"),
    ("padding share", "padding_fraction", ".1%", ""),
    ("trunk forwards", "forwards", "d", ""),
    ("peak RSS MB", "peak_rss_mb", ".0f", "plain"),
    ("GFLOP executed", "executed_gflop", ".0f", "plain"),
    ("GFLOP needed", "needed_gflop", ".0f", "plain"),
    ("achieved GFLOP/s (scoring)", "achieved_gflops", ".1f", "plain"),
)


def flops(record: dict[str, Any], cost: LlamaCost, logit_rows: int | None) -> tuple[float, float]:
    """(executed, needed) FLOPs from the forward log; `logit_rows`: vocabulary rows actually
    projected (None: every computed position, as the original's DPO does; 0: classifier)."""
    executed = needed = 0.0
    positions = 0
    for rows, width, past, real, _past_real, attn in record["forwards"]:
        executed += rows * width * cost.per_token + rows * width * (past + width) * cost.per_attended
        needed += real * cost.per_token + attn * cost.per_attended
        positions += rows * width
    if logit_rows is None:
        executed += positions * cost.per_logit_row
        needed += record["response_tokens"] * cost.per_logit_row
    else:
        executed += logit_rows * cost.per_logit_row
        needed += logit_rows * cost.per_logit_row
    return executed, needed


def side_figures(record: dict[str, Any], wall_s: float, maxrss_kb: int, cost: LlamaCost,
                 logit_rows: int | None) -> dict[str, Any]:
    pairs = len(record["ids"])
    computed = sum(f[0] * f[1] for f in record["forwards"])
    real = sum(f[3] for f in record["forwards"])
    executed, needed = flops(record, cost, logit_rows)
    score_s = record["score_s"]
    return {
        "pairs": pairs,
        "wall_s": wall_s,
        "cpu_s": record.get("process_cpu_s"),
        "score_s": score_s,
        "pairs_per_s": pairs / wall_s,
        "tokens": record["pair_tokens"],
        "tokens_per_s": record["pair_tokens"] / wall_s,
        "scoring_pairs_per_s": pairs / score_s if score_s else None,
        "computed_positions": computed,
        "real_positions": real,
        "padding_fraction": 1 - real / computed if computed else 0.0,
        "forwards": len(record["forwards"]),
        "peak_rss_mb": maxrss_kb / 1024,
        "executed_gflop": executed / 1e9,
        "needed_gflop": needed / 1e9,
        "achieved_gflops": executed / 1e9 / score_s if score_s else None,
        "threads": record["threads"],
    }


def agreement(orig: dict[str, Any], mine: dict[str, Any]) -> float:
    same = sum(1 for a, b in zip(orig["results"], mine["results"], strict=True) if a == b)
    return same / len(orig["results"])


def compare(kind: str, orig: dict[str, Any], mine: dict[str, Any], peak_gflops: float,
            target: float | None = None) -> dict[str, Any]:
    o, m = orig["figures"], mine["figures"]
    limit_s = m["needed_gflop"] / peak_gflops
    out = {
        "throughput_ratio": o["wall_s"] / m["wall_s"],
        "scoring_ratio": o["score_s"] / m["score_s"] if m["score_s"] else None,
        "target_ratio": TARGETS[kind] if target is None else target,
        "agreement": agreement(orig["record"], mine["record"]),
        "hardware_limit_s": limit_s,
        "hardware_limit_tokens_per_s": m["tokens"] / limit_s if limit_s else None,
        "rbkit_share_of_limit": (m["tokens_per_s"] / (m["tokens"] / limit_s)) if limit_s else None,
        "memory_ok": m["peak_rss_mb"] <= o["peak_rss_mb"],
    }
    out["ratio_ok"] = out["throughput_ratio"] >= out["target_ratio"]
    return out


def render(results: dict[str, Any]) -> None:
    """The side-by-side table (rich), one block per kind, then the targets."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    mm = results["matmul"]
    console.print(
        f"[bold]fp32 matmul on this machine[/] ({mm['threads']} threads): "
        + ", ".join(f"{k} {v:.0f}" for k, v in mm["gflops"].items())
        + f" GFLOP/s; peak {mm['peak_gflops']:.0f} GFLOP/s"
    )
    console.print(f"load average before: {results['load_before']}, after: {results['load_after']}"
                  + ("  [yellow](machine was not quiet: timings are inflated)[/]" if results["load_before"][0] > 0.7 else ""))
    for kind, block in results["kinds"].items():
        o, m, c = block["original"]["figures"], block["rbkit"]["figures"], block["comparison"]
        table = Table(title=f"{kind}: {o['pairs']} pairs, fp32 CPU — {block['original']['label']} vs {block['rbkit']['label']}")
        table.add_column("figure")
        table.add_column("rewardbench 0.1.4", justify="right")
        table.add_column("rbkit", justify="right")
        table.add_column("rbkit / original", justify="right")

        for name, key, fmt, ratio in ROWS:
            a, b = o.get(key), m.get(key)
            shown = ""
            if ratio and a and b:
                shown = f"{(a / b if ratio == 'inverse' else b / a):.2f}x"
            table.add_row(name, format(a, fmt) if a is not None else "-", format(b, fmt) if b is not None else "-", shown)
        table.add_row("decisions agreeing", "", f"{c['agreement']:.1%}", "")
        console.print(table)
        console.print(
            f"  hardware limit (rbkit's needed FLOPs at the {mm['peak_gflops']:.0f} GFLOP/s peak): "
            f"{c['hardware_limit_tokens_per_s']:.0f} tokens/s; rbkit reaches {c['rbkit_share_of_limit']:.0%} of it "
            f"(original: {o['tokens_per_s'] / c['hardware_limit_tokens_per_s']:.0%})"
        )
        if "previous_path" in block:
            pp = block["previous_path"]
            console.print(f"  rbkit against its previous path (torch's fp32 GEMM, untimed rerun): max |score diff| "
                          f"{pp['max_abs_score_diff']:.2e}, same decisions {pp['same_decisions']}/{pp['pairs']} "
                          f"{'[green]ok[/]' if pp['within_1e-5'] else '[red]NOT within 1e-5[/]'}; its scoring "
                          f"took {pp['previous_score_s']:.1f} s", highlight=False)
        ex = block["explain"]
        console.print(
            f"  inputs identical on {ex['pairs_with_identical_inputs']}/{o['pairs']} pairs; "
            f"{len(ex['disagreements'])} disagreements, {ex['explained_by_inputs']} reproduced by replaying the "
            f"original's tokens through rbkit; control replay max |Δscore| {ex['control_replay_max_abs_diff']:.2e} "
            f"on {ex['control_pairs']} agreeing pairs"
        )
        for d in ex["disagreements"]:
            console.print(f"   - {d['subset']}/{d['id']}: margin original {d['original_margin']:+.4g}, rbkit {d['rbkit_margin']:+.4g}, "
                          f"replay {d['replay_margin']:+.4g}: {d['reason']}", highlight=False)
        for n, pattern in ex.get("input_patterns", {}).items():
            console.print(f"   input pattern {n} ({pattern['pairs']} pairs): chosen: {pattern['chosen']}; "
                          f"rejected: {pattern['rejected']}", highlight=False)
    console.print("[bold]targets[/]")
    ok_all = True
    for kind, block in results["kinds"].items():
        c, o, m = block["comparison"], block["original"]["figures"], block["rbkit"]["figures"]
        ok = c["ratio_ok"] and c["memory_ok"]
        ok_all &= ok
        console.print(
            f"  {kind}: throughput {c['throughput_ratio']:.2f}x (target {c['target_ratio']}x) "
            f"{'[green]ok[/]' if c['ratio_ok'] else '[red]MISSED[/]'}; peak RSS {m['peak_rss_mb']:.0f} vs "
            f"{o['peak_rss_mb']:.0f} MB {'[green]ok[/]' if c['memory_ok'] else '[red]MISSED[/]'}; "
            f"padding {o['padding_fraction']:.1%} -> {m['padding_fraction']:.1%}"
        )
    results["targets_met"] = ok_all
