"""Reading records, responses and users from Argilla's REST API (v1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from rbkit.curation.review.connection import ReviewError, ReviewServerError, ReviewTarget, one_line

PAGE = 1000


class ArgillaReader:
    """The few REST reads push and pull need, with errors that say what failed.

    Plain REST rather than the SDK: the SDK drops response timestamps, and annotator-facing
    SDK objects hide user names.
    """

    def __init__(self, target: ReviewTarget, client: httpx.Client | None = None):
        self.target = target
        self.http = client or httpx.Client(base_url=target.api_url, headers=target.headers(), timeout=60)

    def _get(self, path: str, **params: Any) -> Any:
        """One GET; every failure is one line naming the server and the path."""
        try:
            response = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ReviewServerError(f"Argilla at {self.target.api_url} stopped answering ({path}): {one_line(exc)}") from exc
        if response.status_code == 403:
            raise ReviewError(f"Argilla at {self.target.api_url} refused {path} (HTTP 403): this needs an owner or admin key")
        if response.status_code != 200:
            raise ReviewServerError(
                f"Argilla at {self.target.api_url}: GET {path} -> HTTP {response.status_code}: {one_line(response.text)}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ReviewServerError(f"Argilla at {self.target.api_url}: GET {path} did not answer JSON: {one_line(response.text)}") from exc

    def workspace_id(self, name: str) -> str | None:
        for ws in self._get("/api/v1/me/workspaces")["items"]:
            if ws["name"] == name:
                return str(ws["id"])
        return None

    def datasets(self, workspace_id: str) -> dict[str, str]:
        items = self._get("/api/v1/me/datasets", workspace_id=workspace_id)["items"]
        return {d["name"]: str(d["id"]) for d in items if str(d.get("workspace_id")) == workspace_id}

    def dataset_status(self, dataset_id: str) -> str:
        """"ready" once a dataset is published; "draft" while its creator is still laying it out."""
        return str(self._get(f"/api/v1/datasets/{dataset_id}").get("status") or "")

    def usernames(self) -> dict[str, str]:
        try:
            return {str(u["id"]): u["username"] for u in self._get("/api/v1/users")["items"]}
        except ReviewError:  # admins may not list users: fall back to ids
            return {}

    def records(self, dataset_id: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._get(f"/api/v1/datasets/{dataset_id}/records", include="responses", offset=offset, limit=PAGE)
            items = page["items"]
            yield from items
            offset += len(items)
            if not items or offset >= page["total"]:
                return
