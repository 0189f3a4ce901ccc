"""Fixtures for the review tests: a small hand-made build folder and a real local Argilla.

The build folder is written from `tests/fixtures/review/` (8 hand-made pairs in three subsets,
one selection drop, a build.json) with the lead's writer, `curation.build.write_build`.

The Argilla server is the real one: argilla-server 2.8.0 in its own environment, redis and
SQLite, started once per test session by `LocalArgilla` on a free port under a temporary home.
Its environment is kept in the repository's ignored `.cache/argilla-venv` so that later runs
reuse it (set RBKIT_ARGILLA_VENV to put it elsewhere). Each test gets its own workspace, so
tests never see each other's datasets.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from rbkit.curation.build import write_build
from rbkit.curation.review.connection import ReviewTarget
from rbkit.curation.review.local_server import LocalArgilla
from rbkit.curation.rows import TrioRow

from tests.resources import require

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / "tests" / "fixtures" / "review"
_counter = itertools.count(1)


def fixture_rows() -> list[TrioRow]:
    lines = (FIXTURE / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    return [TrioRow.from_record(json.loads(line)) for line in lines if line.strip()]


def write_fixture_build(out: Path) -> Path:
    rows: dict[str, list[TrioRow]] = {}
    for row in fixture_rows():
        rows.setdefault(row.subset, []).append(row)
    manifest = json.loads((FIXTURE / "build.json").read_text(encoding="utf-8"))
    dropped = [json.loads(line) for line in (FIXTURE / "dropped.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    sections = {name: facts["section"] for name, facts in manifest["subsets"].items()}
    write_build(out, rows, dropped, manifest, None, sections)
    return out


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    return write_fixture_build(tmp_path / "build")


BEST_OF_4 = "math-best-of-4"
_BEST_OF_4_ROWS = (  # prompt, chosen (the reference), three wrong samples
    ("What is 7 * 8?", "7 * 8 = 56.", ("7 * 8 = 54.", "7 * 8 = 48.", "7 * 8 = 63.")),
    ("What is 15% of 80?", "15% of 80 is 12.", ("15% of 80 is 8.", "15% of 80 is 1.2.", "0.15 x 80 = 12, so the answer is 12.")),
    ("Solve 2x + 3 = 11 for x.", "x = 4", ("x = 7", "x = 5.5", "x = 3")),
)


def best_of_n_rows() -> list[TrioRow]:
    """Three RewardBench-2-style best-of-4 rows (1 chosen + 3 rejected); the second has a
    rejected answer that is actually correct."""
    from tests.factories import make_row

    return [
        make_row(
            f"math/{i}", BEST_OF_4, prompt=prompt, chosen=(chosen,), rejected=rejected,
            chosen_model="reference", rejected_model="SmolLM2-135M-Instruct",
        )
        for i, (prompt, chosen, rejected) in enumerate(_BEST_OF_4_ROWS)
    ]


@pytest.fixture
def best_of_n_build(tmp_path: Path) -> Path:
    """A build folder holding one best-of-4 subset (written by the build's own writer)."""
    base = json.loads((FIXTURE / "build.json").read_text(encoding="utf-8"))
    facts = {**base["subsets"]["llmbar-natural"], "section": "Math", "source": "math-fixture", "sources": ["math-fixture"],
             "verification": "math", "expected": 3, "built": 3, "candidates": 3, "dropped": 0,
             "dropped_by_reason": {}, "dropped_by_step": {}}
    manifest = {**base, "subsets": {BEST_OF_4: facts}, "totals": {"built": 3, "dropped": 0, "filtered": 3}}
    out = tmp_path / "bo4-build"
    write_build(out, {BEST_OF_4: best_of_n_rows()}, [], manifest, None, {BEST_OF_4: "Math"})
    return out


def by_text(rows: list[TrioRow], needle: str) -> TrioRow:
    (row,) = [r for r in rows if needle in (r.prompt if isinstance(r.prompt, str) else "")]
    return row


# --- the live server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Live:
    """A running local Argilla plus helpers to act as its owner and as reviewers."""

    server: LocalArgilla
    url: str
    owner_key: str
    owner_username: str
    owner_password: str

    def _http(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
        response = httpx.request(
            method, f"{self.url}{path}", headers={"X-Argilla-Api-Key": key or self.owner_key}, timeout=60, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def workspace(self) -> str:
        """A fresh workspace name for one test (created by push on first use)."""
        return f"t{os.getpid()}-{next(_counter)}"

    def target(self, workspace: str, key: str | None = None) -> ReviewTarget:
        return ReviewTarget(self.url, key or self.owner_key, workspace)

    def dataset_id(self, workspace: str, name: str) -> str:
        (ws,) = [w for w in self._http("GET", "/api/v1/me/workspaces")["items"] if w["name"] == workspace]
        items = self._http("GET", "/api/v1/me/datasets")["items"]
        (ds,) = [d for d in items if d["name"] == name and d["workspace_id"] == ws["id"]]
        return ds["id"]

    def records(self, workspace: str, name: str) -> list[dict[str, Any]]:
        dataset = self.dataset_id(workspace, name)
        body = self._http("GET", f"/api/v1/datasets/{dataset}/records", params={"include": ["responses", "suggestions"], "limit": 1000})
        return body["items"]

    def reviewer(self, username: str, workspace: str) -> Reviewer:
        """An annotator in `workspace`, answering through the argilla SDK with their own key."""
        import argilla as rg

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            owner = rg.Argilla(api_url=self.url, api_key=self.owner_key)
            user = owner.users(username) or rg.User(username=username, password=f"{username}-pass-123", role="annotator", client=owner).create()
            ws = owner.workspaces(workspace)
            if all(u.username != username for u in ws.users):
                ws.add_user(user)
        key = self._http("GET", f"/api/v1/users/{user.id}")["api_key"]  # the SDK's User hides it
        return Reviewer(self, username, key, workspace)


@dataclass
class Reviewer:
    live: Live
    username: str
    api_key: str
    workspace: str

    def answer(
        self, subset: str, pair_id: int, label: str, comment: str | None = None, correct: list[str] | None = None
    ) -> None:
        """Submit an answer as this annotator: the label, and for best-of-N the answers ticked
        as actually correct."""
        import argilla as rg
        from argilla._models._record._response import UserResponseModel

        record = {r["external_id"]: r for r in self.live.records(self.workspace, subset)}[str(pair_id)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = rg.Argilla(api_url=self.live.url, api_key=self.api_key)
            values: dict[str, Any] = {"label": {"value": label}}
            if comment:
                values["comment"] = {"value": comment}
            if correct:
                values["correct"] = {"value": correct}
            client.api.records.create_record_response(
                record["id"], UserResponseModel(values=values, status="submitted", user_id=client.me.id)
            )


def start_live_argilla(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The real local Argilla for a whole session: `tests/conftest.py` registers it as the
    `live_argilla` fixture, once for every folder (review and examples share one server)."""
    missing = [tool for tool in ("redis-server", "uv") if shutil.which(tool) is None]
    require(f"{', '.join(missing)} for the Argilla server", not missing, "run scripts/install-review-deps (and `pip install uv`)")
    venv = Path(os.environ.get("RBKIT_ARGILLA_VENV") or REPO / ".cache" / "argilla-venv")
    server = LocalArgilla(tmp_path_factory.mktemp("argilla") / "home", venv=venv, port=_free_port())
    server.start(timeout=300)
    try:
        creds = server.credentials()
        assert creds is not None
        yield Live(server, server.url, creds.api_key, creds.username, creds.password)
    finally:
        server.stop()
