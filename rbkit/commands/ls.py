"""`rbkit ls`: the subset registry as a table."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("ls")(ls)


# The table's columns: the subset name never truncates, the others fold.
COLUMNS: tuple[str, ...] = ("subset", "section", "source", "expected", "built", "license", "verification")


def ls(
    build_dir: Path | None = typer.Argument(None, help="A build folder: adds the rows actually built."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    long: bool = typer.Option(False, "--long", "-l", help="Add each subset's description (what its rows hold)."),
    plugin: list[Path] = typer.Option(None, "--plugin", help="A Python file that registers more subsets (as for `rbkit build --plugin`); repeatable."),
) -> None:
    """List registered subsets: section, source, expected and built rows, license, verification."""
    from rbkit.curation.registry import load_all, load_plugin

    built: dict[str, int] = {}
    if build_dir is not None:
        from rbkit.curation.build import read_build

        manifest = read_build(build_dir, with_rows=False).manifest
        built = {name: info["built"] for name, info in manifest.get("subsets", {}).items()}
    for path in plugin or []:
        load_plugin(path)
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
            "description": s.description,
        }
        for s in specs.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    columns = [c for c in COLUMNS if c != "built" or build_dir is not None]  # "built" needs a build
    columns += ["description"] if long else []
    cells = [
        {
            "subset": r["subset"] + (" *" if r["substitute"] else ""),
            "section": r["section"],
            "source": r["source"],
            "expected": str(r["expected"] or "-"),
            "built": "" if r["built"] is None else str(r["built"]),
            "license": r["license"],
            "verification": r["verification"],
            "description": r["description"],
        }
        for r in rows
    ]
    console = Console()
    table = Table(title="rbkit subsets", box=None, pad_edge=False, header_style="bold underline")
    widths = column_widths(columns, cells, console.width - _overhead(len(columns)))
    for col in columns:
        table.add_column(col, justify="right" if col in ("expected", "built") else "left", width=widths.get(col),
                         no_wrap=col == "subset", overflow="fold")
    for r, row in zip(rows, cells, strict=True):
        if r["built"] is not None and r["expected"] is not None and r["built"] != r["expected"]:
            row["built"] = f"[yellow]{row['built']}[/]"
        table.add_row(*(row[c] for c in columns))
    console.print(table)
    if any(r["substitute"] for r in rows):
        console.print("* rebuilt from a stand-in source; see the dataset card")


def _overhead(ncols: int) -> int:
    """Characters a table of `ncols` columns spends on edges, separators and padding."""
    from rich.console import Console
    from rich.table import Table

    probe = Table(box=None, pad_edge=False, show_header=False)
    for _ in range(ncols):
        probe.add_column(width=1)
    probe.add_row(*("x" * ncols))
    console = Console(width=1000, file=None, record=True, color_system=None)
    with console.capture() as capture:
        console.print(probe)
    return max(len(line.rstrip("\n")) for line in capture.get().splitlines() if "x" in line) - ncols


def column_widths(columns: list[str], cells: list[dict[str, str]], room: int) -> dict[str, int]:
    """Widths that fit `room` characters: the subset column keeps its longest name; the others
    shrink, widest first, but never below their header, so every name and header reads whole.
    Values longer than their column fold. Empty when even that does not fit (rich then decides)."""
    widths = {c: max([len(c), *(len(row[c]) for row in cells)]) for c in columns}
    while sum(widths.values()) > room:
        shrinkable = [c for c in columns if c != "subset" and widths[c] > len(c)]
        if not shrinkable:
            return {}
        widest = max(shrinkable, key=lambda c: (widths[c] - len(c), widths[c]))
        widths[widest] -= 1
    return widths
