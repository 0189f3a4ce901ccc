"""`rbkit sources list|fetch|check`: the pinned upstream files every builder reads."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    pass

sources_app = typer.Typer(help="Pinned upstream source files: list, fetch into the cache, check a mirror.", no_args_is_help=True,
                          rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")


def _registered(selectors: list[str]):
    from rbkit.curation.registry import all_sources, select

    if not selectors:
        return all_sources()
    seen = {}
    for spec in select(selectors):
        for src in spec.sources:
            seen.setdefault(src.name, src)
    return list(seen.values())


def _by_name_or_subset(names: list[str]):
    from rbkit.curation.registry import all_sources

    everything = {s.name: s for s in all_sources()}
    picked, rest = [], []
    for n in names:
        (picked.append(everything[n]) if n in everything else rest.append(n))
    return picked + _registered(rest) if rest else picked


@sources_app.command("list")
def list_sources(
    selectors: list[str] = typer.Argument(None, help="Subsets, sections or sources (default: all)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every pinned upstream file: host, repo@revision, path, sha256, license, and whether it is available."""
    from rich.console import Console
    from rich.table import Table

    from rbkit.curation.build import source_record
    from rbkit.curation.sources import is_available

    srcs = _registered(selectors or [])
    if as_json:
        typer.echo(json.dumps({s.name: source_record(s) for s in srcs}, indent=2, sort_keys=True))
        return
    table = Table(title="rbkit sources")
    for col in ("name", "kind", "repo@revision", "path", "sha256", "license", "available"):
        table.add_column(col)
    for s in sorted(srcs, key=lambda s: s.name):
        ok = is_available(s)
        table.add_row(s.name, s.kind, f"{s.repo}@{s.revision[:10]}", s.path, s.sha256[:12], s.license, "[green]yes[/]" if ok else "[red]no[/]")
    Console().print(table)


@sources_app.command("fetch")
def fetch_sources(
    names: list[str] = typer.Argument(None, help="Source names, subsets, sections or sources (default: all)."),
    force: bool = typer.Option(False, help="Download again even when a verified copy is cached."),
) -> None:
    """Download pinned files into the cache (huggingface_hub for the Hub, HTTP for GitHub) and verify sha256."""
    from rich.console import Console

    from rbkit.curation.errors import RbkitError
    from rbkit.curation.sources import cache_dir, fetch

    srcs = _by_name_or_subset(names) if names else _registered([])
    console = Console(stderr=True)
    failed = 0
    for s in sorted(srcs, key=lambda s: s.name):
        try:
            path = fetch(s, force=force)
            console.print(f"[green]ok[/] {s.name} -> {path}")
        except RbkitError as exc:
            failed += 1
            console.print(f"[red]failed[/] {s.name}: {exc}")
    console.print(f"cache: {cache_dir()}")
    if failed:
        raise typer.Exit(1)


@sources_app.command("check")
def check_sources(
    mirror: Path = typer.Argument(None, help="A local mirror laid out like ../shared/sources (default: $RBKIT_SOURCES)."),
) -> None:
    """Verify every file of a local mirror against its MANIFEST.tsv and rbkit's pinned hashes."""
    from rbkit.curation.registry import all_sources
    from rbkit.curation.sources import check_mirror

    root = mirror or (Path(os.environ["RBKIT_SOURCES"]) if os.environ.get("RBKIT_SOURCES") else None)
    if root is None:
        typer.echo("error: give a mirror folder or set RBKIT_SOURCES", err=True)
        raise typer.Exit(2)
    results = check_mirror(root, all_sources())
    bad = 0
    for r in results:
        if r.status == "ok":
            continue
        if r.status == "altered":
            bad += 1
            typer.echo(
                f"ALTERED {root / r.relpath}\n  expected sha256 {r.expected}\n  actual   sha256 {r.actual}\n"
                "  fix: restore the upstream file (see MANIFEST.tsv for repo and commit) or `rbkit sources fetch`",
                err=True,
            )
        elif r.status == "missing":
            bad += 1
            typer.echo(f"MISSING {root / r.relpath} (listed in MANIFEST.tsv, sha256 {r.expected})", err=True)
        else:
            pin = r.expected if " " in r.expected else f"sha256 {r.expected}"  # git-blob / builder-checked pins say so
            typer.echo(f"absent  {r.relpath}: pinned by rbkit, not in this mirror ({pin}); `rbkit sources fetch` gets it")
    ok = sum(r.status == "ok" for r in results)
    typer.echo(f"{ok} ok, {bad} bad, {sum(r.status == 'absent' for r in results)} absent of {len(results)} files in {root}")
    if bad:
        raise typer.Exit(1)
