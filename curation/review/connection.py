"""Which Argilla to talk to, and a connection check that fails fast and clearly.

Every review command resolves its target the same way: explicit `--api-url`/`--api-key`,
then the environment (`ARGILLA_API_URL`, `ARGILLA_API_KEY`), then the local server that
`rbkit review serve` started. Before anything is read or written, `check` asks the server who
the key belongs to, with a few bounded retries, so a server that is down or a wrong key ends
the command with one clear message and nothing half-done.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from rbkit.curation.errors import RbkitError

DEFAULT_WORKSPACE = "rbkit"
API_KEY_HEADER = "X-Argilla-Api-Key"


class ReviewError(RbkitError):
    """A review command cannot proceed (bad build folder, settings mismatch, ...)."""


class ReviewServerError(ReviewError):
    """The Argilla server cannot be reached or does not answer as expected."""


class ReviewAuthError(ReviewError):
    """The Argilla server rejected the API key, or the key's user lacks a needed role."""


@dataclass(frozen=True)
class ReviewTarget:
    """An Argilla deployment, the key to use on it and the workspace for rbkit's datasets."""

    api_url: str
    api_key: str
    workspace: str = DEFAULT_WORKSPACE
    origin: str = "arguments"  # where the url/key came from, for error messages

    def headers(self) -> dict[str, str]:
        return {API_KEY_HEADER: self.api_key}


@dataclass(frozen=True)
class Identity:
    """Who the API key belongs to."""

    user_id: str
    username: str
    role: str


def resolve_target(
    api_url: str | None = None,
    api_key: str | None = None,
    workspace: str | None = None,
    *,
    local: Callable[[], tuple[str, str] | None] | None = None,
) -> ReviewTarget:
    """Flags, then ARGILLA_API_URL / ARGILLA_API_KEY, then the running local server."""
    origin = "arguments"
    if not api_url and os.environ.get("ARGILLA_API_URL"):
        api_url, origin = os.environ["ARGILLA_API_URL"], "environment (ARGILLA_API_URL)"
    if not api_key and os.environ.get("ARGILLA_API_KEY"):
        api_key = os.environ["ARGILLA_API_KEY"]
    if not api_url or not api_key:
        found = local() if local is not None else None
        if found is not None and not api_url:
            api_url, origin = found[0], "local server (rbkit review serve)"
            api_key = api_key or found[1]
    if not api_url:
        raise ReviewServerError(
            "no Argilla server to talk to: start one with `rbkit review serve`, or point at an "
            "existing deployment with --api-url/--api-key (or ARGILLA_API_URL/ARGILLA_API_KEY)"
        )
    if not api_key:
        raise ReviewAuthError(f"no API key for {api_url}: pass --api-key or set ARGILLA_API_KEY")
    return ReviewTarget(api_url.rstrip("/"), api_key, workspace or DEFAULT_WORKSPACE, origin)


def check(
    target: ReviewTarget,
    *,
    attempts: int = 4,
    delay: float = 0.5,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Identity:
    """Ask the server who the key belongs to; retry only connection failures, boundedly.

    Waits `delay`, `2*delay`, ... between attempts (at most `attempts` tries), so a server
    that is down costs a few seconds, not a hang.
    """
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            response = httpx.get(f"{target.api_url}/api/v1/me", headers=target.headers(), timeout=timeout)
        except httpx.TransportError as exc:  # refused, DNS, timeout: maybe still starting
            last = exc
            if attempt + 1 < attempts:
                sleep(delay * (2**attempt))
            continue
        if response.status_code == 401:
            raise ReviewAuthError(
                f"Argilla at {target.api_url} rejected the API key from {target.origin} (HTTP 401); "
                "check --api-key / ARGILLA_API_KEY (`rbkit review status` shows the local server's key)"
            )
        if response.status_code != 200:
            raise ReviewServerError(
                f"Argilla at {target.api_url} answered HTTP {response.status_code} to /api/v1/me: "
                f"{one_line(response.text)}"
            )
        try:
            body = response.json()
            return Identity(str(body["id"]), str(body["username"]), str(body["role"]))
        except (ValueError, KeyError) as exc:
            raise ReviewServerError(f"{target.api_url} does not look like an Argilla 2.x server: {exc}") from exc
    raise ReviewServerError(
        f"cannot reach Argilla at {target.api_url} (from {target.origin}) after {attempts} tries: "
        f"{one_line(last) if last else 'no answer'}. Start the local one with `rbkit review serve`, or check --api-url."
    )


def require_role(identity: Identity, target: ReviewTarget, roles: tuple[str, ...], action: str) -> None:
    if identity.role not in roles:
        raise ReviewAuthError(
            f"user {identity.username!r} on {target.api_url} has role {identity.role!r}; "
            f"{action} needs one of {', '.join(roles)}"
        )


def sdk_client(target: ReviewTarget) -> Any:
    """An argilla SDK client with bounded retries (the SDK's default retries 5 times)."""
    import argilla as rg

    return rg.Argilla(api_url=target.api_url, api_key=target.api_key, timeout=60, retries=2)


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception as one short line (the SDK's messages carry multi-line JSON details)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def sdk_errors(target: ReviewTarget, what: str) -> Iterator[None]:
    """Turn what the argilla SDK or the network raises while doing `what` into one ReviewServerError
    line naming the server and the resource, instead of a traceback; rbkit's own errors pass."""
    from argilla._exceptions import ArgillaError

    try:
        yield
    except ReviewError:
        raise
    except (ArgillaError, httpx.HTTPError) as exc:
        raise ReviewServerError(f"Argilla at {target.api_url}: {what} failed: {type(exc).__name__}: {one_line(exc)}") from exc


@contextlib.contextmanager
def quiet_sdk() -> Iterator[None]:
    """Silence the SDK's own progress bars, warnings and log lines; rbkit reports instead.

    Errors still propagate: only what the SDK writes to stderr is discarded.
    """
    logger = logging.getLogger("argilla.sdk")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
