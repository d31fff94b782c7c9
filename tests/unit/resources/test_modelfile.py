"""A model file read into a ResourceModel, written back as a draft, and found beside its pact."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from app.resources.draft import draft_yaml
from app.resources.model import (
    Action,
    Auth,
    Children,
    Claim,
    Collection,
    IdRule,
    ResourceModel,
    StateMachine,
    Summary,
)
from app.resources.modelfile import ModelFileError, find_model_files, model_file_for, read_model_file

from .flow_model import FLOW_MODEL, write

TASKS = Collection(
    name="tasks",
    path="/api/v1/tasks",
    item="/api/v1/tasks/{id}",
    ids=IdRule(field="id", strategy="prefixed", prefix="task_", start=1),
    envelope="tasks",
    total="total",
    filters=("status", "owner"),
    defaults={"priority": "normal", "retries": 0, "spot": False},
    capacity=1000,
    machine=StateMachine(
        field="status",
        initial="pending",
        states=("pending", "completed", "failed", "cancelled", "running", "preempting"),
        terminal=frozenset({"completed", "failed", "cancelled"}),
        transitions={
            "pending": ("running", "cancelled"),
            "running": ("preempting", "completed", "failed", "cancelled"),
            "preempting": ("running", "failed"),
        },
    ),
)
POOLS = Collection(
    name="pools",
    path="/pools",
    item="/pools/{id}",
    ids=IdRule(field="name", strategy="given"),
    children=Children(collection="pods", count=5, field="pool", count_from="size"),
)
PODS = Collection(
    name="pods",
    path="/pools/{pool}/workspaces",
    item="/workspaces/{id}",
    ids=IdRule(field="id", strategy="uuid"),
    auto_create=3,
)
ACTIONS = (
    Action(method="POST", path="/api/v1/tasks/{id}/cancel", collection="tasks", to="cancelled"),
    Action(method="POST", path="/api/v1/demo/transition_task/{id}", collection="tasks", to_from_body="status"),
    Action(
        method="POST",
        path="/workspaces/{id}/update",
        collection="pods",
        set={"usage": "used", "claimed_at": "$now"},
        set_from_body=("repositories",),
        guard={"usage": ("free", "used")},
    ),
    Action(
        method="GET",
        path="/pools/{pool}/workspace",
        collection="pods",
        claim=Claim(where={"usage": "free"}, create_when_none=True),
        set={"usage": "used", "claimedBy": "$query.workspaceId", "claimed_at": "$now", "pool": "$path.pool"},
    ),
    Action(
        method="GET",
        path="/pools/{pool}/status",
        collection="pods",
        summary=Summary(
            totals={"total": "*", "available": {"usage": "free"}, "used": {"usage": "used"}, "big": {"size": 2}},
            items="pods",
        ),
    ),
    Action(method="POST", path="/api/v1/demo/reset", reset=True),
    Action(method="POST", path="/api/v1/demo/create_all_scenarios", load="all_scenarios"),
)
FIXTURES: dict[str, dict[str, tuple[dict[str, Any], ...]]] = {
    "default_pool": {
        "pools": ({"name": "default-pool"},),
        "pods": (
            {"id": "pod-1", "pool": "default-pool", "usage": "free"},
            {"id": "pod-2", "pool": "default-pool", "usage": "used", "ports": {"8080": "http://pod-2:8080"}},
        ),
    },
    "oom_failure": {
        "tasks": ({"id": "task_oom", "status": "failed", "failure": "OOM", "nodes": 1, "created": "2026-01-01"},)
    },
    "multi_node": {"tasks": ({"id": "task_multi", "status": "running", "nodes": 4, "ready": 4},)},
    "one_task": {"tasks": ({"status": "pending"},)},
}


def expected_model(source: str) -> ResourceModel:
    return ResourceModel(
        provider="Flow",
        collections={"tasks": TASKS, "pools": POOLS, "pods": PODS},
        actions=ACTIONS,
        fixtures=FIXTURES,
        scenarios={"all_scenarios": ("oom_failure", "multi_node")},
        start=("default_pool",),
        states={"a task exists": ("one_task",), "every scenario": ("all_scenarios",)},
        auth=Auth(bearer_prefix="test-"),
        source=source,
    )


def comparable(model: ResourceModel) -> ResourceModel:
    """The model without what a draft does not carry: where it came from and each collection's example."""
    collections = {name: dataclasses.replace(c, example={}) for name, c in model.collections.items()}
    return dataclasses.replace(model, collections=collections, source="")


