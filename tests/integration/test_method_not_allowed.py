"""A 405 says which methods are allowed (RFC 9110 requires the Allow header): on a pact's path, the methods
the served pacts answer there; on a control page, the methods the page takes. A real server on a real port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "examples" / "flow"


def methods(allow: str) -> list[str]:
    return [method.strip() for method in allow.split(",") if method.strip()]


def test_a_method_no_pact_uses_gets_405_listing_the_methods_the_pacts_answer_on_that_path(run_mock: Any) -> None:
    mock = run_mock(FLOW)

    tasks = requests.request("TRACE", mock.url + "/api/v1/tasks", timeout=10)
    assert tasks.status_code == 405
    assert tasks.headers["Content-Type"] == "application/problem+json"
    assert sorted(methods(tasks.headers["Allow"])) == ["GET", "POST"]  # the Flow pact's list and create
    assert tasks.json()["allowed"] == methods(tasks.headers["Allow"])

    # The pact's path is a template here: the task read matches other ids too.
    one_task = requests.request("PROPFIND", mock.url + "/api/v1/tasks/task_000001", timeout=10)
    assert one_task.status_code == 405
    assert methods(one_task.headers["Allow"]) == ["GET"]

    cancel = requests.request("TRACE", mock.url + "/api/v1/tasks/task_000001/cancel", timeout=10)
    assert methods(cancel.headers["Allow"]) == ["POST"]

    nowhere = requests.request("TRACE", mock.url + "/no/pact/has/this", timeout=10)
    assert nowhere.status_code == 405
    assert nowhere.headers["Allow"] == "", "no method is allowed where no pact defines the path"


def test_a_control_page_refusing_a_method_says_which_it_takes(run_mock: Any) -> None:
    mock = run_mock(FLOW)
    health = requests.delete(mock.url + "/_mock/health", timeout=10)
    assert health.status_code == 405
    assert health.headers["Content-Type"] == "application/problem+json"
    assert "GET" in methods(health.headers["Allow"])
    assert "DELETE" not in methods(health.headers["Allow"])
