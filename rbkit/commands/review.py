"""`rbkit review`: push pairs to Argilla, pull decisions back, run a local Argilla."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

review_app = typer.Typer(
    name="review",
    help="Human review in Argilla: push pairs, pull decisions, run a local server.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

API_URL = typer.Option(None, "--api-url", envvar="ARGILLA_API_URL", help="Argilla to use (default: the local `rbkit review serve`).")
API_KEY = typer.Option(None, "--api-key", envvar="ARGILLA_API_KEY", help="API key for --api-url (owner or admin).", show_default=False)
WORKSPACE = typer.Option("rbkit", "--workspace", "-w", help="Argilla workspace holding one dataset per subset.")
HOME = typer.Option(None, "--home", help="Local server folder (default $RBKIT_CACHE/argilla, i.e. ~/.cache/rbkit/argilla).")
SUBSETS = typer.Option(None, "--subset", "-s", help="Subset to include (repeat; default: every subset of the build).")


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _out() -> Console:
    """stdout; piped output gets 100 columns so tables are not cut to 80."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, 100))


def _target(api_url: str | None, api_key: str | None, workspace: str, home: Path | None):
    from rbkit.curation.review.connection import resolve_target
    from rbkit.curation.review.local_server import local_target

    return resolve_target(api_url, api_key, workspace, local=lambda: local_target(home))


@review_app.command("push")
def push(
    build_dir: Path = typer.Argument(..., help="Build folder written by `rbkit build`."),
    subsets: list[str] = SUBSETS,
    only: str = typer.Option(None, "--only", help="unreviewed (default), flagged (automatic checks doubt the label) or all; with --audit: all."),
    audit: list[Path] = typer.Option(None, "--audit", help="Evaluator results folder with scores.parquet (repeat, one per model): push the pairs most models get wrong."),
    audit_threshold: float = typer.Option(0.5, "--audit-threshold", help="Push pairs that at least this share of models get wrong."),
    audit_min_models: int = typer.Option(1, "--audit-min-models", help="Only audit pairs scored by at least this many models."),
    min_submitted: int = typer.Option(1, "--min-submitted", help="Answers a pair needs before Argilla counts it complete (new datasets)."),
    blind: bool = typer.Option(False, "--blind", help="Show answers as A/B (A-D, ...) in a seeded random order, without the label; pull reports agreement with it."),
    api_url: str | None = API_URL,
    api_key: str | None = API_KEY,
    workspace: str = WORKSPACE,
    home: Path | None = HOME,
) -> None:
    """Create or update one Argilla dataset per subset and send it the selected pairs."""
    from rich.table import Table

    from rbkit.curation.review.audit import audit as run_audit
    from rbkit.curation.review.audit import suspicious
    from rbkit.curation.review.push import push as run_push

    console = _console()
    stats = None
    if audit:
        stats = suspicious(run_audit(audit), threshold=audit_threshold, min_models=audit_min_models)
        console.print(f"audit: {len(stats)} pairs wrong for at least {audit_threshold:.0%} of {len(audit)} model(s)")
    target = _target(api_url, api_key, workspace, home)
    with console.status("pushing") as status:
        report = run_push(
            build_dir,
            target,
            subsets=subsets or None,
            only=only or ("all" if audit else "unreviewed"),
            audit=stats,
            min_submitted=min_submitted,
            blind=blind,
            progress=lambda message: status.update(message),
        )
    table = Table(title=f"pushed{' blind' if blind else ''} to {target.api_url} (workspace {report.workspace})")
    table.add_column("subset", no_wrap=True)
    table.add_column("records", justify="right")
    table.add_column("note")
    for name, count in report.pushed.items():
        table.add_row(name, str(count), "new dataset" if name in report.created else "updated")
    for name, why in report.skipped.items():
        table.add_row(name, "0", why)
    out = _out()
    out.print(table)
    for name, url in report.urls.items():
        out.print(f"annotate {name}: {url}", soft_wrap=True, highlight=False)
    for name, ids in report.conflicts.items():
        out.print(
            f"[yellow]{name}: {len(ids)} answered pair(s) changed since they were answered and were left "
            f"as they are in Argilla (pull reports them stale): {ids[:10]}[/]"
        )


