from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.curation.review.conftest import Live, start_live_argilla
from tests.resources import pytest_make_collect_report as pytest_make_collect_report
from tests.resources import pytest_runtest_makereport as pytest_runtest_makereport
from tests.resources import require

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _mirror() -> Path | None:
    value = os.environ.get("RBKIT_SOURCES")
    if value:
        return Path(value)
    default = REPO.parent / "shared" / "sources"
    return default if default.is_dir() else None


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real upstream mirror (`RBKIT_SOURCES`, as CI sets it), activated for the test."""
    path = _mirror()
    require(
        f"source mirror ({path or REPO.parent / 'shared' / 'sources'})",
        path is not None and (path / "MANIFEST.tsv").is_file(),
        "set RBKIT_SOURCES to a folder laid out like ../shared/sources (with its MANIFEST.tsv)",
    )
    assert path is not None
    monkeypatch.setenv("RBKIT_SOURCES", str(path))
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own empty rbkit cache; never the user's ~/.cache/rbkit.

    Tests that need an expensive cached artefact (a converted model) use their own
    session-scoped fixture and point at it explicitly.
    """
    monkeypatch.setenv("RBKIT_CACHE", str(tmp_path_factory.mktemp("rbkit-cache")))


@pytest.fixture(scope="session")
def live_argilla(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One real local Argilla per session, for every test folder that reviews (registered here,
    at the top, so that the review and example tests do not each start their own)."""
    yield from start_live_argilla(tmp_path_factory)
