"""What inference finds in a pact: collections from path shapes, ids and envelopes from the examples."""

from __future__ import annotations

from pathlib import Path

from app.contract.read.loader import load_pacts
from app.resources.infer import infer_model

from .pacts import TASK, task_pact


def test_a_task_api_becomes_one_collection_with_an_item_path_and_a_cancel_action(tmp_path: Path) -> None:
    loaded = load_pacts(task_pact(tmp_path))
    model = infer_model("Tasks", loaded.interactions)

    assert list(model.collections) == ["tasks"]
    tasks = model.collections["tasks"]
    assert (tasks.path, tasks.item) == ("/api/v1/tasks", "/api/v1/tasks/{id}")
    assert (tasks.envelope, tasks.total) == ("tasks", "total")
    assert (tasks.ids.field, tasks.ids.strategy, tasks.ids.prefix, tasks.ids.width) == ("id", "prefixed", "task_", 6)
    assert tasks.example == TASK
    assert "status" in tasks.filters and "name" in tasks.filters
    [cancel] = model.actions
    assert (cancel.method, cancel.path, cancel.collection) == ("POST", "/api/v1/tasks/{id}/cancel", "tasks")
    assert cancel.set == {"status": "cancelled"}


def test_integer_and_uuid_ids_are_told_apart(tmp_path: Path) -> None:
    import json

    pact = json.loads(task_pact(tmp_path).read_text())
    pact["interactions"][0]["response"]["body"] = {"id": 42, "name": "train"}
    pact["interactions"][1]["response"]["body"] = [{"id": 42, "name": "train"}]
    (tmp_path / "TaskUI-Tasks.json").write_text(json.dumps(pact))
    model = infer_model("Tasks", load_pacts(tmp_path).interactions)
    tasks = model.collections["tasks"]
    assert (tasks.ids.strategy, tasks.ids.start, tasks.envelope) == ("counter", 42, None)

    pact["interactions"][0]["response"]["body"] = {"id": "0b9d6f3e-1c2a-4e5b-9a7c-1234567890ab"}
    (tmp_path / "TaskUI-Tasks.json").write_text(json.dumps(pact))
    model = infer_model("Tasks", load_pacts(tmp_path).interactions)
    assert model.collections["tasks"].ids.strategy == "uuid"


def test_an_id_the_client_sends_is_taken_as_given(tmp_path: Path) -> None:
    import json

    pact = json.loads(task_pact(tmp_path).read_text())
    pact["interactions"][0]["request"]["body"] = {"id": "task_abc123", "name": "train"}
    (tmp_path / "TaskUI-Tasks.json").write_text(json.dumps(pact))
    model = infer_model("Tasks", load_pacts(tmp_path).interactions)
    assert model.collections["tasks"].ids.strategy == "given"
