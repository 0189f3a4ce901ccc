"""`rbkit build`: rebuild subsets from pinned sources into a Hub-ready folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from rbkit.curation.build import BuildResult
    from rbkit.curation.gates import GateConfig
    from rbkit.curation.pipeline import BuildOptions
    from rbkit.curation.registry import SubsetSpec
    from rbkit.curation.spec_build import DeclaredSubset


def register(app: typer.Typer) -> None:
    app.command("build")(build)


def build(
    selectors: list[str] = typer.Argument(None, help="Subsets, sections (chat, chat-hard, safety, reasoning, prior-sets), sources (llmbar, ...), 'core' or 'all' (default)."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder (replaced atomically when the build succeeds)."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Send malformed source rows to dropped.jsonl instead of stopping."),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Build the other subsets when some sources are missing, and list the missing ones in build.json and on the card. Without it a missing source writes nothing and exits 3."),
    skip_verify: bool = typer.Option(False, "--skip-verify", help="Skip verifiers that need language toolchains."),
    seed: int = typer.Option(0, help="Base seed for selections (per-subset seeds derive from it)."),
    target_size: int | None = typer.Option(None, "--target-size", help="Select this many rows per subset instead of the published size."),
    keep_all: bool = typer.Option(False, "--all", help="Keep every surviving candidate (no selection)."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Parallel verification workers (0 = all cores)."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Verification cache (default ~/.cache/rbkit/verify)."),
    review_dir: Path | None = typer.Option(None, "--review-decisions", help="Apply review decisions from this folder (written by `rbkit review pull`)."),
    gate: str = typer.Option("warn", "--gate", help="Trivial-baseline gate when a ruler (longer/shorter/bag-of-words) beats --gate-threshold on a subset not declared length-biased: off, warn or fail."),
    gate_threshold: float = typer.Option(0.9, "--gate-threshold", help="Ruler accuracy above which the gate warns or fails."),
    plugin: list[Path] = typer.Option(None, "--plugin", help="A Python file that registers more subsets (CONTRIBUTING.md, 'Add a subset in one file'); repeatable."),
    allow_sandbox_network: bool = typer.Option(False, "--allow-sandbox-network", help="Run code candidates even where the sandbox cannot get a private network namespace (recorded in build.json and on the card). Without it such a machine stops code verification."),
    spec: list[Path] = typer.Option(None, "--spec", help="A subset spec (.toml/.yaml) or a folder of them, built like the registered subsets; repeatable. With --spec and no selectors only the specs are built."),
    fetch: bool = typer.Option(False, "--fetch", help="Download the Hub and URL sources of --spec files into the cache (sha256-checked) before building."),
    list_steps: bool = typer.Option(False, "--list-steps", help="Print the step names a spec may use, with their parameters, and exit."),
) -> None:
    """Run builders, filters, verifiers and the schema check; write parquet, build.json and dropped.jsonl.

    A missing source writes nothing and exits 3, naming every missing file with its pin and
    fetch command, unless --allow-missing.
    """
    from rich.console import Console
    from rich.markup import escape

    from rbkit.curation.errors import SourceMissingError
    from rbkit.curation.gates import GateConfig
    from rbkit.curation.pipeline import BuildOptions
    from rbkit.curation.registry import load_plugin, select
    from rbkit.curation.spec_build import combine

    if gate not in ("off", "warn", "fail"):
        raise typer.BadParameter(f"--gate must be off, warn or fail, not {gate!r}")
    gate_config = GateConfig(threshold=gate_threshold, mode=gate)  # type: ignore[arg-type]

    if list_steps:
        _print_steps()
        return
    for path in plugin or []:
        load_plugin(path)
    declared = _declared(spec or [], fetch)
    specs = combine(select(selectors or []) if selectors or not declared else [], declared)
    options = BuildOptions(
        keep_going=keep_going,
        skip_verify=skip_verify,
        seed=seed,
        target_size=target_size,
        keep_all=keep_all,
        jobs=jobs,
        cache_dir=cache_dir,
        review_dir=review_dir,
        allow_sandbox_network=allow_sandbox_network,
    )
    console = Console(stderr=True)
    try:
        result = _run(specs, out, options, allow_missing, gate_config, console, declared)
    except SourceMissingError as exc:  # raised before anything is written: `out` is unchanged
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    print_summary(result, console)
    if result.missing:
        names = ", ".join(m.subset for m in result.missing)
        console.print(f"[bold yellow]partial build[/]: missing subsets {names} (recorded in build.json and README.md)", soft_wrap=True)


def _run(
    specs: list[SubsetSpec],
    out: Path,
    options: BuildOptions,
    allow_missing: bool,
    gate_config: GateConfig,
    console: Console,
    declared: list[DeclaredSubset] = (),  # type: ignore[assignment]
) -> BuildResult:
    """run_build under a progress bar."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from rbkit.curation.build import run_build

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[subset]}"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        overall = progress.add_task("", total=len(specs), subset="build")
        current: dict[str, int] = {}

        def on_progress(subset: str, stage: str) -> None:
            if subset not in current:
                if current:
                    progress.update(overall, advance=1)
                current[subset] = 1
            progress.update(overall, description=f"{subset}: {stage}")

        finalize = []
        if declared:
            from rbkit.curation.spec_build import spec_record_hook

            finalize.append(spec_record_hook(list(declared)))
        result = run_build(specs, out, options, allow_missing=allow_missing, progress=on_progress,
                           gate=gate_config, finalize=finalize)
        progress.update(overall, completed=len(specs), description="done")
    return result


