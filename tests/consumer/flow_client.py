"""The Flow UI's client of the Flow task API: the consumer code whose calls the Flow pact records.

A small `requests`-based class, as the UI's backend has it: one method per endpoint, a base URL and a
bearer key given once. Every answer is JSON; an error answer (problem+json) raises `FlowError`, which
keeps the problem's members so the UI can show its title and detail.
"""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT_SECONDS = 10


class FlowError(Exception):
    """The Flow API refused a call: its HTTP status and the problem document it answered."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}".strip())
        self.status = status
        self.problem = problem


class FlowClient:
    """The task calls of the Flow UI, and the demo calls its "demo mode" menu makes."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def list_tasks(self, status: str | None = None) -> dict[str, Any]:
        """The tasks page: every task, or only those in `status`, with the total count."""
        params = {"status": status} if status is not None else None
        return self._call("GET", "/api/v1/tasks", params=params)

    def create_task(self, name: str, node_count: int, **extra: Any) -> dict[str, Any]:
        """Start a task on `node_count` nodes; `extra` fields (labels, ...) are kept by the API."""
        return self._call("POST", "/api/v1/tasks", json={"name": name, "node_count": node_count, **extra})

    def get_task(self, task_id: str) -> dict[str, Any]:
        """One task's page."""
        return self._call("GET", f"/api/v1/tasks/{task_id}")

    def cancel_task(self, task_id: str) -> dict[str, Any]:
        """The task page's Cancel button."""
        return self._call("POST", f"/api/v1/tasks/{task_id}/cancel")

    def create_all_scenarios(self) -> dict[str, Any]:
        """Demo mode: fill the API with one task per named scenario."""
        return self._call("POST", "/api/v1/demo/create_all_scenarios")

    def transition_task(self, task_id: str, status: str) -> dict[str, Any]:
        """Demo mode: move a task to `status`, as the scheduler would."""
        return self._call("POST", f"/api/v1/demo/transition_task/{task_id}", json={"status": status})

    def reset_demo(self) -> dict[str, Any]:
        """Demo mode: back to the API's starting data."""
        return self._call("POST", "/api/v1/demo/reset")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, self.base_url + path, timeout=TIMEOUT_SECONDS, **kwargs)
        if response.status_code >= 400:
            raise FlowError(response.status_code, response.json())
        answer: dict[str, Any] = response.json()
        return answer
