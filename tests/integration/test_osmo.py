"""The OSMO example (examples/osmo), served as a user serves it (`pactmock serve` with PACT_DIR=examples/osmo):
its README walkthrough runs as written and the official verifier passes its pact, on SQLite and PostgreSQL;
the same seed gives byte-identical answers across a restart and between SQLite and PostgreSQL with the clock
frozen at the same instant; bad input is a 4xx problem+json that changes nothing.

The pact pages by offset and limit, not by cursor, so there is no page token from another seed to refuse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pact import Verifier

from tests.support.mock_process import RunningMock, stop_mock
from tests.support.walkthrough import run_walkthrough

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "osmo"
PACT = EXAMPLE / "OsmoUI-OSMO.json"
AUTH = {"Authorization": "Bearer test-alice"}
FROZEN_AT = "2026-06-01T12:00:00Z"
# A filter reads 10,000 generated workflows one by one: seconds on a busy two-core machine.
TIMEOUT_SECONDS = 60
# The pact holds its text answers (a log, events, a spec, a terminal's output) word for word: they have no
# matchers. Only the workflow the pact recorded answers them as recorded; any other workflow's text differs
# from the example, which the mock reports. Every other answer must keep to the contract.
TEXT_INTERACTIONS = {
    "a request for the logs of train-policy-1",
    "a request for the events of train-policy-1",
    "a request for the spec of train-policy-1",
    "a request to run ls in the terminal of task train of train-policy-1",
}
DRIFT = re.compile(r"handler answer for '([^']*)' breaks the contract")
# Answers whose bytes must not depend on the process or the backend: lists, filters, lookups, hooks' answers.
COMPARED_PATHS = (
    "/api/workflow?offset=0&limit=50",
    "/api/workflow?offset=9950&limit=50",
    "/api/workflow?offset=0&limit=50&statuses=RUNNING",
    "/api/workflow?offset=0&limit=50&users=alice@example.com",
    "/api/workflow/train-policy-4321",
    "/api/workflow/5f0c1a2b3c4d4e5f0000000000000777",
    "/api/workflow/train-policy-4/groups?offset=0&limit=20",
    "/api/workflow/train-policy-4/tasks?offset=0&limit=20",
    "/api/workflow/train-policy-4/logs?last_n_lines=1000",
    "/api/workflow/train-policy-4/events",
    "/api/workflow/train-policy-4/spec",
    "/api/pool?offset=0&limit=50",
    "/api/resources?offset=2480&limit=20",
    "/api/pool/isaac-gpu/resources?offset=0&limit=100",
    "/api/bucket?offset=0&limit=20",
    "/api/bucket/osmo-bucket-07/artifacts?offset=0&limit=50",
    "/api/bucket/list_dataset?offset=450&limit=50",
    "/api/bucket/osmo-datasets/dataset/robot-grasps/collections?offset=0&limit=20",
)


# Pages that hold an item the model file loads at start (pool isaac-gpu, bucket osmo-datasets): PostgreSQL
# keeps a stored document's keys in its own order (JSONB), so between backends these are equal as JSON, not
# as bytes. Every generated item is byte-identical.
HOLDING_STORED_ITEMS = ("/api/pool?offset=0&limit=50", "/api/bucket?offset=0&limit=20")


def drifted(mock: RunningMock) -> set[str]:
    """The interactions whose answers the mock reported as breaking the contract."""
    return set(DRIFT.findall(mock.log()))


def freeze(mock: RunningMock) -> None:
    answer = requests.post(
        f"{mock.url}/_mock/clock", json={"action": "freeze", "at": FROZEN_AT}, timeout=TIMEOUT_SECONDS
    )
    assert answer.status_code == 200, answer.text


def answers(mock: RunningMock) -> dict[str, bytes]:
    """The bytes of every compared answer (each must be a 200)."""
    found = {}
    for path in COMPARED_PATHS:
        answer = requests.get(mock.url + path, headers=AUTH, timeout=TIMEOUT_SECONDS)
        assert answer.status_code == 200, (path, answer.text)
        found[path] = answer.content
    return found


def test_the_readme_walkthrough_runs_as_written(database_url: str, run_mock: Callable[..., RunningMock]) -> None:
    mock = run_mock(EXAMPLE, DATABASE_URL=database_url)
    steps = run_walkthrough(EXAMPLE / "README.md", {"MOCK": mock.url})
    assert len(steps) >= 35
    # Only text answers of workflows other than the recorded one differ from the pact's examples.
    assert drifted(mock) <= TEXT_INTERACTIONS, mock.log()


def test_the_verifier_passes_the_pact_against_the_stateful_mock(
    database_url: str, run_mock: Callable[..., RunningMock]
) -> None:
    mock = run_mock(EXAMPLE, DATABASE_URL=database_url)
    verifier = (
        Verifier("OSMO", host="127.0.0.1")
        .add_transport(url=mock.url)
        .add_source(PACT)
        .state_handler(f"{mock.url}/_mock/provider-states", teardown=True, body=True)
        .set_error_on_empty_pact(enabled=True)
        .set_request_timeout(TIMEOUT_SECONDS * 1000)
    )
    try:
        verifier.verify()
    except RuntimeError as error:
        pytest.fail(
            f"{error}\n--- verifier output ---\n{verifier.output(strip_ansi=True)}\n--- mock log ---\n{mock.log()}"
        )
    assert verifier.results["result"] is True, json.dumps(verifier.results, indent=2)
    assert "provider OSMO is stateful" in mock.log(), mock.log()
    assert not drifted(mock), mock.log()


def test_the_same_seed_gives_the_same_bytes_across_a_restart_and_on_both_backends(
    run_mock: Callable[..., RunningMock], tmp_path: Path, postgres_url_for_comparison: str
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'osmo.sqlite3'}"
    first = run_mock(EXAMPLE, DATABASE_URL=sqlite_url)
    freeze(first)
    before_restart = answers(first)
    stop_mock(first)
    # The clock's setting and each collection's epoch are in the database: a restart reads them back.
    again = run_mock(EXAMPLE, DATABASE_URL=sqlite_url)
    assert answers(again) == before_restart
    on_postgresql = run_mock(EXAMPLE, DATABASE_URL=postgres_url_for_comparison)
    freeze(on_postgresql)
    elsewhere = answers(on_postgresql)
    for path in HOLDING_STORED_ITEMS:
        assert json.loads(elsewhere.pop(path)) == json.loads(before_restart[path]), path
    assert elsewhere == {path: page for path, page in before_restart.items() if path not in HOLDING_STORED_ITEMS}
    page = json.loads(before_restart["/api/workflow?offset=9950&limit=50"])
    assert [w["name"] for w in page["workflows"]] == [f"train-policy-{i}" for i in range(9950, 10000)]
    assert page["total"] == 10_000


# Bad requests, the status and the problem type each gets.
BAD_INPUT = (
    ("/api/workflow?offset=-1&limit=20", 400, "contract-mismatch"),
    ("/api/workflow?offset=10000001&limit=20", 400, "invalid-request"),
    ("/api/workflow?offset=99999999999999999999999&limit=20", 400, "invalid-request"),
    ("/api/workflow?offset=0&limit=1001", 400, "invalid-request"),
    ("/api/workflow?offset=0&limit=0", 400, "invalid-request"),
    ("/api/workflow/train-policy-4/tasks?offset=0&limit=1001", 400, "invalid-request"),
    ("/api/pool/isaac-gpu/resources?offset=0&limit=5000", 400, "invalid-request"),
    ("/api/workflow/no-such-workflow-999999", 404, "not-found"),
    ("/api/workflow/train-policy-10000", 404, "not-found"),
    ("/api/workflow/5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b", 404, "not-found"),
    ("/api/workflow/no-such-workflow-1/tasks?offset=0&limit=20", 404, "not-found"),
    ("/api/pool/no-such-pool/resources?offset=0&limit=20", 404, "not-found"),
)


def test_bad_input_is_a_problem_and_changes_nothing(database_url: str, run_mock: Callable[..., RunningMock]) -> None:
    mock = run_mock(EXAMPLE, DATABASE_URL=database_url)
    freeze(mock)
    before = answers(mock)
    for path, status, problem in BAD_INPUT:
        answer = requests.get(mock.url + path, headers=AUTH, timeout=TIMEOUT_SECONDS)
        assert answer.status_code == status, (path, answer.text)
        assert answer.headers["Content-Type"].startswith("application/problem+json"), path
        document: dict[str, Any] = answer.json()
        assert (document["type"], document["status"]) == (f"/_mock/problems/{problem}", status), path
    assert answers(mock) == before
    volume = requests.get(f"{mock.url}/_mock/resources", timeout=TIMEOUT_SECONDS).json()
    (osmo,) = [p for p in volume["providers"] if p["provider"] == "OSMO"]
    counts = {c["name"]: c["count"] for c in osmo["collections"]}
    assert (counts["workflows"], counts["pools"], counts["resources"]) == (10_000, 49, 2_500)
