"""Isolated sessions (issue 18 item 7) against the real server on SQLite and PostgreSQL: 32 sessions in parallel
each run the Epistemix flow and see only their own jobs and ids; a session's clock, scenarios and faults stay in
it; reset, export and import act on the caller's session; generic items and counters are per session; sessions
are listed, dropped (and made fresh when used again), their names checked and their number bounded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.support.epx import EPX_HEADERS, run_request
from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
SLOW_RUNS = {f"PACTMOCK_RUN_{step}_SECONDS": "600" for step in ("NOT_STARTED", "QUEUED", "RUNNING")}
FLOW_AUTH = {"Authorization": "Bearer test-sessions", "Content-Type": "application/json"}
SESSIONS = 32
ROUNDS = 10


def epistemix_pacts(tmp_path: Path, *, with_flow: bool = False) -> Path:
    folder = tmp_path / "pacts"
    shutil.copytree(ROOT / "pacts", folder)
    if with_flow:
        for name in ("FlowUI-Flow.json", "FlowUI-Flow.model.yaml"):
            shutil.copy(ROOT / "examples" / "flow" / name, folder / name)
    return folder


def headers(session: str | None, base: dict[str, str] | None = None) -> dict[str, str]:
    chosen = dict(EPX_HEADERS if base is None else base)
    if session is not None:
        chosen["X-Pactmock-Session"] = session
    return chosen


def exported(mock: RunningMock, session: str | None) -> dict[str, Any]:
    reply = requests.get(mock.url + "/_mock/state", headers=headers(session, {}), timeout=60)
    assert reply.status_code == 200, reply.text
    document: dict[str, Any] = reply.json()
    return document


def epx_flow(url: str, session: str) -> list[tuple[int, list[int]]]:
    """The flow ROUNDS times in `session`: register a job, submit two runs, read them back; (job, run ids) each."""
    client = requests.Session()
    client.headers.update(headers(session))
    seen = []
    for n in range(ROUNDS):
        job = client.post(url + "/jobs/register", json={"tags": [session]}, timeout=60)
        assert job.status_code == 200, job.text
        job_id = job.json()["id"]
        mine = [run_request(job_id, workingDir=f"/{session}/{n}/{k}") for k in range(2)]
        submitted = client.post(url + "/runs", json={"runRequests": mine}, timeout=60)
        assert submitted.status_code == 200, submitted.text
        run_ids = [r["runId"] for r in submitted.json()["runResponses"]]
        listed = client.get(f"{url}/runs?job_id={job_id}", timeout=60)
        assert listed.status_code == 200, listed.text
        runs = listed.json()["runs"]
        # Only this session's runs of this job: its ids and the working dirs it sent.
        assert sorted(r["id"] for r in runs) == run_ids, (session, runs)
        assert sorted(r["request"]["workingDir"] for r in runs) == [f"/{session}/{n}/0", f"/{session}/{n}/1"]
        seen.append((job_id, run_ids))
    return seen


def test_32_parallel_sessions_each_see_only_their_own_jobs_and_ids(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(epistemix_pacts(tmp_path), DATABASE_URL=database_url, **SLOW_RUNS)
    names = [f"worker-{n:02d}" for n in range(SESSIONS)]
    with ThreadPoolExecutor(SESSIONS) as pool:
        results = dict(zip(names, pool.map(lambda name: epx_flow(mock.url, name), names), strict=True))

    for name, seen in results.items():
        # Every session numbers from the contract's first ids, gap-free, as a fresh mock does.
        assert [job for job, _ in seen] == list(range(123, 123 + ROUNDS)), name
        assert [run for _, runs in seen for run in runs] == list(range(978, 978 + 2 * ROUNDS)), name
        tables = exported(mock, name)["tables"]
        # No row lost, none shared: exactly this session's jobs and runs, as it sent them.
        assert [(job["id"], job["tags"]) for job in tables["jobs"]] == [(123 + n, [name]) for n in range(ROUNDS)]
        assert sorted(run["request"]["workingDir"] for run in tables["runs"]) == sorted(
            f"/{name}/{n}/{k}" for n in range(ROUNDS) for k in range(2)
        )
    assert exported(mock, None)["tables"]["jobs"] == []  # the default session saw none of it
    listed = requests.get(mock.url + "/_mock/sessions", timeout=30).json()
    assert [s["name"] for s in listed["sessions"]] == ["default", *names]


def clock_of(mock: RunningMock, session: str | None) -> dict[str, Any]:
    reply = requests.get(mock.url + "/_mock/clock", headers=headers(session, {}), timeout=30)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def runs_status(mock: RunningMock, session: str | None, job_id: int) -> int:
    return requests.get(f"{mock.url}/runs?job_id={job_id}", headers=headers(session), timeout=30).status_code


def control(mock: RunningMock, session: str | None, method: str, path: str, body: Any = None) -> requests.Response:
    reply = requests.request(method, mock.url + path, json=body, headers=headers(session, {}), timeout=60)
    assert reply.status_code < 300, reply.text
    return reply


def test_clock_scenarios_and_faults_stay_in_their_session_and_reset_export_import_act_on_the_callers(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(epistemix_pacts(tmp_path), DATABASE_URL=database_url, **SLOW_RUNS)
    control(mock, "a", "POST", "/_mock/clock", {"action": "freeze", "at": "2030-01-01T00:00:00Z"})
    control(mock, "b", "POST", "/_mock/clock", {"action": "freeze", "at": "2040-01-01T00:00:00Z"})
    control(mock, "a", "POST", "/_mock/scenarios", {"activate": [{"state": "job 9000 exists"}]})
    control(mock, "b", "POST", "/_mock/scenarios", {"activate": [{"state": "job 8000 exists"}]})
    control(mock, "a", "POST", "/_mock/faults", {"match": {"route": "GET /runs"}, "error": {"status": 503}})

    assert clock_of(mock, "a")["now"].startswith("2030-01-01")
    assert clock_of(mock, "b")["now"].startswith("2040-01-01")
    assert not clock_of(mock, None)["frozen"]
    # A's fault answers A's GET /runs; B and the default never see it, nor A's job 9000.
    assert runs_status(mock, "a", 9000) == 503
    assert (runs_status(mock, "b", 9000), runs_status(mock, "b", 8000)) == (404, 200)
    assert (runs_status(mock, None, 9000), runs_status(mock, None, 8000)) == (404, 404)
    assert requests.get(mock.url + "/_mock/faults", headers=headers("b", {}), timeout=30).json()["rules"] == []

    # A holds jobs and runs too: its export, imported into a fresh session C, exports the same bytes.
    job = requests.post(mock.url + "/jobs/register", json={"tags": ["a"]}, headers=headers("a"), timeout=30).json()
    submitted = requests.post(
        mock.url + "/runs", json={"runRequests": [run_request(job["id"])]}, headers=headers("a"), timeout=30
    )
    assert submitted.status_code == 200, submitted.text
    document = control(mock, "a", "GET", "/_mock/state").content
    imported = requests.put(
        mock.url + "/_mock/state",
        data=document,
        headers={"Content-Type": "application/json", "X-Pactmock-Session": "c"},
        timeout=60,
    )
    assert imported.status_code == 200, imported.text
    assert control(mock, "c", "GET", "/_mock/state").content == document
    assert clock_of(mock, "c")["now"].startswith("2030-01-01")
    assert runs_status(mock, "c", 9000) == 503  # the faults came with the document

    # Reset A: its clock, scenario, fault and jobs are gone; B keeps all of its own.
    control(mock, "a", "POST", "/_mock/reset")
    assert not clock_of(mock, "a")["frozen"]
    assert runs_status(mock, "a", 9000) == 404
    assert exported(mock, "a")["tables"]["jobs"] == []
    assert clock_of(mock, "b")["now"].startswith("2040-01-01")
    assert runs_status(mock, "b", 8000) == 200
    assert [j["id"] for j in exported(mock, "c")["tables"]["jobs"]] == sorted([9000, job["id"]])


def test_a_generic_provider_keeps_items_and_counters_per_session(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    folder = epistemix_pacts(tmp_path, with_flow=True)
    model = folder / "FlowUI-Flow.model.yaml"
    # A fixture loaded when the provider starts: each session, and a session made again, starts with it.
    model.write_text(model.read_text() + "start: [running_task]\n")
    mock = run_mock(folder, DATABASE_URL=database_url)

    def create(session: str, name: str) -> str:
        reply = requests.post(
            mock.url + "/api/v1/tasks",
            json={"name": name, "node_count": 1, "labels": {}},
            headers=headers(session, FLOW_AUTH),
            timeout=30,
        )
        assert reply.status_code == 201, reply.text
        return str(reply.json()["id"])

    def names(session: str) -> list[str]:
        reply = requests.get(mock.url + "/api/v1/tasks", headers=headers(session, FLOW_AUTH), timeout=30)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        listed = body if isinstance(body, list) else next(v for v in body.values() if isinstance(v, list))
        return sorted(task["name"] for task in listed)

    before = names("x")
    assert "train-llama" in before and names("y") == before  # both start from the model's start fixture
    first_x, second_x = create("x", "train-x"), create("x", "eval-x")
    first_y = create("y", "train-y")
    # Each session numbers its items from the start: y's first is x's first.
    assert first_y == first_x != second_x
    assert names("x") == sorted([*before, "train-x", "eval-x"])
    assert names("y") == sorted([*before, "train-y"])
    assert names("z") == before
    # Dropped and used again: the model's fixtures are back (on every worker), the created items gone.
    assert requests.delete(mock.url + "/_mock/sessions/x", timeout=30).status_code == 200
    for _ in range(4):
        assert names("x") == before
    assert create("x", "again") == first_x


def test_sessions_are_listed_dropped_checked_and_bounded(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(epistemix_pacts(tmp_path), DATABASE_URL=database_url, PACTMOCK_MAX_SESSIONS="2")
    register = mock.url + "/jobs/register"
    assert requests.post(register, json={"tags": ["one"]}, headers=headers("One"), timeout=30).json()["id"] == 123
    assert requests.post(register, json={"tags": ["one"]}, headers=headers("one"), timeout=30).json()["id"] == 124
    made = requests.put(mock.url + "/_mock/sessions/two", timeout=30)
    assert made.status_code == 201, made.text
    assert requests.put(mock.url + "/_mock/sessions/two", timeout=30).status_code == 200

    # The limit: a third session is refused, whichever way it would be made, and nothing is made.
    for refused in (
        requests.post(register, json={"tags": []}, headers=headers("three"), timeout=30),
        requests.put(mock.url + "/_mock/sessions/three", timeout=30),
    ):
        assert refused.status_code == 507, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["type"] == "/_mock/problems/session-limit" and refused.json()["limit"] == 2
    listed = requests.get(mock.url + "/_mock/sessions", timeout=30).json()
    assert [s["name"] for s in listed["sessions"]] == ["default", "one", "two"] and listed["limit"] == 2

    # Bad names: 400 problem+json on a contract route, on the control plane, and in a path.
    for bad in ("-lead", "has space", "x" * 53, "semi;colon", "dot.name", ""):
        for reply in (
            requests.post(register, json={"tags": []}, headers=headers(bad), timeout=30),
            requests.get(mock.url + "/_mock/clock", headers=headers(bad, {}), timeout=30),
        ):
            assert reply.status_code == 400, (bad, reply.text)
            assert reply.headers["Content-Type"] == "application/problem+json"
    assert requests.delete(mock.url + "/_mock/sessions/has%20space", timeout=30).status_code == 400
    assert requests.delete(mock.url + "/_mock/sessions/default", timeout=30).status_code == 409
    assert requests.delete(mock.url + "/_mock/sessions/nobody", timeout=30).status_code == 404

    # Drop, then use the name again: a fresh session, ids from the start, the old jobs gone.
    dropped = requests.delete(mock.url + "/_mock/sessions/one", timeout=30)
    assert dropped.status_code == 200, dropped.text
    listed = requests.get(mock.url + "/_mock/sessions", timeout=30).json()
    assert [s["name"] for s in listed["sessions"]] == ["default", "two"]
    for _ in range(4):  # through every worker: none answers from the dropped session
        assert runs_status(mock, "one", 124) == 404
    assert requests.post(register, json={"tags": ["again"]}, headers=headers("one"), timeout=30).json()["id"] == 123
    assert [j["tags"] for j in exported(mock, "one")["tables"]["jobs"]] == [["again"]]


def cli(mock: RunningMock, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACTMOCK_URL": mock.url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_control_cli_acts_on_the_session_it_names(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(epistemix_pacts(tmp_path), DATABASE_URL=database_url)
    frozen = cli(mock, "clock", "freeze", "2031-05-01T00:00:00Z", "--session", "cli-a")
    assert frozen.returncode == 0, frozen.stderr
    assert json.loads(frozen.stdout)["now"].startswith("2031-05-01")
    assert clock_of(mock, "cli-a")["frozen"] and not clock_of(mock, None)["frozen"]
    assert cli(mock, "sessions", "list").stdout.split() == ["default", "cli-a"]
    bad = cli(mock, "reset", "--session", "Not Valid")
    assert bad.returncode == 1 and "session name" in bad.stderr
    assert cli(mock, "sessions", "drop", "cli-a").returncode == 0
    assert cli(mock, "sessions", "list").stdout.split() == ["default"]
    assert not clock_of(mock, "cli-a")["frozen"]  # made again, fresh


def test_a_session_made_through_one_server_is_used_and_dropped_through_another(
    run_mock: Callable[..., RunningMock], postgres_url_for_comparison: str, tmp_path: Path
) -> None:
    folder = epistemix_pacts(tmp_path)
    one = run_mock(folder, DATABASE_URL=postgres_url_for_comparison, **SLOW_RUNS)
    two = run_mock(folder, DATABASE_URL=postgres_url_for_comparison, **SLOW_RUNS)
    servers = [one, two]
    register = "/jobs/register"
    # Jobs registered alternately through both servers in one session: one gap-free sequence, the session's own.
    ids = [
        requests.post(servers[n % 2].url + register, json={"tags": []}, headers=headers("shared"), timeout=30).json()[
            "id"
        ]
        for n in range(6)
    ]
    assert ids == list(range(123, 129))
    control(one, "shared", "POST", "/_mock/clock", {"action": "freeze", "at": "2035-01-01T00:00:00Z"})
    assert clock_of(two, "shared")["now"].startswith("2035-01-01")
    assert [s["name"] for s in requests.get(two.url + "/_mock/sessions", timeout=30).json()["sessions"]] == [
        "default",
        "shared",
    ]
    # Dropped through one: the other answers from a fresh session on its next request.
    assert requests.delete(one.url + "/_mock/sessions/shared", timeout=30).status_code == 200
    for _ in range(4):
        assert runs_status(two, "shared", 123) == 404
    assert not clock_of(two, "shared")["frozen"]
    again = requests.post(two.url + register, json={"tags": []}, headers=headers("shared"), timeout=30)
    assert again.json()["id"] == 123
    assert exported(one, None)["tables"]["jobs"] == []
