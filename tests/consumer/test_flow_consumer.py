"""Consumer side of the Flow example: the pact the Flow UI holds with the Flow task API, from its client.

Each session drives `FlowClient` (the UI's code) against pact-python's mock server in one provider state,
so every interaction is what the client really sends. The sessions merge into `FlowUI-Flow.json`, and the
last test checks that the committed examples/flow/FlowUI-Flow.json is exactly that contract
(`PACT_UPDATE=1` rewrites it; `PACT_OUTPUT_DIR` names another folder, see example_recording.py).

Matchers cover what a stateful provider varies: task ids (`task_` and a suffix), timestamps, node counts,
and the status wherever the call does not decide it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pact import Pact, match

from .example_recording import (
    JSON,
    Session,
    check_in,
    committed_folder,
    exactly,
    one_of,
    problem_content_type,
    record,
    timestamp,
)
from .flow_client import FlowClient, FlowError

CONSUMER = "FlowUI"
PROVIDER = "Flow"
PACT_FILE = f"{CONSUMER}-{PROVIDER}.json"

TOKEN = "test-flow-ui"
STATUSES = ("pending", "running", "preempting", "completed", "failed", "cancelled")
MOVES = tuple(status for status in STATUSES if status != "pending")
TASK_ID = "task_000001"
TASK_ID_REGEX = r"task_[A-Za-z0-9]+"
MISSING_TASK_ID = "task_999999"

# The one provider state: the model file loads this task for it.
RUNNING_TASK = f"a task {TASK_ID} exists in state running"


def headers() -> dict[str, Any]:
    """Every call carries a bearer key; the API accepts any that starts with `test-`."""
    return {"Authorization": match.regex(f"Bearer {TOKEN}", regex=r"^Bearer test-.+$")}


def task_path(task_id: str, suffix: str = "", base: str = "/api/v1/tasks") -> Any:
    """The path of one task (or of an action on it): any task id."""
    return match.regex(f"{base}/{task_id}{suffix}", regex=f"^{base}/{TASK_ID_REGEX}{suffix}$")


def task(status: Any, *, nodes_ready: int = 4, message: str = "All 4 nodes ready") -> dict[str, Any]:
    """A task as the API answers it: the fields the task list and the task page show."""
    return {
        "id": match.regex(TASK_ID, regex=f"^{TASK_ID_REGEX}$"),
        "name": match.str("train-llama"),
        "status": status,
        "node_count": match.int(4),
        "nodes_ready": match.int(nodes_ready),
        "status_message": match.str(message),
        "created_at": timestamp(),
        "updated_at": timestamp(),
    }


def labels() -> Any:
    """A task's labels: a map of any names to any text."""
    return match.each_value_matches({"team": "research"}, rules=match.str("research"))


def problem(status: int, *, detail: str | None = None) -> dict[str, Any]:
    """A problem+json document: its title and status (and detail, where the UI shows it), by type."""
    body: dict[str, Any] = {
        "title": match.str("Conflict" if status == 409 else "Not Found"),
        "status": match.int(status),
    }
    return body if detail is None else {**body, "detail": match.str(detail)}


def declare_running_task(pact: Pact) -> None:
    """With a running task: the lists, the task page, a valid and an invalid transition, cancellation."""
    (
        pact.upon_receiving("a request for all tasks")
        .given(RUNNING_TASK)
        .with_request("GET", "/api/v1/tasks")
        .with_headers(headers())
        .will_respond_with(200)
        .with_body({"tasks": match.each_like(task(one_of("running", STATUSES))), "total": match.int(1)}, JSON)
    )
    (
        pact.upon_receiving("a request for the running tasks")
        .given(RUNNING_TASK)
        .with_request("GET", "/api/v1/tasks")
        # The UI's status filter offers every status.
        .with_query_parameter("status", one_of("running", STATUSES))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body({"tasks": match.each_like(task(one_of("running", STATUSES))), "total": match.int(1)}, JSON)
    )
    (
        pact.upon_receiving(f"a request for task {TASK_ID}")
        .given(RUNNING_TASK)
        .with_request("GET", task_path(TASK_ID))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(task(one_of("running", STATUSES)), JSON)
    )
    (
        pact.upon_receiving(f"a request to move task {TASK_ID} to completed")
        .given(RUNNING_TASK)
        .with_request("POST", task_path(TASK_ID, base="/api/v1/demo/transition_task"))
        .with_headers(headers())
        # The demo's transition menu offers every status; the state machine decides which moves succeed.
        # (Back to pending is the refused example below, so this one names the others.)
        .with_body({"status": one_of("completed", MOVES)}, JSON)
        .will_respond_with(200)
        # A task that was preempting may go back to pending: the answer may hold any status.
        .with_body(task(one_of("completed", STATUSES)), JSON)
    )
    (
        pact.upon_receiving(f"a request to move running task {TASK_ID} back to pending")
        .given(RUNNING_TASK)
        .with_request("POST", task_path(TASK_ID, base="/api/v1/demo/transition_task"))
        .with_headers(headers())
        .with_body({"status": "pending"}, JSON)
        .will_respond_with(409)
        .with_header("Content-Type", problem_content_type())
        .with_body(problem(409, detail=f"task {TASK_ID} is running; it may move to completed, failed, cancelled"))
    )
    (
        pact.upon_receiving(f"a request to cancel task {TASK_ID}")
        .given(RUNNING_TASK)
        .with_request("POST", task_path(TASK_ID, "/cancel"))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(task(exactly("cancelled"), message="Cancelled by user"), JSON)
    )


