"""Minimal pacts for the inference and engine tests: a task API as its consumer's tests would record it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TASK = {"id": "task_abc123", "name": "train", "status": "pending", "created_at": "2024-01-01T00:00:00Z"}


def interaction(method: str, path: str, status: int, body: Any = None, request: Any = None, **extra: Any) -> dict:
    """One V3 interaction with JSON bodies."""
    found: dict[str, Any] = {
        "description": f"{method} {path} -> {status}",
        "request": {"method": method, "path": path},
        "response": {"status": status, "headers": {"Content-Type": "application/json"}},
    }
    if request is not None:
        found["request"]["body"] = request
        found["request"]["headers"] = {"Content-Type": "application/json"}
    if body is not None:
        found["response"]["body"] = body
    found.update(extra)
    return found


def path_regex(found: dict, regex: str) -> dict:
    """The interaction with a regex on its path (any task id)."""
    found["request"]["matchingRules"] = {"path": {"matchers": [{"match": "regex", "regex": regex}]}}
    return found


def task_pact(tmp: Path, provider: str = "Tasks") -> Path:
    """A task API: create, list in an envelope with a total, read, cancel, delete, and a 404."""
    create = interaction("POST", "/api/v1/tasks", 201, TASK, {"name": "train"})
    create["request"]["matchingRules"] = {"body": {"$.name": {"matchers": [{"match": "type"}]}}}
    item = r"^/api/v1/tasks/task_[a-z0-9]+$"
    interactions = [
        create,
        interaction("GET", "/api/v1/tasks", 200, {"tasks": [TASK], "total": 1}),
        path_regex(interaction("GET", "/api/v1/tasks/task_abc123", 200, TASK), item),
        interaction("GET", "/api/v1/tasks/task_zzz999", 404, {"title": "Not found", "status": 404}),
        path_regex(
            interaction("POST", "/api/v1/tasks/task_abc123/cancel", 200, {**TASK, "status": "cancelled"}),
            r"^/api/v1/tasks/task_[a-z0-9]+/cancel$",
        ),
        path_regex(interaction("DELETE", "/api/v1/tasks/task_abc123", 204), item),
    ]
    pact = {
        "consumer": {"name": "TaskUI"},
        "provider": {"name": provider},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    path = tmp / f"TaskUI-{provider}.json"
    path.write_text(json.dumps(pact, indent=2))
    return path
