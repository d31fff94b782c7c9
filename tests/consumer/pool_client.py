"""The workspace launcher's client of the Pool Manager: the consumer code whose calls the pool pact records.

A small `requests`-based class, as the launcher has it: one method per endpoint, a base URL and a bearer
key given once. The launcher claims a pod (a workspace) from a pool for a user's workspace, reads it,
pushes the repositories to clone into it, marks it used, and releases it when the user is done; its
admin page shows a pool's status and creates pools. An error answer raises `PoolManagerError`.
"""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT_SECONDS = 10


class PoolManagerError(Exception):
    """The Pool Manager refused a call: its HTTP status and the document it answered."""

    def __init__(self, status: int, answer: Any) -> None:
        super().__init__(f"{status}: {answer}")
        self.status = status
        self.answer = answer


class PoolManagerClient:
    """The launcher's calls: claim, read, update, mark used, release; pool status, listing, creation."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def claim(self, pool: str, workspace_id: str) -> dict[str, Any]:
        """A pod of `pool` for workspace `workspace_id`, marked used by it (the pool grows when none is free)."""
        return self._call("GET", f"/pools/{pool}/workspace", params={"workspaceId": workspace_id})

    def pool_status(self, pool: str) -> dict[str, Any]:
        """The pool's counts (total, available, used) and its pods."""
        return self._call("GET", f"/pools/{pool}/status")

    def workspaces(self, pool: str) -> list[dict[str, Any]]:
        """The pods of `pool`."""
        pods: list[dict[str, Any]] = self._call("GET", f"/pools/{pool}/workspaces")["workspaces"]
        return pods

    def workspace(self, pod_id: str) -> dict[str, Any]:
        """One pod."""
        return self._call("GET", f"/workspaces/{pod_id}")

    def update(self, pod_id: str, repositories: list[str]) -> dict[str, Any]:
        """Tell the pod which repositories to clone."""
        return self._call("POST", f"/workspaces/{pod_id}/update", json={"repositories": repositories})

    def mark_used(self, pod_id: str) -> dict[str, Any]:
        """Mark the pod used (again): the launcher calls it on every reconnect."""
        return self._call("POST", f"/workspaces/{pod_id}/mark-used")

    def release(self, pod_id: str) -> dict[str, Any]:
        """Give the pod back to its pool."""
        return self._call("POST", f"/workspaces/{pod_id}/release")

    def create_pool(self, name: str, size: int) -> dict[str, Any]:
        """A new pool of `size` pods."""
        return self._call("POST", "/pools", json={"name": name, "size": size})

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, self.base_url + path, timeout=TIMEOUT_SECONDS, **kwargs)
        if response.status_code >= 400:
            raise PoolManagerError(response.status_code, response.text)
        answer: dict[str, Any] = response.json()
        return answer
