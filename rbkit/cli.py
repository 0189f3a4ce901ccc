"""The `rbkit` command line: one typer app; each command group lives in `rbkit.commands`."""

from __future__ import annotations

import sys

import typer

from rbkit.commands import build as build_cmd
from rbkit.commands import decontam as decontam_cmd
from rbkit.commands import eval as eval_cmd
from rbkit.commands import generate as generate_cmd
from rbkit.commands import judge as judge_cmd
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
    rich_markup_mode=None,  # plain help: typer's rich help loads markdown and pygments (0.3 s)
)

build_cmd.register(app)
eval_cmd.register(app)
generate_cmd.register(app)
judge_cmd.register(app)
sources_cmd.register(app)
validate_cmd.register(app)
ls_cmd.register(app)
publish_cmd.register(app)
review_cmd.register(app)
decontam_cmd.register(app)


def _err(text: str) -> None:
    """One line on stderr; rich loads only when there is something to say."""
    from rich.console import Console

    Console(stderr=True).print(text, highlight=False, soft_wrap=True)


def _error(message: str) -> None:
    from rich.markup import escape

    _err(f"[bold red]error:[/] {escape(message)}")


def _is_a(exc: BaseException, name: str) -> bool:
    """True when `exc` derives from a click exception class called `name` (click's or typer's copy)."""
    return any(cls.__name__ == name and "click" in cls.__module__ for cls in type(exc).__mro__)


def main() -> None:
    """Entry point: user-facing errors print as one clear message, not a traceback."""
    try:
        code = app(standalone_mode=False)  # returns typer.Exit codes instead of raising them
        if isinstance(code, int) and code:
            sys.exit(code)
    except RbkitError as exc:
        _error(str(exc))
        sys.exit(1)
    except (FileNotFoundError, KeyError) as exc:
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)  # OSError: args[0] is errno
        _error(str(message))
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:  # click's own usage errors
        import click

        # typer >= 0.2x raises its vendored click's classes (typer._click), not click's own.
        if isinstance(exc, click.exceptions.ClickException) or _is_a(exc, "ClickException"):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if isinstance(exc, click.exceptions.Abort) or _is_a(exc, "Abort"):
            _err("aborted")
            sys.exit(130)
        raise
