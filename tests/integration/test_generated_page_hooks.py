"""Pages of a generated collection keep their hooks' values where nothing but the item decides them
(resources/shown_page.py): served by the real server (two workers, each read repeated so both keep the page), a
kept value must not outlive a write of the item, a removal, the clock set forward, a new count or a reset, and
every item of a page must read as the item alone does. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.support.mock_process import RunningMock
from tests.unit.generic.pacts import TASK, interaction, path_regex

FROZEN_AT = "2030-01-01T00:00:00Z"
ITEM = r"^/api/v1/tasks/task_[0-9]+$"
DIGITS = {"matchers": [{"match": "regex", "regex": r"^\d+$"}]}
MODEL = """\
version: 1
provider: Tasks
seed: 23
collections:
  tasks:
    path: /api/v1/tasks
    item: /api/v1/tasks/{id}
    id: {field: id, strategy: prefixed, prefix: task_, width: 6, start: 1}
    envelope: tasks
    total: total
    generated:
      count: 1000000
      fields:
        name: {text: "job-{index}"}
        created_at: {age: [60, 86400]}
        label: {hook: "pagehooks:label"}
        age: {hook: "pagehooks:age"}
        asked: {hook: "pagehooks:asked"}
    page: {style: offset, default: 20, max: 1000}
"""
HOOKS = '''\
from datetime import datetime


def label(call):
    """The item's name and a draw of its random: the item alone decides it."""
    return f"{call.item['name']} #{call.random.randint(1, 999)}"


def age(call):
    """Seconds since the item was created: it follows the clock."""
    created = datetime.fromisoformat(call.item["created_at"].replace("Z", "+00:00"))
    return round((call.now - created).total_seconds())


def asked(call):
    """The page size the request asked for ("" for an item read): it follows the request."""
    return call.query.get("limit", [""])[0]
'''


def write_pacts(folder: Path) -> None:
    listing = interaction("GET", "/api/v1/tasks", 200, {"tasks": [TASK], "total": 1})
    listing["request"]["query"] = {"offset": ["0"], "limit": ["20"]}
    listing["request"]["matchingRules"] = {"query": {"offset": DIGITS, "limit": DIGITS}}
    change = path_regex(interaction("PATCH", "/api/v1/tasks/task_abc123", 200, TASK, {"name": "train"}), ITEM)
    change["request"]["matchingRules"]["body"] = {"$.name": {"matchers": [{"match": "type"}]}}
    pact = {
        "consumer": {"name": "TaskUI"},
        "provider": {"name": "Tasks"},
        "interactions": [
            listing,
            path_regex(interaction("GET", "/api/v1/tasks/task_abc123", 200, TASK), ITEM),
            change,
            path_regex(interaction("DELETE", "/api/v1/tasks/task_abc123", 204), ITEM),
        ],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    (folder / "TaskUI-Tasks.json").write_text(json.dumps(pact))
    (folder / "TaskUI-Tasks.model.yaml").write_text(MODEL)
    (folder / "pagehooks.py").write_text(HOOKS)


def page(mock: RunningMock, offset: int = 40, limit: int = 20) -> list[dict[str, Any]]:
    """The page, read six times: every answer the same (both workers kept it by then)."""
    answers = [requests.get(f"{mock.url}/api/v1/tasks?offset={offset}&limit={limit}", timeout=10) for _ in range(6)]
    assert {a.status_code for a in answers} == {200}, answers[0].text
    assert len({a.content for a in answers}) == 1
    return list(answers[-1].json()["tasks"])


def post(mock: RunningMock, path: str, body: Any = None) -> None:
    answer = requests.post(mock.url + path, json=body, timeout=30)
    assert answer.status_code == 200, answer.text


def volume(mock: RunningMock, count: int) -> None:
    answer = requests.put(mock.url + "/_mock/resources/Tasks/tasks", json={"count": count}, timeout=30)
    assert answer.status_code == 200, answer.text


def test_a_pages_kept_hook_values_follow_writes_the_clock_the_count_and_a_reset(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    write_pacts(tmp_path)
    mock = run_mock(tmp_path, DATABASE_URL=database_url)
    post(mock, "/_mock/clock", {"action": "freeze", "at": FROZEN_AT})
    first = page(mock)
    assert [t["id"] for t in first] == [f"task_{n:06d}" for n in range(41, 61)]
    assert {t["asked"] for t in first} == {"20"} and {t["asked"] for t in page(mock, limit=5)} == {"5"}
    # Each item reads as it does alone (but for the request's own `asked`).
    for task in first[:3]:
        alone = requests.get(f"{mock.url}/api/v1/tasks/{task['id']}", timeout=10).json()
        assert alone == {**task, "asked": ""}

    # A write of an item: its kept label is made again from the new name.
    changed = requests.patch(f"{mock.url}/api/v1/tasks/task_000045", json={"name": "renamed"}, timeout=10)
    assert changed.status_code == 200, changed.text
    after_write = page(mock)
    task = next(t for t in after_write if t["id"] == "task_000045")
    assert task["name"] == "renamed" and task["label"].startswith("renamed #")
    assert [t for t in after_write if t["id"] != "task_000045"] == [t for t in first if t["id"] != "task_000045"]
    assert requests.delete(f"{mock.url}/api/v1/tasks/task_000046", timeout=10).status_code == 204
    assert "task_000046" not in {t["id"] for t in page(mock)}

    # The clock moved on: what follows it moves, what the item alone decides stays.
    post(mock, "/_mock/clock", {"action": "advance", "seconds": 3600})
    later = page(mock)
    assert [t["age"] for t in later] == [t["age"] + 3600 for t in after_write if t["id"] != "task_000046"]
    assert [t["label"] for t in later] == [t["label"] for t in after_write if t["id"] != "task_000046"]

    # A new count: the page holds what is there now.
    volume(mock, 50)
    fewer = requests.get(f"{mock.url}/api/v1/tasks?offset=40&limit=20", timeout=10).json()
    assert fewer["total"] == 50 and len(page(mock)) == 9  # task_000046 stays removed
    volume(mock, 1_000_000)

    # A reset forgets the write and the removal.
    post(mock, "/_mock/reset")
    post(mock, "/_mock/clock", {"action": "freeze", "at": FROZEN_AT})
    reset = page(mock)
    assert [t["id"] for t in reset] == [f"task_{n:06d}" for n in range(41, 61)]
    assert "renamed" not in {t["name"] for t in reset} and not any(t["label"].startswith("renamed") for t in reset)
