"""Push against the real local Argilla when another push gets there first.

The races are made deterministic: the other push's work is done beforehand, and this push's
look-up is made to miss it once (as it would if the other push created the resource between
our look-up and our create). tests/curation/review/test_cli.py runs two real pushes at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from rbkit.curation.review import push as push_module
from rbkit.curation.review.connection import ReviewError, quiet_sdk, sdk_client
from rbkit.curation.review.push import push

from tests.curation.review.conftest import Live

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


class MissesOnce:
    """An SDK client whose first look-up of a workspace or dataset finds nothing."""

    def __init__(self, client: Any, kind: str):
        self._client, self._kind, self.missed = client, kind, 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        if name != self._kind:
            return real

        def lookup(*args: Any, **kwargs: Any) -> Any:
            if not self.missed:
                self.missed += 1
                return None
            return real(*args, **kwargs)

        return lookup


def dataset_ids(live: Live, workspace: str) -> list[str]:
    (ws,) = [w for w in live._http("GET", "/api/v1/me/workspaces")["items"] if w["name"] == workspace]
    return [d["id"] for d in live._http("GET", "/api/v1/me/datasets")["items"] if d["workspace_id"] == ws["id"]]


def test_a_dataset_another_push_just_created_is_reused(live_argilla: Live, build_dir: Path, monkeypatch: pytest.MonkeyPatch):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    first = push(build_dir, target, subsets=["llmbar-natural"])  # the other push, which got there first
    before = dataset_ids(live_argilla, ws)
    wrapped: list[MissesOnce] = []

    def client(target: Any) -> MissesOnce:
        wrapped.append(MissesOnce(sdk_client(target), "datasets"))
        return wrapped[-1]

    monkeypatch.setattr(push_module, "sdk_client", client)
    second = push(build_dir, target, subsets=["llmbar-natural"], only="all")
    assert wrapped[0].missed == 1  # its create conflicted: the dataset existed after all
    assert first.created == ["llmbar-natural"] and second.created == []
    assert second.pushed == {"llmbar-natural": 4}
    assert dataset_ids(live_argilla, ws) == before
    assert len(live_argilla.records(ws, "llmbar-natural")) == 4


def test_a_workspace_another_push_just_created_is_reused(live_argilla: Live, build_dir: Path, monkeypatch: pytest.MonkeyPatch):
    ws = live_argilla.workspace()
    live_argilla._http("POST", "/api/v1/workspaces", json={"name": ws})  # the other push's workspace
    monkeypatch.setattr(push_module, "sdk_client", lambda target: MissesOnce(sdk_client(target), "workspaces"))
    report = push(build_dir, live_argilla.target(ws), subsets=["hep-python"])
    assert report.pushed == {"hep-python": 2}
    assert len([w for w in live_argilla._http("GET", "/api/v1/me/workspaces")["items"] if w["name"] == ws]) == 1


def test_a_dataset_left_in_draft_is_waited_for_then_named(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()
    workspace = live_argilla._http("POST", "/api/v1/workspaces", json={"name": ws})
    # A push that was interrupted after creating the dataset and before publishing it.
    live_argilla._http("POST", "/api/v1/datasets", json={"name": "hep-python", "workspace_id": workspace["id"]})
    target = live_argilla.target(ws)
    from rbkit.curation.review.buildio import load, subset_info
    from rbkit.curation.review.rest import ArgillaReader

    info = subset_info(load(build_dir), "hep-python")
    with quiet_sdk(), pytest.raises(ReviewError) as err:
        push_module._dataset(sdk_client(target), ArgillaReader(target), ws, info, 1, lambda m: None, wait=1.0)
    message = str(err.value)
    assert "\n" not in message
    assert f"dataset 'hep-python' in workspace '{ws}' on {live_argilla.url} is not ready after 1 s" in message


def test_a_server_error_during_push_is_one_line_naming_server_and_dataset(
    live_argilla: Live, build_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    ws = live_argilla.workspace()

    def refuse(dataset: Any, chunk: list[Any], **kwargs: Any) -> None:
        request = httpx.Request("PUT", f"{live_argilla.url}/api/v1/datasets/x/records/bulk")
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    monkeypatch.setattr(push_module, "_log", refuse)
    with pytest.raises(ReviewError) as err:
        push(build_dir, live_argilla.target(ws), subsets=["xstest-should-refuse"])
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"Argilla at {live_argilla.url}: dataset 'xstest-should-refuse' in workspace '{ws}' failed")
    assert "Server disconnected" in message
