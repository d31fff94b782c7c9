"""Submitting runs and listing them, at their edges, on SQLite and PostgreSQL through the real server.

The id counter's last ids, values longer than their columns, and many readers moving the same runs at
once: each is answered (never a 5xx) and leaves the database as the answers say.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.settings import database_url as driver_url
from tests.integration.conftest import migrated_postgres_database, start_mock, stop_mock
from tests.support.epx import EPX_HEADERS, OCTET_STREAM, run_request

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
MAX_ID = 2**63 - 1
FROZEN = {f"PACTMOCK_RUN_{step}_SECONDS": "600" for step in ("NOT_STARTED", "QUEUED", "RUNNING")}
RANK = {"NOT_STARTED": 0, "QUEUED": 1, "RUNNING": 2, "DONE": 3}


class Mock:
    def __init__(self, url: str, log: Callable[[], str]) -> None:
        self.url = url
        self.log = log

    def send(self, method: str, target: str, headers: dict[str, str], body: bytes | None = None) -> requests.Response:
        reply = requests.request(method, self.url + target, headers=headers, data=body, timeout=60)
        assert reply.status_code < 500, f"{method} {target} -> {reply.status_code} {reply.text[:800]}\n{self.log()}"
        return reply

    def state(self, name: str) -> None:
        body = json.dumps({"state": name, "action": "setup"}).encode()
        reply = self.send("POST", "/_mock/provider-states", {"Content-Type": "application/json"}, body)
        assert reply.status_code == 200, reply.text

    def submit(self, *runs: dict[str, Any], headers: dict[str, str] = EPX_HEADERS) -> requests.Response:
        return self.send("POST", "/runs", headers, json.dumps({"runRequests": list(runs)}).encode())

    def runs(self, job_id: int) -> list[dict[str, Any]]:
        reply = self.send("GET", f"/runs?job_id={job_id}", EPX_HEADERS)
        assert reply.status_code == 200, reply.text
        return list(reply.json()["runs"])


@pytest.fixture
def mock(run_mock, database_url: str) -> Iterator[Callable[..., Mock]]:
    started: list[Mock] = []

    def start(**env: str) -> Mock:
        running = run_mock(PACT_DIR, DATABASE_URL=database_url, **env)
        started.append(Mock(running.url, running.log))
        return started[-1]

    yield start
    for each in started:
        assert "Traceback" not in each.log(), each.log()
        assert "breaks the contract" not in each.log(), each.log()


def problem(reply: requests.Response, status: int, kind: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == "application/problem+json", reply.headers
    body: dict[str, Any] = reply.json()
    assert body["type"].endswith("/" + kind), body
    return body


def run_ids(reply: requests.Response) -> list[int]:
    assert reply.status_code == 200, reply.text
    return [r["runId"] for r in reply.json()["runResponses"]]


def test_the_last_run_ids_are_handed_out_whole_submissions_at_a_time_then_refused(mock) -> None:
    server = mock(**FROZEN)
    # The state's run takes the id MAX_ID - 2, so exactly one id (MAX_ID - 1) is left.
    server.state(f"job 5 has run {MAX_ID - 2}")
    server.state("job 6 exists")

    ids_exhausted = problem(server.submit(run_request(5), run_request(6)), 409, "ids-exhausted")
    assert "ids" in ids_exhausted["detail"], ids_exhausted
    assert run_ids(server.submit(run_request(6))) == [MAX_ID - 1]
    problem(server.submit(run_request(5)), 409, "ids-exhausted")

    assert [r["id"] for r in server.runs(5)] == [MAX_ID - 2]
    assert [r["id"] for r in server.runs(6)] == [MAX_ID - 1]


def test_a_submission_of_many_runs_gets_consecutive_ids_in_the_order_it_named_them(mock) -> None:
    server = mock(**FROZEN)
    server.state("job 123 exists")
    server.state("job 7 exists")
    sent = [run_request(123 if i % 3 else 7, workingDir=f"/run/{i}") for i in range(40)]
    assert run_ids(server.submit(*sent)) == list(range(978, 1018))
    listed = server.runs(123) + server.runs(7)
    assert sorted((r["id"], r["request"]["workingDir"]) for r in listed) == [(978 + i, f"/run/{i}") for i in range(40)]


def test_a_client_version_longer_than_its_column_is_a_400_and_writes_nothing(mock) -> None:
    server = mock(**FROZEN)
    server.state("job 123 exists")
    headers = {**EPX_HEADERS, "user-agent": "epx_client_" + "9" * 65}
    refused = problem(server.submit(run_request(123), headers=headers), 400, "invalid-request")
    assert "client version" in refused["detail"], refused
    assert server.runs(123) == []
    assert run_ids(server.submit(run_request(123))) == [978]


def test_an_upload_content_type_longer_than_its_column_is_a_400_and_stores_nothing(mock) -> None:
    server = mock(**FROZEN)
    server.state("job 123 exists")
    long_type = "application/octet-stream; name=" + "x" * 300
    refused = problem(
        server.send("PUT", "/s3/uploads/123/job_input", {"Content-Type": long_type}, b"x"), 400, "invalid-request"
    )
    assert "Content-Type" in refused["detail"], refused
    listing = server.send("GET", "/_mock/jobs/123/uploads", {})
    assert listing.json()["uploads"] == [], listing.text


def test_an_upload_to_a_job_id_no_column_can_hold_is_a_404(mock) -> None:
    server = mock(**FROZEN)
    too_large = MAX_ID + 1
    reply = server.send("PUT", f"/s3/uploads/{too_large}/job_input", {"Content-Type": "application/octet-stream"}, b"x")
    assert str(too_large) in problem(reply, 404, "not-found")["detail"]


def test_a_run_request_holding_a_nul_character_is_stored_and_listed_as_sent(mock) -> None:
    # PostgreSQL keeps "\u0000" in a JSON column but cannot turn it into text: the write must not try.
    server = mock(**FROZEN)
    server.state("job 123 exists")
    sent = run_request(123, fredArgs=[{"flag": "-p\u0000", "value": "main.fred"}])
    assert run_ids(server.submit(sent)) == [978]
    assert [r["request"] for r in server.runs(123)] == [sent]


def test_readers_moving_the_same_runs_at_once_all_see_them_only_go_forward(mock) -> None:
    # Every step lasts 50 ms, so the readers' lists keep moving the same runs on while they read.
    server = mock(
        PACTMOCK_RUN_NOT_STARTED_SECONDS="0.05",
        PACTMOCK_RUN_QUEUED_SECONDS="0.05",
        PACTMOCK_RUN_RUNNING_SECONDS="0.05",
    )
    server.state("job 123 exists")
    submitted = [i for _ in range(4) for i in run_ids(server.submit(*[run_request(123)] * 50))]
    assert submitted == list(range(978, 1178))
    seen: list[list[list[dict[str, Any]]]] = [[] for _ in range(8)]
    start = threading.Barrier(len(seen))

    def reader(index: int) -> None:
        start.wait()
        for _ in range(15):
            seen[index].append(server.runs(123))

    threads = [threading.Thread(target=reader, args=(index,)) for index in range(len(seen))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for lists in seen:
        assert len(lists) == 15, "a reader failed; see the output above"
        assert all([r["id"] for r in listed] == submitted for listed in lists)
        for position in range(len(submitted)):
            ranks = [RANK[listed[position]["status"]] for listed in lists]
            assert ranks == sorted(ranks), [listed[position]["status"] for listed in lists]
    # The lists moved the runs on: they end DONE (a few more looks if the readers were quicker than 150 ms).
    for _ in range(200):
        final = server.runs(123)
        if {r["status"] for r in final} == {"DONE"}:
            break
    assert {r["status"] for r in final} == {"DONE"}, final[:3]


def test_job_ids_in_odd_spellings_are_a_404_or_a_400_never_a_500(run_mock, database_url: str) -> None:
    """Found by the fuzzer: 5,000 digits overflowed int(), 20 digits or Arabic-Indic digits reached the stub."""
    mock = run_mock(PACT_DIR, DATABASE_URL=database_url)
    huge = "9" * 5000
    for job_id, status in ((huge, 404), ("99999999999999999999", 404), ("00000000000000000000123", 404)):
        reply = requests.get(f"{mock.url}/runs", params={"job_id": job_id}, headers=EPX_HEADERS, timeout=30)
        assert reply.status_code == status, reply.text[:300]
        assert reply.headers["Content-Type"] == "application/problem+json"
    for job_id in ("99999999999999999999", "\u0661\u0662\u0663"):
        reply = requests.put(f"{mock.url}/s3/uploads/{job_id}/job_input", data=b"abc", headers=OCTET_STREAM, timeout=30)
        assert reply.status_code in (400, 404), reply.text[:300]
        assert reply.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_connections_the_database_closed_while_idle_are_replaced_not_handed_to_a_request(mock, database_url) -> None:
    """A database restart closes every pooled connection: the next requests are answered, none gets a 503.

    The mock checks an idle connection's socket as it leaves the pool instead of sending `SELECT 1`
    (engine.py); this is what that check must still catch.
    """
    server = mock(**FROZEN)
    server.state("job 123 exists")
    for round_number in range(3):
        # Both workers' pools hold connections of both kinds (reads, and the writes' autocommit pool).
        for _ in range(8):
            run_ids(server.submit(run_request(123)))
            server.runs(123)
        closed = terminate_other_connections(database_url)
        assert closed, "the mock held no connection to close"
        replies = [server.submit(run_request(123)) for _ in range(8)]
        assert [reply.status_code for reply in replies] == [200] * 8, (round_number, [r.text for r in replies])
        assert server.runs(123), round_number


def terminate_other_connections(url: str) -> int:
    """Close every connection to the mock's database from the server side, as a restart does; how many.

    Returns once the closed connections' server processes are gone, as after a restart: a request sent
    while one is still exiting may find its connection unclosed and get a 503, as it may mid-restart.
    """
    others = "FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
    # Autocommit: pg_stat_activity is read once per transaction.
    engine = create_engine(driver_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            name = {"name": make_url(url).database}
            killed = [pid for (pid,) in connection.execute(text(f"SELECT pid {others}"), name)]
            terminate = text("SELECT count(pg_terminate_backend(pid)) FROM unnest(CAST(:pids AS int[])) AS pid")
            connection.execute(terminate, {"pids": killed})
            # The processes killed, not every other connection: one the mock opens meanwhile (a worker that
            # reconnects at once) is the recovery under test, not a connection still closing.
            still = text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
            deadline = time.monotonic() + 10
            while killed and connection.execute(still, {"pids": killed}).scalar_one():
                assert time.monotonic() < deadline, "terminated connections did not go away"
                time.sleep(0.02)
    finally:
        engine.dispose()
    return len(killed)


def test_a_submission_that_times_out_on_a_lock_leaves_no_broken_connection_behind(tmp_path: Path) -> None:
    """A lock timeout mid-submission is a 503; once the lock is free, submissions on the same pooled
    connection succeed again (the submission's own transaction was ended, not left open and failed)."""
    with migrated_postgres_database() as url:
        engine = create_engine(driver_url(url), isolation_level="AUTOCOMMIT")
        name = make_url(url).database
        try:
            with engine.connect() as admin:
                admin.execute(text(f"ALTER DATABASE \"{name}\" SET lock_timeout = '300ms'"))
            # One worker with one pooled connection: every submission after the timeout reuses it.
            running = start_mock(
                PACT_DIR, tmp_path, "--workers", "1", DATABASE_URL=url, DATABASE_POOL_SIZE="1",
                DATABASE_MAX_OVERFLOW="0", **FROZEN,
            )  # fmt: skip
            try:
                server = Mock(running.url, running.log)
                server.state("job 123 exists")
                assert run_ids(server.submit(run_request(123))) == [978]
                with engine.connect() as holder:
                    holder.execute(text("BEGIN"))
                    holder.execute(text("SELECT * FROM id_counters WHERE name = 'runs' FOR UPDATE"))
                    body = json.dumps({"runRequests": [run_request(123)]})
                    locked = requests.post(running.url + "/runs", headers=EPX_HEADERS, data=body, timeout=60)
                    problem(locked, 503, "database-unavailable")
                    holder.execute(text("ROLLBACK"))
                assert [run_ids(server.submit(run_request(123))) for _ in range(4)] == [[979], [980], [981], [982]]
                assert [r["id"] for r in server.runs(123)] == [978, 979, 980, 981, 982]
                assert "Traceback" not in running.log(), running.log()
            finally:
                stop_mock(running)
        finally:
            engine.dispose()


def test_numbers_json_cannot_carry_are_refused_before_anything_is_stored(mock, tmp_path: Path) -> None:
    """1e999 and NaN pass a type matcher as numbers; the database could not store them, nor an answer carry them."""
    pact = json.loads((PACT_DIR / "epx-epistemix.json").read_text())
    for interaction in pact["interactions"]:
        if interaction["request"]["method"] == "POST" and interaction["request"]["path"] == "/runs":
            interaction["request"]["body"]["content"]["runRequests"][0]["weight"] = 1.5
    pacts = tmp_path / "pacts"
    pacts.mkdir()
    (pacts / "epx-epistemix.json").write_text(json.dumps(pact))
    server = mock(PACT_DIR=str(pacts), **FROZEN)
    server.state("job 123 exists")
    for number in ("1e999", "-1e999", "NaN", "Infinity"):
        body = json.dumps({"runRequests": [run_request(123, weight=0.5)]}).replace("0.5", number)
        refused = problem(server.send("POST", "/runs", EPX_HEADERS, body.encode()), 400, "invalid-request")
        assert "number" in refused["detail"], refused
    assert server.runs(123) == []
    assert run_ids(server.submit(run_request(123, weight=2.5))) == [978]
