"""The Teraslice example (examples/teraslice) served as a user serves it, on SQLite and on PostgreSQL: its README
walkthrough runs as written; the real ts-topy client reads the mock and parses everything; with the clock frozen
at one instant the same seed gives the same bytes after a restart and on both stores; as the clock advances no
execution goes backwards, a terminal one never changes and the periodic stops reach generated executions; the
official verifier passes the pact."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pact import Verifier

from tests.consumer.teraslice_walk import walk
from tests.support.mock_process import RunningMock, start_mock, stop_mock
from tests.support.walkthrough import run_walkthrough

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "teraslice"
PACT = EXAMPLE / "ts-topy-Teraslice.json"
FROZEN_AT = "2030-01-01T00:00:00Z"
# What the model file declares: 120 generated jobs and 300 executions, plus the pact's own of each.
JOBS, EXECUTIONS = 121, 301
TERMINAL = {"completed", "stopped", "failed", "terminated", "rejected"}
# The moves the clock makes (timed moves, and a periodic stop of any live execution).
CLOCK_MOVES = {
    "pending": {"scheduling", "stopping"},
    "scheduling": {"initializing", "stopping"},
    "initializing": {"running", "stopping"},
    "running": {"stopping"},
    "paused": {"stopping"},
    "recovering": {"running", "stopping"},
    "failing": {"failed", "terminated", "stopping"},
    "stopping": {"stopped"},
}
# Pages whose bytes must not depend on the store or on a restart (the contract allows `from` only with
# `size`, and only for a page of one job: see the pact's "a request for one job from offset 1").
PAGES = ("/v1/jobs?size=100", "/v1/jobs?size=1000", "/v1/jobs?from=77&size=1", "/v1/ex?size=1000")


def clock(mock: RunningMock, **change: Any) -> None:
    answer = requests.post(f"{mock.url}/_mock/clock", json=change, timeout=10)
    assert answer.status_code == 200, answer.text


def executions(mock: RunningMock) -> dict[str, dict[str, Any]]:
    answer = requests.get(f"{mock.url}/v1/ex?size=1000", timeout=60)
    assert answer.status_code == 200, answer.text
    return {ex["ex_id"]: ex for ex in answer.json()}


def reachable(state: str) -> set[str]:
    """Every state the clock may take an execution to from `state`, itself included."""
    seen, todo = {state}, [state]
    while todo:
        for following in CLOCK_MOVES.get(todo.pop(), ()):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


def test_the_readme_walkthrough_runs_as_written(database_url: str, run_mock: Callable[..., RunningMock]) -> None:
    mock = run_mock(EXAMPLE, DATABASE_URL=database_url)
    steps = run_walkthrough(EXAMPLE / "README.md", {"MOCK": mock.url})
    assert len(steps) >= 20
    assert "breaks the contract" not in mock.log(), mock.log()


def test_the_real_ts_topy_client_reads_the_whole_cluster(
    database_url: str, run_mock: Callable[..., RunningMock]
) -> None:
    mock = run_mock(EXAMPLE, DATABASE_URL=database_url)
    clock(mock, action="freeze", at=FROZEN_AT)
    seen = walk(mock.url, timeout=60)

    jobs, found = seen["jobs"], seen["executions"]
    assert len(jobs) == JOBS and len(found) == EXECUTIONS
    assert {job.name for job in jobs} >= {"job-000", "job-119", "kafka-to-es"}
    live = [ex for ex in found if ex.status not in TERMINAL]
    assert 0 < len(live) < EXECUTIONS
    # A controller for every execution that is not terminal, and for no other.
    assert sorted(c.ex_id for c in seen["controllers"]) == sorted(ex.ex_id for ex in live)
    # The nodes hold the cluster master and each live execution's controller and active workers.
    nodes = seen["cluster_state"].nodes
    assignments = [worker.assignment for node in nodes.values() for worker in node.active]
    assert assignments.count("cluster_master") == 1
    assert assignments.count("execution_controller") == len(live)
    assert assignments.count("worker") == sum(c.workers_active for c in seen["controllers"])
    # The detail view: the first execution and its job, read by id.
    assert seen["execution"]["ex_id"] == found[0].ex_id
    assert seen["job"]["job_id"] == seen["execution"]["job_id"] == found[0].job_id
    assert seen["job"]["name"] == seen["execution"]["name"]
    assert "breaks the contract" not in mock.log(), mock.log()


def test_the_generated_spread_is_what_the_model_file_declares(run_mock: Callable[..., RunningMock]) -> None:
    mock = run_mock(EXAMPLE)
    clock(mock, action="freeze", at=FROZEN_AT)
    found = list(executions(mock).values())
    states = [ex["_status"] for ex in found]
    assert states.count("running") > len(found) / 2
    assert {"completed", "failed", "stopped", "pending", "recovering", "failing"} <= set(states)
    stats = [ex["_slicer_stats"] for ex in found]
    full = sum(s["workers_joined"] == ex["workers"] for s, ex in zip(stats, found, strict=True))
    assert 0.88 * len(found) <= full < len(found)  # 95% joined their requested count: a seeded draw
    clean = sum(s["failed"] == 0 for s in stats)
    assert 0.82 * len(found) <= clean < len(found)  # 90% have no failed slice (the others may round to 0)
    assert all(s["queued"] == s["workers_active"] for s in stats)
    assert "breaks the contract" not in mock.log(), mock.log()


def test_executions_never_go_backwards_and_terminal_ones_never_change(
    database_url: str, run_mock: Callable[..., RunningMock]
) -> None:
    mock = run_mock(EXAMPLE, DATABASE_URL=database_url)
    clock(mock, action="freeze", at=FROZEN_AT)
    before = executions(mock)
    moved = stopped = 0
    for seconds in (2, 5, 30, 130, 200, 3600, 86_400):
        clock(mock, action="advance", seconds=seconds)
        after = executions(mock)
        assert after.keys() >= before.keys()
        for ex_id, old in before.items():
            new = after[ex_id]
            assert new["_status"] in reachable(old["_status"]), (ex_id, old["_status"], new["_status"])
            assert new["_slicer_stats"]["processed"] >= old["_slicer_stats"]["processed"], ex_id
            if old["_status"] in TERMINAL:
                assert new == old, ex_id
            moved += new["_status"] != old["_status"]
            # No timed move leads to stopping: a live generated execution (named after its generated job, where
            # the pact's own and started ones are kafka-to-es) found stopping or stopped was stopped by a period.
            was_live = old["_status"] not in TERMINAL | {"stopping"} and old["name"].startswith("job-")
            stopped += was_live and new["_status"] in ("stopping", "stopped")
        before = after
    assert moved > 0
    assert stopped > 0, "the periodic stops reach the generated executions"
    assert "breaks the contract" not in mock.log(), mock.log()


def pages(mock: RunningMock) -> dict[str, bytes]:
    found = {}
    for page in PAGES:
        answer = requests.get(mock.url + page, timeout=60)
        assert answer.status_code == 200, (page, answer.text)
        found[page] = answer.content
    return found


def test_the_same_seed_gives_the_same_bytes_after_a_restart_and_on_both_stores(
    tmp_path: Path, postgres_url_for_comparison: str
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'teraslice.sqlite3'}"
    seen: dict[str, dict[str, bytes]] = {}
    for name, url in (
        ("sqlite", sqlite_url),
        ("sqlite after a restart", sqlite_url),
        ("postgresql", postgres_url_for_comparison),
    ):
        mock = start_mock(EXAMPLE, tmp_path, DATABASE_URL=url)
        try:
            if name != "sqlite after a restart":
                clock(mock, action="freeze", at=FROZEN_AT)
            seen[name] = pages(mock)
            assert "breaks the contract" not in mock.log(), mock.log()
        finally:
            stop_mock(mock)
    first = seen["sqlite"]
    assert json.loads(first["/v1/jobs?size=1000"])[0]["name"] == "job-000"
    for name, found in seen.items():
        for page in PAGES:
            assert found[page] == first[page], f"{page} differs on {name}"


def verifier(mock: RunningMock) -> Verifier:
    return (
        Verifier("Teraslice", host="127.0.0.1")
        .add_transport(url=mock.url)
        .add_source(PACT)
        .state_handler(f"{mock.url}/_mock/provider-states", teardown=True, body=True)
        .set_error_on_empty_pact(enabled=True)
    )


def test_the_verifier_passes_the_cluster_interactions(database_url: str, run_mock: Callable[..., RunningMock]) -> None:
    mock = run_mock(EXAMPLE, DATABASE_URL=database_url)
    checking = verifier(mock).filter(state="a cluster with jobs and executions")
    try:
        checking.verify()
    except RuntimeError as error:
        pytest.fail(
            f"{error}\n--- verifier output ---\n{checking.output(strip_ansi=True)}\n--- mock log ---\n{mock.log()}"
        )
    assert checking.results["result"] is True, json.dumps(checking.results, indent=2)
    assert "provider Teraslice is stateful" in mock.log(), mock.log()
    assert "breaks the contract" not in mock.log(), mock.log()


def test_the_verifier_passes_the_not_found_interactions(run_mock: Callable[..., RunningMock]) -> None:
    mock = run_mock(EXAMPLE)
    checking = verifier(mock).filter("which does not exist", no_state=True)
    checking.verify()
