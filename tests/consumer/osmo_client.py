"""The OSMO UI backend's client of the OSMO workflow API: the consumer code whose calls the OSMO pact records.

A small `requests`-based class, as a UI backend has it: one method per endpoint, a base URL and a bearer
key given once. Paths follow NVIDIA OSMO's service (`/api/workflow`, `/api/pool`, `/api/resources`,
`/api/bucket`, `/api/profile/settings`) where it has them; every list is paged by `offset` and `limit`.
JSON answers come back as dicts (or lists); logs, events, a spec and a terminal's output come back as
text. An error answer raises `OsmoError`, which keeps the status and the answered document.
"""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT_SECONDS = 10


class OsmoError(Exception):
    """The OSMO API refused a call: its HTTP status and the document it answered."""

    def __init__(self, status: int, document: dict[str, Any]) -> None:
        super().__init__(f"{status} {document.get('title', '')}: {document.get('detail', '')}".strip())
        self.status = status
        self.document = document


def _page(offset: int, limit: int, **filters: str | None) -> dict[str, Any]:
    """Query parameters of one page, with the filters that are set."""
    return {"offset": offset, "limit": limit, **{k: v for k, v in filters.items() if v is not None}}


class OsmoClient:
    """The calls the OSMO UI makes: workflows and their parts, pools, resources, data, the user's profile."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    # Workflows

    def list_workflows(
        self,
        offset: int = 0,
        limit: int = 20,
        *,
        status: str | None = None,
        pool: str | None = None,
        user: str | None = None,
    ) -> dict[str, Any]:
        """The workflows page: one page of workflows, only those with `status`, in `pool`, by `user` if set."""
        params = _page(offset, limit, statuses=status, pools=pool, users=user)
        return self._json("GET", "/api/workflow", params=params)

    def get_workflow(self, name: str) -> dict[str, Any]:
        """One workflow's page, by its name (`<spec name>-<number>`)."""
        return self._json("GET", f"/api/workflow/{name}")

    def get_workflow_by_uuid(self, uuid: str) -> dict[str, Any]:
        """One workflow's page, by its uuid (as a link from a task or a dataset holds it)."""
        return self._json("GET", f"/api/workflow/{uuid}")

    def list_groups(self, name: str, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """The task groups of a workflow, one page."""
        return self._json("GET", f"/api/workflow/{name}/groups", params=_page(offset, limit))

    def list_tasks(self, name: str, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """The tasks of a workflow, one page."""
        return self._json("GET", f"/api/workflow/{name}/tasks", params=_page(offset, limit))

    def workflow_logs(self, name: str, last_n_lines: int = 1000) -> str:
        """The last lines of a workflow's log, as text (`<date> <time> [<task>] <message>` lines)."""
        return self._text("GET", f"/api/workflow/{name}/logs", params={"last_n_lines": last_n_lines})

    def workflow_events(self, name: str) -> str:
        """A workflow's pod events, as text."""
        return self._text("GET", f"/api/workflow/{name}/events")

    def workflow_spec(self, name: str) -> str:
        """The YAML spec a workflow was submitted with."""
        return self._text("GET", f"/api/workflow/{name}/spec")

    def port_forward(self, name: str, task: str, port: int) -> list[dict[str, Any]]:
        """Open a port-forward session to `port` of a running task: where to connect, one entry per port."""
        answer = self._call("POST", f"/api/workflow/{name}/portforward/{task}", params={"task_ports": port})
        sessions: list[dict[str, Any]] = answer.json()
        return sessions

    def run_command(self, name: str, task: str, command: str) -> str:
        """Run `command` in a running task's terminal; its output as text."""
        return self._text("POST", f"/api/workflow/{name}/exec/task/{task}", json={"command": command})

    # Pools and resources

    def list_pools(self, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """The pools page, one page."""
        return self._json("GET", "/api/pool", params=_page(offset, limit))

    def list_pool_resources(self, pool: str, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """The nodes (resources) of one pool, one page."""
        return self._json("GET", f"/api/pool/{pool}/resources", params=_page(offset, limit))

    def list_resources(self, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """Every pool's nodes, one page."""
        return self._json("GET", "/api/resources", params=_page(offset, limit))

    # Data

    def list_buckets(self, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """The buckets the user can use, one page."""
        return self._json("GET", "/api/bucket", params=_page(offset, limit))

    def list_artifacts(self, bucket: str, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """The files workflows wrote to a bucket, one page."""
        return self._json("GET", f"/api/bucket/{bucket}/artifacts", params=_page(offset, limit))

    def list_datasets(self, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """The datasets and collections of every bucket, one page."""
        return self._json("GET", "/api/bucket/list_dataset", params=_page(offset, limit))

    def list_collections(self, bucket: str, dataset: str, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        """The collections a dataset belongs to, one page."""
        path = f"/api/bucket/{bucket}/dataset/{dataset}/collections"
        return self._json("GET", path, params=_page(offset, limit))

    # The user

    def profile(self) -> dict[str, Any]:
        """Who the user is: name, e-mail, roles."""
        return self._json("GET", "/api/profile")

    def settings(self) -> dict[str, Any]:
        """The user's settings: notifications, default bucket and pool, and the pools they may use."""
        return self._json("GET", "/api/profile/settings")

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._call(method, path, **kwargs).json()
        return answer

    def _text(self, method: str, path: str, **kwargs: Any) -> str:
        return self._call(method, path, **kwargs).text

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, self.base_url + path, timeout=TIMEOUT_SECONDS, **kwargs)
        if response.status_code >= 400:
            raise OsmoError(response.status_code, response.json())
        return response
