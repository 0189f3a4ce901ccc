"""`python -m rbkit.eval ...`: the evaluator's commands without the rest of the CLI (used by tests)."""

from __future__ import annotations

import sys

import typer
from rbkit.curation.errors import RbkitError
from rich.console import Console
from rich.markup import escape

from rbkit.commands.eval import register

app = typer.Typer(name="rbkit-eval", add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)
register(app)


def main() -> None:
    try:
        app()
    except RbkitError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
