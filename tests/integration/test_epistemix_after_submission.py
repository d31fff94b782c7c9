"""Bad input after submission gets problem+json and stores nothing (issue 14), on SQLite and PostgreSQL:
results of an unknown job, results before a run has ended, retrying a run that did not fail, deleting twice.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import requests

from tests.support.epx import EPX_HEADERS, run_request

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
SLOW_RUNS = {f"PACTMOCK_RUN_{step}_SECONDS": "600" for step in ("NOT_STARTED", "QUEUED", "RUNNING")}


def call(url: str, method: str, target: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, url + target, headers=EPX_HEADERS, timeout=10, **kwargs)


def problem(reply: requests.Response, status: int, slug: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == "application/problem+json", reply.headers
    body: dict[str, Any] = reply.json()
    assert body["type"] == f"/_mock/problems/{slug}" and body["description"], body
    return body


def runs_of(url: str, job_id: int) -> list[dict[str, Any]]:
    reply = call(url, "GET", f"/runs?job_id={job_id}")
    assert reply.status_code == 200, reply.text
    runs: list[dict[str, Any]] = reply.json()["runs"]
    return runs


def test_bad_calls_after_submission_are_refused_and_change_nothing(run_mock: Any, database_url: str) -> None:
    mock = run_mock(PACT_DIR, DATABASE_URL=database_url, **SLOW_RUNS)
    job_id = call(mock.url, "POST", "/jobs/register", json={"tags": ["info_job"]}).json()["id"]
    [submitted] = call(mock.url, "POST", "/runs", json={"runRequests": [run_request(job_id)]}).json()["runResponses"]
    run_id = submitted["runId"]
    before = runs_of(mock.url, job_id)

    problem(call(mock.url, "GET", "/jobs/results?job_id=5555"), 404, "not-found")
    # The run is NOT_STARTED for ten minutes: no results are listed, and its archive is not there yet.
    assert call(mock.url, "GET", f"/jobs/results?job_id={job_id}").json() == {"urls": []}
    not_yet = requests.get(f"{mock.url}/s3/results/{job_id}/run_{run_id}.zip", timeout=10)
    assert "NOT_STARTED" in problem(not_yet, 409, "wrong-state")["detail"]
    # Only a run in ERROR is retried; the form body is what epx sends, under a JSON Content-Type.
    retry = call(mock.url, "POST", "/runs/retry", data=f"runRequestIds={run_id}")
    assert f"run {run_id} is NOT_STARTED" in problem(retry, 409, "wrong-state")["detail"]
    assert runs_of(mock.url, job_id) == before

    assert call(mock.url, "DELETE", f"/jobs/{job_id}").status_code == 200
    problem(call(mock.url, "DELETE", f"/jobs/{job_id}"), 404, "not-found")
    problem(call(mock.url, "GET", f"/runs?job_id={job_id}"), 404, "not-found")
    log = mock.log()
    assert "Traceback" not in log and "breaks the contract" not in log, log


def test_a_stopped_run_is_an_error_whose_results_say_it_was_stopped(run_mock: Any, database_url: str) -> None:
    mock = run_mock(PACT_DIR, DATABASE_URL=database_url, **SLOW_RUNS)
    job_id = call(mock.url, "POST", "/jobs/register", json={"tags": ["info_job"]}).json()["id"]
    [submitted] = call(mock.url, "POST", "/runs", json={"runRequests": [run_request(job_id)]}).json()["runResponses"]
    run_id = submitted["runId"]
    stopped = call(mock.url, "PATCH", f"/runs?id={run_id}&id=5555")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["deletedIds"] == [{"runId": run_id, "reason": "Success"}]
    assert stopped.json()["failedIds"] == [{"runId": 5555, "reason": "NotFound"}]
    [run] = runs_of(mock.url, job_id)
    assert (run["status"], run["userDeleted"]) == ("ERROR", True)
    [listed] = call(mock.url, "GET", f"/jobs/results?job_id={job_id}").json()["urls"]
    archive = requests.get(listed["url"], timeout=10)
    assert archive.status_code == 200 and archive.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as files:
        assert files.namelist() == ["work/outputs/logs.txt"]
        assert "ERROR: the run was stopped by its user" in files.read("work/outputs/logs.txt").decode()
    # Stopped runs can be retried, and run again.
    retried = call(mock.url, "POST", "/runs/retry", data=f"runRequestIds={run_id}")
    assert retried.json() == {"status": "Submitted", "runRequestIds": [run_id]}, retried.text
    assert runs_of(mock.url, job_id)[0]["status"] == "NOT_STARTED"
