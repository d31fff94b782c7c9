"""An action hook a model file names answers as Epistemix's route hooks do, through the one seam: its own status
and headers when it returns an `Answer`, the route's success status when it returns a value. Real server, both
backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests

from tests.support.mock_process import RunningMock
from tests.unit.generic.pacts import task_pact

MODEL = """\
version: 1
provider: Tasks
collections:
  tasks:
    path: /api/v1/tasks
    item: /api/v1/tasks/{id}
    id: {field: id, strategy: prefixed, prefix: task_, width: 6}
    envelope: tasks
    total: total
actions:
  - method: POST
    path: /api/v1/tasks/{id}/cancel
    collection: tasks
    hook: "seamhooks:cancel_later"
"""

HOOKS = '''\
from app.resources.hooks import Answer, HookCall


def cancel_later(call: HookCall) -> Answer:
    """Accepted, not done: a 202 pointing at the task, as a coded provider's hook would answer."""
    task = call.item
    location = f"{call.path['id']}"
    return Answer(202, {**task, "status": "cancelling"}, headers={"Location": "/api/v1/tasks/" + location})
'''


def test_an_action_hook_answers_its_own_status_and_headers(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    task_pact(tmp_path)
    (tmp_path / "TaskUI-Tasks.model.yaml").write_text(MODEL)
    (tmp_path / "seamhooks.py").write_text(HOOKS)
    mock = run_mock(tmp_path, DATABASE_URL=database_url)
    tasks = mock.url + "/api/v1/tasks"
    created = requests.post(tasks, json={"name": "train"}, timeout=10)
    assert created.status_code == 201 and created.json()["id"] == "task_000001"

    cancelled = requests.post(tasks + "/task_000001/cancel", timeout=10)
    assert cancelled.status_code == 202
    assert cancelled.headers["Location"] == "/api/v1/tasks/task_000001"
    assert cancelled.json()["status"] == "cancelling" and cancelled.json()["name"] == "train"

    # The hook runs on an item that exists: an unknown id is the engine's 404 before it.
    missing = requests.post(tasks + "/task_000009/cancel", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"


TRACE_MODEL = MODEL.replace('hook: "seamhooks:cancel_later"', 'hook: "seamhooks:traced"')
TRACE_HOOKS = (
    HOOKS
    + '''

def traced(call: HookCall) -> dict:
    """What the route handed on: a request header, the URL the mock is reached at, the example's status."""
    return {**call.item, "trace": call.headers.get("x-trace"), "base": call.base_url, "status_of_example": call.status}
'''
)


def test_an_action_hook_gets_the_routes_request_and_example(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    task_pact(tmp_path)
    (tmp_path / "TaskUI-Tasks.model.yaml").write_text(TRACE_MODEL)
    (tmp_path / "seamhooks.py").write_text(TRACE_HOOKS)
    mock = run_mock(tmp_path, DATABASE_URL=database_url)
    tasks = mock.url + "/api/v1/tasks"
    assert requests.post(tasks, json={"name": "train"}, timeout=10).status_code == 201

    traced = requests.post(tasks + "/task_000001/cancel", headers={"X-Trace": "abc"}, timeout=10)
    assert traced.status_code == 200
    body = traced.json()
    assert (body["trace"], body["base"], body["status_of_example"]) == ("abc", mock.url, 200)
