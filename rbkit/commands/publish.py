"""`rbkit publish`: lay out a build folder as a Hub dataset repo, write its card, upload it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    pass


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)


def publish(
    build_dir: Path = typer.Argument(..., help="A build folder written by `rbkit build`."),
    repo: str = typer.Option(..., "--repo", help="Hub dataset repo, ORG/NAME."),
    private: bool = typer.Option(False, "--private", help="Create the repo as private (only when it does not exist yet)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write the Hub folder and card only; no network."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Where to write the Hub folder (default BUILD_DIR/hub)."),
    subset: list[str] = typer.Option([], "--subset", "-s", help="Publish only these subsets (repeatable)."),
    exclude: list[str] = typer.Option([], "--exclude", "-x", help="Leave these subsets out (repeatable)."),
    token: str | None = typer.Option(None, "--token", help="Hugging Face token (default: HF_TOKEN or the stored login).", envvar="HF_TOKEN"),
) -> None:
    """One config per subset plus a `filtered` core-set config, a complete dataset card, then an upload of what changed."""
    from rich.console import Console
    from rich.table import Table

    from rbkit.curation.publish import publish as run_publish

    console = Console(stderr=True)
    result = run_publish(
        build_dir, repo, out=out, private=private, dry_run=dry_run, subsets=subset, exclude=exclude, token=token
    )
    layout = result.layout
    table = Table(title=f"{repo} ({'dry run' if dry_run else 'published'})")
    for col in ("config", "split", "rows", "files"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for cfg in layout.configs:
        table.add_row(cfg.name + (" (default)" if cfg.default else ""), cfg.split, str(cfg.num_examples), str(len(cfg.paths)))
    console.print(table)
    for name, reasons in layout.refused.items():
        console.print(f"[bold red]left out[/] {name}: {'; '.join(reasons)}", highlight=False)
    console.print(f"folder: {layout.root}")
    if dry_run:
        console.print("dry run: nothing uploaded. Check with `datasets.load_dataset(folder, name=SUBSET)`.")
    elif result.uploaded:
        console.print(f"uploaded {len(result.uploaded)} file(s), {len(result.skipped)} already identical on the Hub")
    else:
        console.print("the Hub already has identical files: nothing uploaded")