@review_app.command("pull")
def pull(
    build_dir: Path = typer.Argument(..., help="Build folder that was pushed."),
    subsets: list[str] = SUBSETS,
    api_url: str | None = API_URL,
    api_key: str | None = API_KEY,
    workspace: str = WORKSPACE,
    home: Path | None = HOME,
) -> None:
    """Bring submitted answers back: provenance, swaps and drops, decisions file, agreement."""
    from rich.table import Table

    from rbkit.curation.review.pull import pull as run_pull

    console = _console()
    target = _target(api_url, api_key, workspace, home)
    with console.status("pulling") as status:
        report = run_pull(build_dir, target, subsets=subsets or None, progress=lambda m: status.update(m))
    table = Table(title=f"pulled from {target.api_url} into {report.build_dir}")
    width = max([len(n) for n in report.subsets] + [6])
    table.add_column("subset", no_wrap=True, min_width=width)
    for column in ("answered", "kept", "swapped", "dropped", "disputed", "stale", "rows"):
        table.add_column(column, justify="right")
    for name, tally in report.subsets.items():
        table.add_row(
            name,
            str(tally.answered) if tally.dataset else "-",
            str(tally.accepted),
            str(tally.swapped),
            str(tally.dropped_by_review),
            str(len(tally.disputed)),
            str(len(tally.stale)),
            str(tally.rows),
        )
    out = _out()
    out.print(table)
    summary = report.agreement
    if summary.get("items_with_several_answers"):
        kappa = summary["cohen_kappa"]
        out.print(
            f"agreement over {summary['items_with_several_answers']} pairs answered by several reviewers: "
            f"{summary['percent_agreement']}% (Cohen's kappa {kappa if kappa is not None else 'n/a'})"
        )
    with_label = summary.get("with_label")
    if with_label and with_label["picked"]:
        low, high = with_label["ci95"]
        out.print(
            f"blind picks that agree with the build's label: {with_label['agree']} of {with_label['picked']} "
            f"({with_label['rate']:.0%}, 95% CI {low:.0%}-{high:.0%}); {with_label['no_pick']} tie/invalid",
            highlight=False,
        )
        for name, part in with_label["by_subset"].items():
            if part["picked"] and len(with_label["by_subset"]) > 1:
                out.print(f"  {name}: {part['agree']} of {part['picked']} ({part['rate']:.0%})", highlight=False)
    not_pushed = [name for name, tally in report.subsets.items() if not tally.dataset]
    if not_pushed:
        out.print(f"not pushed to workspace {target.workspace!r}: {', '.join(not_pushed)}")
    for name, tally in report.subsets.items():
        if tally.stale:
            out.print(f"[yellow]{name}: {len(tally.stale)} decision(s) not applied, the pair changed since review: {tally.stale[:10]}[/]")
        if tally.unmapped:
            out.print(
                f"[yellow]{name}: {len(tally.unmapped)} blind answer(s) not applied: their order is not in "
                f"review/blind.jsonl or was for other text (pull in the build folder that was pushed): {tally.unmapped[:10]}[/]"
            )
        if tally.unknown:
            out.print(f"[yellow]{name}: {len(tally.unknown)} Argilla record(s) match no pair of this build[/]")
    out.print(f"{report.decisions} decisions in {report.build_dir / 'review' / 'decisions.jsonl'}"
              + ("" if report.changed else " (build folder unchanged)"))


@review_app.command("serve")
def serve(
    port: int = typer.Option(6900, "--port", help="Port for the web UI and API."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (default: this machine only)."),
    home: Path | None = HOME,
    foreground: bool = typer.Option(False, "--foreground", help="Stay attached; Ctrl-C stops the server."),
) -> None:
    """Start a local Argilla (argilla-server 2.8, redis, SQLite) and print how to sign in."""
    from rbkit.curation.review.local_server import LocalArgilla

    server = LocalArgilla(home, host=host, port=port)
    console = _console()
    with console.status("starting Argilla") as status:
        state = server.start(progress=lambda m: status.update(m))
    creds = server.credentials()
    out = _out()
    out.print(f"Argilla is running at [bold]{state.url}[/] (data in {server.home})")
    if creds is not None:
        out.print(f"  username: {creds.username}\n  password: {creds.password}\n  API key:  {creds.api_key}")
        out.print(f"  workspace: {creds.workspace}")
    if not foreground:
        out.print("Stop it with `rbkit review stop`.")
        return
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    out.print("Press Ctrl-C to stop.")
    while not done.wait(2.0):
        alive = server.running()
        if not alive or not all(alive.values()):
            out.print("[red]a server process exited; stopping[/]")
            break
    stopped = server.stop()
    out.print(f"stopped {', '.join(stopped) or 'nothing'}")


@review_app.command("stop")
def stop(home: Path | None = HOME) -> None:
    """Stop the local Argilla started by `rbkit review serve` (its data stays)."""
    from rich.console import Console

    from rbkit.curation.review.local_server import LocalArgilla

    stopped = LocalArgilla(home).stop()
    Console().print(f"stopped {', '.join(stopped)}" if stopped else "no local Argilla was running")


@review_app.command("status")
def status(home: Path | None = HOME) -> None:
    """Show whether the local Argilla runs, where, and how to sign in."""
    from rbkit.curation.review.local_server import LocalArgilla

    info = LocalArgilla(home).status()
    out = _out()
    if not info["running"]:
        out.print(f"no local Argilla running (home {info['home']})")
        if info["components"]:
            out.print(f"  leftover processes: {info['components']}; `rbkit review stop` cleans up")
        return
    out.print(f"Argilla at [bold]{info['url']}[/] ({'healthy' if info['healthy'] else 'not answering'}); home {info['home']}")
    out.print(f"  username: {info['username']}\n  password: {info['password']}\n  API key:  {info['api_key']}")
    out.print(f"  workspace: {info['workspace']}")
