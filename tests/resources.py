"""What a test needs from the machine, and what happens when it is not there.

A test that needs a toolchain, the Argilla server, Chromium or the source mirror calls
`require()`. On a developer's machine a missing resource skips the test, naming it. In strict
mode (`CI` set, or `RBKIT_STRICT=1`, which `make test` sets) it fails instead, so CI can never
go green on tests that did not run. The hooks below hold the same line for every other way a
test can skip: in strict mode any skip is a failure, and an uncaught `ToolchainMissingError`
(a verifier found no compiler) counts as a missing toolchain.

tests/conftest.py re-exports the hooks; tests/test_resources.py runs them as a plugin.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from rbkit.curation.errors import ToolchainMissingError

STRICT_HINT = "strict mode (CI or RBKIT_STRICT=1): missing resources fail instead of skipping"


def strict() -> bool:
    """True in CI or with RBKIT_STRICT=1: nothing may skip for want of a resource."""
    ci = os.environ.get("CI", "").strip().lower()
    return os.environ.get("RBKIT_STRICT", "").strip() == "1" or ci not in ("", "0", "false", "no")


def require(resource: str, available: bool, hint: str) -> None:
    """Skip the calling test (fail it in strict mode) unless `resource` is available.

    `hint` says how to get it, e.g. "run scripts/install-review-deps".
    """
    if available:
        return
    message = f"missing {resource}: {hint}"
    if strict():
        pytest.fail(f"{message} [{STRICT_HINT}]", pytrace=False)
    pytest.skip(message)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Strict: a skip becomes a failure. Not strict: a missing toolchain becomes a skip."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and strict():
        report.outcome = "failed"
        report.longrepr = f"would skip: {_skip_reason(report)} [{STRICT_HINT}]"
        return
    excinfo = call.excinfo
    if report.failed and excinfo is not None and excinfo.errisinstance(ToolchainMissingError) and not strict():
        path, line, _ = item.location
        report.outcome = "skipped"
        report.longrepr = (path, (line or 0) + 1, f"Skipped: missing toolchain: {excinfo.value}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """Strict: a module that skips itself at import (`importorskip`, module-level skip) fails."""
    outcome = yield
    report: pytest.CollectReport = outcome.get_result()
    if report.skipped and strict():
        report.outcome = "failed"
        report.longrepr = f"{collector.nodeid} would skip: {_skip_reason(report)} [{STRICT_HINT}]"
