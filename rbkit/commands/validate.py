"""`rbkit validate PATH`: check trio files against the schema."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    path: Path = typer.Argument(..., help="A parquet file, a JSONL file or a dataset/build folder."),
) -> None:
    """Print every violation as `file:row field: reason` (exit 1), or a one-line summary (exit 0)."""
    from rbkit.curation.validate import validate_path

    report = validate_path(path)
    for v in report.violations:
        typer.echo(str(v))
    if report.ok:
        typer.echo(f"ok: {report.rows} rows in {report.files} file(s) match the trio schema")
        return
    typer.echo(f"{len(report.violations)} violation(s) in {report.rows} rows, {report.files} file(s)", err=True)
    raise typer.Exit(1)