def use_running_task(base_url: str) -> None:
    """The tasks page, the running filter, a task's page, two demo transitions and the Cancel button."""
    flow = FlowClient(base_url, TOKEN)
    page = flow.list_tasks()
    assert (page["total"], [t["id"] for t in page["tasks"]]) == (1, [TASK_ID])
    assert {t["status"] for t in flow.list_tasks(status="running")["tasks"]} == {"running"}
    shown = flow.get_task(TASK_ID)
    assert (shown["status"], shown["nodes_ready"], shown["node_count"]) == ("running", 4, 4)
    assert flow.transition_task(TASK_ID, "completed")["status"] == "completed"
    with pytest.raises(FlowError) as refused:
        flow.transition_task(TASK_ID, "pending")
    assert refused.value.status == 409
    assert {"title", "status", "detail"} <= set(refused.value.problem)
    assert flow.cancel_task(TASK_ID)["status"] == "cancelled"


def declare_without_state(pact: Pact) -> None:
    """Whatever exists: creating a task with extra fields, an absent task, the demo's load and reset."""
    (
        pact.upon_receiving("a request to create a task with labels")
        .with_request("POST", "/api/v1/tasks")
        .with_headers(headers())
        .with_body(
            # Labels are the user's own: any names, any text.
            {"name": match.str("train-llama"), "node_count": match.int(4), "labels": labels()},
            JSON,
        )
        .will_respond_with(201)
        .with_body(
            {
                **task(exactly("pending"), nodes_ready=0, message="Waiting for nodes"),
                "labels": labels(),
            },
            JSON,
        )
    )
    (
        pact.upon_receiving(f"a request for task {MISSING_TASK_ID}, which does not exist")
        .with_request("GET", task_path(MISSING_TASK_ID))
        .with_headers(headers())
        .will_respond_with(404)
        .with_header("Content-Type", problem_content_type())
        .with_body(problem(404))
    )
    (
        pact.upon_receiving("a request to create every demo scenario")
        .with_request("POST", "/api/v1/demo/create_all_scenarios")
        .with_headers(headers())
        .will_respond_with(200)
        .with_body({"message": match.str("created 25 scenario tasks"), "created": match.int(25)}, JSON)
    )
    (
        pact.upon_receiving("a request to reset the demo")
        .with_request("POST", "/api/v1/demo/reset")
        .with_headers(headers())
        .will_respond_with(200)
        .with_body({"message": match.str("demo data reset")}, JSON)
    )


def use_without_state(base_url: str) -> None:
    """Start a labelled task, open a stale link, then fill the demo with every scenario and reset it."""
    flow = FlowClient(base_url, TOKEN)
    created = flow.create_task("train-llama", 4, labels={"team": "research"})
    assert (created["status"], created["labels"], created["id"].startswith("task_")) == (
        "pending",
        {"team": "research"},
        True,
    )
    with pytest.raises(FlowError) as missing:
        flow.get_task(MISSING_TASK_ID)
    assert (missing.value.status, missing.value.problem["status"]) == (404, 404)
    assert flow.create_all_scenarios()["created"] > 0
    assert flow.reset_demo()["message"]


SESSIONS = {
    RUNNING_TASK: Session(declare_running_task, use_running_task),
    "no provider state": Session(declare_without_state, use_without_state),
}


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_session(name: str, tmp_path: Path) -> None:
    """The client gets what it expects from the mock server, and sends exactly the declared requests."""
    record(CONSUMER, PROVIDER, SESSIONS[name], tmp_path)


def test_committed_pact_is_the_recorded_one(tmp_path: Path) -> None:
    """examples/flow/FlowUI-Flow.json is exactly what the sessions record (recorded afresh here)."""
    for name in sorted(SESSIONS):
        record(CONSUMER, PROVIDER, SESSIONS[name], tmp_path)
    check_in(tmp_path / PACT_FILE, committed_folder("flow") / PACT_FILE)