def test_a_complete_model_file_gives_the_model_it_declares(tmp_path: Path) -> None:
    path = write(tmp_path, FLOW_MODEL)

    model = read_model_file(path, default_provider="ignored")

    assert model == expected_model(str(path))
    # States in the order the file first names them; dict values keep their YAML types.
    assert model.collections["tasks"].machine is not None
    assert model.collections["tasks"].machine.states[:2] == ("pending", "completed")
    assert model.actions[4].summary is not None
    assert model.actions[4].summary.totals["big"] == {"size": 2}
    assert model.fixtures_named("all_scenarios") == ("oom_failure", "multi_node")


def test_the_provider_defaults_to_the_pact_beside_it(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\n")

    model = read_model_file(path, default_provider="Pool Manager")

    assert model == ResourceModel(provider="Pool Manager", source=str(path))


def test_a_draft_reads_back_as_the_same_model(tmp_path: Path) -> None:
    original = read_model_file(write(tmp_path, FLOW_MODEL), "Flow")
    with_example = dataclasses.replace(
        original,
        collections={**original.collections, "tasks": dataclasses.replace(TASKS, example={"id": "task_abc123"})},
        source="inferred from flow-consumer-Flow.json",
    )

    text = draft_yaml(with_example)
    again = read_model_file(write(tmp_path, text, "draft.model.yaml"), "someone else")

    assert comparable(again) == comparable(original)
    assert text.startswith("# pactmock model file for provider Flow: inferred from flow-consumer-Flow.json.\n")
    assert "may be edited" in text
    assert "task_abc123" not in text


def test_a_minimal_model_round_trips(tmp_path: Path) -> None:
    model = ResourceModel(
        provider="Tiny",
        collections={
            "things": Collection(name="things", path="/things", item=None),
            "codes": Collection(
                name="codes",
                path=None,
                item="/codes/{id}",
                ids=IdRule(field="code", strategy="prefixed", prefix="c-", start=7, width=3),
                machine=StateMachine(field="state", initial="on", states=("on", "off", "yes", "12")),
            ),
        },
        source="inferred from tiny.json",
    )

    text = draft_yaml(model)
    again = read_model_file(write(tmp_path, text, "tiny.model.yaml"), "Tiny")

    # YAML would read on, off, yes and 12 as booleans and a number: the draft quotes them.
    assert comparable(again) == comparable(model)
    assert 'states: ["on", "off", "yes", "12"]' in text or "states: ['on', 'off', 'yes', '12']" in text


def test_the_model_file_of_a_pact_is_beside_it() -> None:
    assert model_file_for(Path("pacts/flow-consumer-Flow.json")) == Path("pacts/flow-consumer-Flow.model.yaml")


def test_model_files_are_found_beside_their_pacts(tmp_path: Path) -> None:
    (tmp_path / "flow").mkdir()
    flow_pact = tmp_path / "flow" / "flow-consumer-Flow.json"
    other_pact = tmp_path / "other-consumer-Other.json"
    for pact in (flow_pact, other_pact):
        pact.write_text("{}")
    write(tmp_path / "flow", FLOW_MODEL)

    assert find_model_files(tmp_path) == {flow_pact: tmp_path / "flow" / "flow-consumer-Flow.model.yaml"}


def test_a_model_file_without_its_pact_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "flow-consumer-Flow.json").write_text("{}")
    orphan = write(tmp_path, FLOW_MODEL, "flow-consumer-Flwo.model.yaml")

    with pytest.raises(ModelFileError) as raised:
        find_model_files(tmp_path)

    assert str(raised.value).startswith(f"{orphan}:1: there is no pact flow-consumer-Flwo.json beside this model file")
    assert 'did you mean "flow-consumer-Flow.model.yaml"?' in str(raised.value)