def _declared(paths: list[Path], fetch: bool) -> list[DeclaredSubset]:
    """The --spec files, parsed, checked against the registry and with every source verified
    (a wrong hash stops here, naming the spec line, before anything is written)."""
    if not paths:
        return []
    from rbkit.curation.spec_build import prepare

    return prepare(paths, download=fetch)


def _print_steps() -> None:
    from rbkit.curation.steps_registry import load_steps

    for name, entry in sorted(load_steps().items()):
        params = ", ".join(entry.parameters()) or "-"
        typer.echo(f"{name}  [{entry.stage}]  params: {params}\n    {entry.summary}")


def print_summary(result: BuildResult, console: Console) -> None:
    from rich.table import Table

    manifest = result.manifest
    table = Table(title=f"build {result.out}")
    names = [*manifest["subsets"], *manifest["missing"]]
    # Subset names never truncate; each drop reason keeps one line (cut with an ellipsis), and
    # dropped.jsonl has them whole.
    table.add_column("subset", no_wrap=True, min_width=max(map(len, names), default=6))
    for col in ("section", "expected", "built", "dropped"):
        table.add_column(col, justify="right" if col != "section" else "left", no_wrap=True)
    wide = console.width >= 120  # on a narrow terminal the reasons stay in build.json / dropped.jsonl
    if wide:
        table.add_column("main drop reasons", no_wrap=True, overflow="ellipsis",
                         max_width=console.width - 24 - max(map(len, names), default=6) - 40)
    for name, info in manifest["subsets"].items():
        reasons = sorted(info["dropped_by_reason"].items(), key=lambda kv: -kv[1])[:3]
        reason_text = "\n".join(f"{n}× {r}" for r, n in reasons)
        built = str(info["built"])
        if info["expected"] is not None and info["built"] != info["expected"]:
            built = f"[yellow]{built}[/]"
        table.add_row(name, info["section"], str(info["expected"] or "-"), built, str(info["dropped"]),
                      *([reason_text] if wide else []))
    for name in manifest["missing"]:
        table.add_row(name, "", "", "[red]missing[/]", "", *([""] if wide else []))
    console.print(table)
    for name, files in manifest["missing"].items():
        for source, info in files.items():  # every missing file, not just the first
            console.print(
                f"[red]{name}[/]: source '{source}' missing: {info['repo']}@{info['revision'][:12]} "
                f"{info['path']} ({info['pin']}); fetch: `{info['fetch']}`",
                highlight=False,
                soft_wrap=True,
            )
    from rbkit.curation import dedup, gates

    for item in [*gates.render_summary(manifest), *dedup.render_summary(manifest)]:
        console.print(item)
    shown: set[str] = set()  # builders' one-line notes (report["summary"]), each printed once
    for name, info in manifest["subsets"].items():
        for line in info["report"].get("summary", []):
            if line not in shown:
                shown.add(line)
                console.print(f"{name}: {line}", highlight=False)
    console.print(
        f"{manifest['totals']['built']} rows built, {manifest['totals']['dropped']} dropped "
        f"(see {result.out / 'dropped.jsonl'}), {result.timings['total_seconds']:.1f}s"
    )
