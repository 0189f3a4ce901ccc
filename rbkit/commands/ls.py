"""`rbkit ls`: the subset registry as a table."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rbkit.curation.registry import load_all


def register(app: typer.Typer) -> None:
    app.command("ls")(ls)


def ls(
    build_dir: Path | None = typer.Argument(None, help="A build folder: adds the rows actually built."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List registered subsets: section, source, expected and built rows, license, verification."""
    built: dict[str, int] = {}
    if build_dir is not None:
        from rbkit.curation.build import read_build

        manifest = read_build(build_dir, with_rows=False).manifest
        built = {name: info["built"] for name, info in manifest.get("subsets", {}).items()}
    specs = load_all()
    rows = [
        {
            "subset": s.name,
            "section": s.section,
            "source": s.source,
            "expected": s.expected,
            "built": built.get(s.name),
            "license": s.license,
            "verification": s.verification,
            "substitute": bool(s.substitute),
        }
        for s in specs.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="rbkit subsets")
    for col in ("subset", "section", "source", "expected", "built", "license", "verification"):
        table.add_column(col, justify="right" if col in ("expected", "built") else "left")
    for r in rows:
        built_cell = "" if r["built"] is None else str(r["built"])
        if r["built"] is not None and r["expected"] is not None and r["built"] != r["expected"]:
            built_cell = f"[yellow]{built_cell}[/]"
        name = r["subset"] + (" *" if r["substitute"] else "")
        table.add_row(name, r["section"], r["source"], str(r["expected"] or "-"), built_cell, r["license"], r["verification"])
    console = Console()
    console.print(table)
    if any(r["substitute"] for r in rows):
        console.print("* rebuilt from a stand-in source; see the dataset card")
