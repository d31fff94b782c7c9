"""A pact with no model file becomes stateful when PACTMOCK_INFER_STATE names its provider: a POST changes
what the GET returns, on the real server, on SQLite and PostgreSQL. Without the setting it stays a stub."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests

from tests.support.mock_process import RunningMock
from tests.unit.generic.pacts import TASK, task_pact

JSON = {"Content-Type": "application/json"}


def test_a_created_task_is_listed_read_cancelled_and_deleted(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    task_pact(tmp_path)
    mock = run_mock(tmp_path, DATABASE_URL=database_url, PACTMOCK_INFER_STATE="Tasks")
    tasks = mock.url + "/api/v1/tasks"

    assert requests.get(tasks, timeout=10).json() == {"tasks": [], "total": 0}
    first = requests.post(tasks, json={"name": "train"}, timeout=10)
    second = requests.post(tasks, json={"name": "eval"}, timeout=10)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == "task_000001" and second.json()["id"] == "task_000002"
    # Fields the client did not send come from the example.
    assert set(first.json()) == set(TASK) and first.json()["status"] == "pending"

    listed = requests.get(tasks, timeout=10).json()
    assert [t["name"] for t in listed["tasks"]] == ["train", "eval"] and listed["total"] == 2
    assert requests.get(tasks + "/task_000002", timeout=10).json()["name"] == "eval"

    cancelled = requests.post(tasks + "/task_000001/cancel", timeout=10)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert requests.get(tasks + "/task_000001", timeout=10).json()["status"] == "cancelled"

    assert requests.delete(tasks + "/task_000001", timeout=10).status_code == 204
    gone = requests.get(tasks + "/task_000001", timeout=10)
    assert gone.status_code == 404
    assert gone.headers["Content-Type"] == "application/problem+json"
    assert [t["id"] for t in requests.get(tasks, timeout=10).json()["tasks"]] == ["task_000002"]


def test_state_survives_a_restart(run_mock: Callable[..., RunningMock], tmp_path: Path) -> None:
    task_pact(tmp_path)
    database = f"sqlite:///{tmp_path / 'kept.sqlite3'}"
    first = run_mock(tmp_path, DATABASE_URL=database, PACTMOCK_INFER_STATE="*")
    requests.post(first.url + "/api/v1/tasks", json={"name": "train"}, timeout=10)
    first.process.terminate()
    first.process.wait(timeout=30)
    second = run_mock(tmp_path, DATABASE_URL=database, PACTMOCK_INFER_STATE="*")
    assert requests.get(second.url + "/api/v1/tasks/task_000001", timeout=10).json()["name"] == "train"


def test_the_contract_still_judges_the_request(run_mock: Callable[..., RunningMock], tmp_path: Path) -> None:
    task_pact(tmp_path)
    mock = run_mock(tmp_path, PACTMOCK_INFER_STATE="Tasks")
    # The pact's POST sends {"name": "train"} with a JSON Content-Type; a text body is not that request.
    refused = requests.post(mock.url + "/api/v1/tasks", data="name=train", timeout=10)
    assert refused.status_code == 400
    assert requests.get(mock.url + "/api/v1/tasks", timeout=10).json()["total"] == 0


def test_without_the_setting_the_provider_is_a_stub(run_mock: Callable[..., RunningMock], tmp_path: Path) -> None:
    task_pact(tmp_path)
    mock = run_mock(tmp_path)
    requests.post(mock.url + "/api/v1/tasks", json={"name": "eval"}, timeout=10)
    assert requests.get(mock.url + "/api/v1/tasks", timeout=10).json() == {"tasks": [TASK], "total": 1}
