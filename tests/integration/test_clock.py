"""The mock's clock on the control plane: frozen, advanced, set and resumed for every worker, and every
time-driven state follows it (an Epistemix run reaches DONE without a test sleeping)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from tests.support.epx import EPX_HEADERS, run_request

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
# Ten minutes a step: without the clock a run would not move during the test.
SLOW_RUNS = {f"PACTMOCK_RUN_{step}_SECONDS": "600" for step in ("NOT_STARTED", "QUEUED", "RUNNING")}


def clock(url: str, **change: Any) -> dict[str, Any]:
    reply = (
        requests.post(url + "/_mock/clock", json=change, timeout=10)
        if change
        else requests.get(url + "/_mock/clock", timeout=10)
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def status_of_run(url: str, job_id: int) -> str:
    reply = requests.get(f"{url}/runs?job_id={job_id}", headers=EPX_HEADERS, timeout=10)
    assert reply.status_code == 200, reply.text
    [run] = reply.json()["runs"]
    return str(run["status"])


def test_a_run_goes_from_not_started_to_done_as_the_clock_is_advanced(run_mock: Any, database_url: str) -> None:
    mock = run_mock(PACT_DIR, DATABASE_URL=database_url, **SLOW_RUNS)
    frozen = clock(mock.url, action="freeze")
    assert frozen["frozen"] is True
    job = requests.post(mock.url + "/jobs/register", json={"tags": ["info_job"]}, headers=EPX_HEADERS, timeout=10)
    job_id = job.json()["id"]
    submitted = requests.post(
        mock.url + "/runs", json={"runRequests": [run_request(job_id)]}, headers=EPX_HEADERS, timeout=10
    )
    assert submitted.status_code == 200, submitted.text
    seen = [status_of_run(mock.url, job_id)]
    for _ in range(3):
        clock(mock.url, action="advance", seconds=601)
        # Every worker reads the same clock: ask a few times, whichever worker answers.
        seen.append({status_of_run(mock.url, job_id) for _ in range(4)}.pop())
    assert seen == ["NOT_STARTED", "QUEUED", "RUNNING", "DONE"]


def test_freeze_advance_set_and_resume(run_mock: Any, tmp_path: Path) -> None:
    mock = run_mock(PACT_DIR)
    assert clock(mock.url)["frozen"] is False
    frozen = clock(mock.url, action="freeze", at="2030-01-01T00:00:00Z")
    assert frozen["now"].startswith("2030-01-01T00:00:00")
    assert clock(mock.url, action="advance", seconds=90)["now"].startswith("2030-01-01T00:01:30")
    assert clock(mock.url)["now"].startswith("2030-01-01T00:01:30")  # frozen: it stays
    moved = clock(mock.url, action="set", at="2031-06-01T12:00:00+00:00")
    assert moved["now"].startswith("2031-06-01T12:00:00")
    running = clock(mock.url, action="resume")
    assert running["frozen"] is False
    assert datetime.fromisoformat(clock(mock.url)["now"]).year == 2031
    assert requests.delete(mock.url + "/_mock/clock", timeout=10).json()["offset_seconds"] == 0


def test_bad_clock_calls_are_refused_and_change_nothing(run_mock: Any, tmp_path: Path) -> None:
    mock = run_mock(PACT_DIR)
    before = clock(mock.url)
    for bad in (
        {"action": "advance", "seconds": -5},
        {"action": "advance", "seconds": "ten"},
        {"action": "advance", "seconds": 1e12},
        {"action": "set"},
        {"action": "set", "at": "tomorrow"},
        {"action": "set", "at": "2030-01-01T00:00:00"},
        {"action": "rewind"},
        ["freeze"],
    ):
        reply = requests.post(mock.url + "/_mock/clock", json=bad, timeout=10)
        assert reply.status_code == 400, (bad, reply.text)
        assert reply.headers["Content-Type"] == "application/problem+json"
    assert clock(mock.url)["frozen"] == before["frozen"] and clock(mock.url)["offset_seconds"] == 0
