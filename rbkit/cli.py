"""The `rbkit` command line: one typer app; each command group lives in `rbkit.commands`."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from rbkit.commands import build as build_cmd
from rbkit.commands import eval as eval_cmd
from rbkit.commands import ls as ls_cmd
from rbkit.commands import publish as publish_cmd
from rbkit.commands import review as review_cmd
from rbkit.commands import sources as sources_cmd
from rbkit.commands import validate as validate_cmd
from rbkit.core.errors import RbkitError

app = typer.Typer(
    name="rbkit",
    help="Rebuild, verify, review, publish and evaluate the RewardBench benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

build_cmd.register(app)
eval_cmd.register(app)
sources_cmd.register(app)
validate_cmd.register(app)
ls_cmd.register(app)
publish_cmd.register(app)
review_cmd.register(app)

err_console = Console(stderr=True)


def main() -> None:
    """Entry point: user-facing errors print as one clear message, not a traceback."""
    try:
        code = app(standalone_mode=False)  # returns typer.Exit codes instead of raising them
        if isinstance(code, int) and code:
            sys.exit(code)
    except RbkitError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except (FileNotFoundError, KeyError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        err_console.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False)
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:  # click's own usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            err_console.print("aborted")
            sys.exit(130)
        raise
