"""The engine's behaviour on the examples' model files, over the in-memory store: what a client of the Flow
task API or the Pool Manager would see, without HTTP (the integration tests add the server and SQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.domain.errors import AlreadyExists, CapacityReached, Invalid, InvalidTransition, NotFound, WrongState
from app.resources.engine import Engine
from app.resources.model import ResourceModel
from app.resources.modelfile import read_model_file
from app.resources.values import Given
from tests.unit.domain.memory_store import MemoryStore

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TASK_EXAMPLE = {
    "id": "task_000001",
    "name": "x",
    "status": "pending",
    "node_count": 1,
    "nodes_ready": 0,
    "created_at": "2024-05-01T12:00:00Z",
    "updated_at": "2024-05-01T12:00:00.000+00:00",
}
POD_EXAMPLE = {"id": "pod-1", "pool": "default-pool", "usage": "free", "claimedBy": "", "url": "u", "password": "p"}


def given(
    body: Any = None, path: dict[str, str] | None = None, query: dict[str, list[str]] | None = None, example: Any = None
) -> Given:
    return Given(body, query or {}, path or {}, NOW, lambda: example)


def flow() -> Engine:
    return Engine(read_model_file(EXAMPLES / "flow" / "FlowUI-Flow.model.yaml", "Flow"), MemoryStore())


def pool(model: ResourceModel | None = None) -> Engine:
    model = model or read_model_file(EXAMPLES / "pool-manager" / "WorkspaceLauncher-PoolManager.model.yaml", "Pool")
    return Engine(model, MemoryStore())


def action(engine: Engine, method: str, path: str) -> Any:
    return next(a for a in engine.model.actions if a.method == method and a.path == path)


def test_a_created_task_starts_pending_keeps_extra_fields_and_takes_the_next_free_id() -> None:
    engine = flow()
    engine.load(("running_task",), NOW)  # holds task_000001: the counter must skip it
    created = engine.create(
        "tasks", given({"name": "eval", "status": "completed", "labels": {"a": "b"}}, example=TASK_EXAMPLE)
    )
    assert created["id"] == "task_000002" and created["status"] == "pending"
    assert created["labels"] == {"a": "b"} and created["nodes_ready"] == 0
    # Times the client did not send are the creation's own, written as the example writes them.
    assert (created["created_at"], created["updated_at"]) == ("2026-01-01T12:00:00Z", "2026-01-01T12:00:00.000+00:00")
    assert engine.read("tasks", given(path={"id": "task_000002"}))["name"] == "eval"


def test_lists_filter_by_fields_and_answer_in_the_envelope_with_a_total() -> None:
    engine = flow()
    engine.load(engine.model.fixtures_named("all_scenarios"), NOW)
    everything = engine.listing("tasks", given())
    assert everything["total"] == 25 and len(everything["tasks"]) == 25
    failed = engine.listing("tasks", given(query={"status": ["failed"]}))
    assert failed["total"] == len(failed["tasks"]) > 0
    assert {task["status"] for task in failed["tasks"]} == {"failed"}


def test_transitions_follow_the_state_machine_and_a_refusal_names_the_allowed_states() -> None:
    engine = flow()
    engine.load(("running_task",), NOW)
    move = action(engine, "POST", "/api/v1/demo/transition_task/{id}")
    with pytest.raises(InvalidTransition) as refused:
        engine.act(move, given({"status": "pending"}, {"id": "task_000001"}))
    assert refused.value.current == "running"
    assert refused.value.allowed == ["preempting", "completed", "failed", "cancelled"]
    assert engine.act(move, given({"status": "completed"}, {"id": "task_000001"}))["status"] == "completed"
    cancel = action(engine, "POST", "/api/v1/tasks/{id}/cancel")
    with pytest.raises(InvalidTransition, match="final"):
        engine.act(cancel, given(path={"id": "task_000001"}))
    assert engine.read("tasks", given(path={"id": "task_000001"}))["status"] == "completed"


def test_a_transition_to_something_that_is_not_a_state_is_refused_without_a_change() -> None:
    engine = flow()
    engine.load(("running_task",), NOW)
    move = action(engine, "POST", "/api/v1/demo/transition_task/{id}")
    with pytest.raises(Invalid):
        engine.act(move, given({"status": 3}, {"id": "task_000001"}))
    with pytest.raises(InvalidTransition):
        engine.act(move, given({"status": "exploded"}, {"id": "task_000001"}))
    assert engine.read("tasks", given(path={"id": "task_000001"}))["status"] == "running"


def test_absent_items_are_not_found() -> None:
    engine = flow()
    with pytest.raises(NotFound):
        engine.read("tasks", given(path={"id": "task_999999"}))
    with pytest.raises(NotFound):
        engine.act(action(engine, "POST", "/api/v1/tasks/{id}/cancel"), given(path={"id": "task_999999"}))


def test_reset_empties_the_provider_and_loads_the_start_fixtures_again() -> None:
    engine = pool()
    claim = action(engine, "GET", "/pools/{pool}/workspace")
    engine.act(claim, given(path={"pool": "default-pool"}, query={"workspaceId": ["w1"]}, example=POD_EXAMPLE))
    engine.act(claim, given(path={"pool": "other"}, query={"workspaceId": ["w2"]}, example=POD_EXAMPLE))
    engine.reset(NOW)
    status = action(engine, "GET", "/pools/{pool}/status")
    summary = engine.act(status, given(path={"pool": "default-pool"}))
    assert (summary["total"], summary["available"], summary["used"]) == (5, 5, 0)


def test_claims_take_free_pods_then_create_new_ones_and_release_frees_them() -> None:
    engine = pool()
    claim = action(engine, "GET", "/pools/{pool}/workspace")
    taken = [
        engine.act(claim, given(path={"pool": "default-pool"}, query={"workspaceId": [f"w{i}"]}, example=POD_EXAMPLE))
        for i in range(7)
    ]
    assert len({pod["id"] for pod in taken}) == 7
    assert [pod["claimedBy"] for pod in taken] == [f"w{i}" for i in range(7)]
    assert all(pod["usage"] == "used" and pod["claimed_at"] == "2026-01-01T12:00:00Z" for pod in taken)
    status = action(engine, "GET", "/pools/{pool}/status")
    summary = engine.act(status, given(path={"pool": "default-pool"}))
    assert (summary["total"], summary["available"], summary["used"], summary["pool"]) == (7, 0, 7, "default-pool")
    # A new pod is the model's own: its URL names it.
    assert taken[6]["url"] == f"https://{taken[6]['id']}.pods.example.test"
    release = action(engine, "POST", "/workspaces/{id}/release")
    freed = engine.act(release, given(path={"id": taken[0]["id"]}))
    assert (freed["usage"], freed["claimedBy"]) == ("free", "")
    assert engine.act(status, given(path={"pool": "default-pool"}))["available"] == 1


def test_a_pool_named_first_is_made_with_three_pods_and_a_created_pool_with_its_size() -> None:
    engine = pool()
    status = action(engine, "GET", "/pools/{pool}/status")
    assert engine.act(status, given(path={"pool": "fresh"}))["total"] == 3
    assert engine.act(status, given(path={"pool": "fresh"}))["total"] == 3  # once only
    engine.create("pools", given({"name": "team", "size": 2}, example={"name": "team", "size": 2}))
    assert engine.act(status, given(path={"pool": "team"}))["total"] == 2
    with pytest.raises(AlreadyExists):
        engine.create("pools", given({"name": "team", "size": 2}))
    with pytest.raises(Invalid):
        engine.create("pools", given({"name": "big", "size": "many"}))


def test_updates_copy_fields_from_the_body_and_mark_used_is_idempotent() -> None:
    engine = pool()
    update = action(engine, "POST", "/workspaces/{id}/update")
    updated = engine.act(update, given({"repositories": ["r1"], "usage": "hacked"}, {"id": "pod-2"}))
    assert updated["repositories"] == ["r1"] and updated["usage"] == "free"
    mark = action(engine, "POST", "/workspaces/{id}/mark-used")
    first = engine.act(mark, given(path={"id": "pod-2"}))
    assert engine.act(mark, given(path={"id": "pod-2"})) == first


def test_provider_state_teardown_restores_start_items_and_removes_the_others() -> None:
    engine = pool()
    engine.load(("pod_1_used",), NOW)
    assert engine.read("pods", given(path={"id": "pod-1"}))["usage"] == "used"
    engine.load(("pod_1_used",), NOW, remove=True)
    assert engine.read("pods", given(path={"id": "pod-1"}))["usage"] == "free"
    tasks = flow()
    tasks.load(("running_task",), NOW)
    tasks.load(("running_task",), NOW, remove=True)
    with pytest.raises(NotFound):
        tasks.read("tasks", given(path={"id": "task_000001"}))


def test_capacity_and_guards_refuse_without_storing(tmp_path: Path) -> None:
    text = (EXAMPLES / "pool-manager" / "WorkspaceLauncher-PoolManager.model.yaml").read_text()
    text = text.replace("    auto_create: 3\n", "    auto_create: 3\n    capacity: 6\n")
    text = text.replace("    set: {usage: used}\n", "    set: {usage: used}\n    guard: {usage: [free]}\n")
    model_file = tmp_path / "pool.model.yaml"
    model_file.write_text(text)
    engine = pool(read_model_file(model_file, "Pool"))
    claim = action(engine, "GET", "/pools/{pool}/workspace")
    for i in range(6):
        engine.act(claim, given(path={"pool": "default-pool"}, query={"workspaceId": [f"w{i}"]}, example=POD_EXAMPLE))
    with pytest.raises(CapacityReached):
        engine.act(claim, given(path={"pool": "default-pool"}, query={"workspaceId": ["w9"]}, example=POD_EXAMPLE))
    mark = action(engine, "POST", "/workspaces/{id}/mark-used")
    with pytest.raises(WrongState):
        engine.act(mark, given(path={"id": "pod-1"}))
