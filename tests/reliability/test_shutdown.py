"""SIGTERM to `pactmock serve --workers 2` while 16 clients submit runs, on a fresh SQLite file and a fresh
PostgreSQL database: requests in flight are answered, every other one fails cleanly at the connection, nothing
acknowledged is lost, nothing is stored without an answer, and the server exits 0 within its graceful timeout.
"""

from __future__ import annotations

import http.client
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.conftest import RunningMock

from .conftest import (
    FIRST_JOB_ID,
    FIRST_RUN_ID,
    Connection,
    as_json,
    compare_ids,
    contiguous_from,
    query,
    run_request,
    set_up_state,
)

CLIENTS = 16
# Runs acknowledged before the signal is sent, so the server is well into the load.
ACKNOWLEDGED_BEFORE_SIGNAL = 300
# Tuning.workers_kill_timeout_seconds in app/settings.py: workers still busy then are killed.
GRACEFUL_TIMEOUT_SECONDS = 10
# How long the whole process may take to exit after SIGTERM.
EXIT_WITHIN_SECONDS = 15
# Failures at the connection, before any response: the server no longer takes the request.
CLEAN_FAILURES = (ConnectionRefusedError, ConnectionResetError, BrokenPipeError)  # RemoteDisconnected is a reset


@dataclass
class Outcome:
    """One POST /runs: when it was sent and ended, and its run id (answered 200) or how it failed."""

    tag: str
    sent_at: float
    ended_at: float
    run_id: int | None = None
    clean_failure: str | None = None  # refused or reset at the connection, no response
    bad: str | None = None  # anything else: a non-200, a truncated or malformed 200, a timeout

    def in_flight_at(self, moment: float) -> bool:
        return self.sent_at < moment < self.ended_at


class Load:
    """CLIENTS threads, each POSTing one run at a time to job 123 over a keep-alive connection until the server
    refuses connections (it has stopped) or `stop` is set."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.outcomes: list[Outcome] = []
        self.acknowledged = 0
        self.threads = [threading.Thread(target=self.client, args=(index,), daemon=True) for index in range(CLIENTS)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=90)
        assert not any(thread.is_alive() for thread in self.threads), "a client is still waiting for an answer"

    def client(self, index: int) -> None:
        connection = Connection(self.url, timeout=30)
        number = 0
        while not self.stop.is_set():
            tag = f"c{index}/s{number}"
            number += 1
            request = run_request(FIRST_JOB_ID, tag)
            outcome = Outcome(tag, time.monotonic(), 0.0)
            try:
                reply = connection.epx("POST", "/runs", {"runRequests": [request]})
                outcome.ended_at = time.monotonic()
                outcome.run_id, outcome.bad = self.judge(reply, request)
            except CLEAN_FAILURES as exc:
                outcome.ended_at = time.monotonic()
                outcome.clean_failure = repr(exc)
            except (http.client.HTTPException, OSError, ValueError) as exc:
                # IncompleteRead (a truncated answer), a malformed status line, a timeout.
                outcome.ended_at = time.monotonic()
                outcome.bad = repr(exc)
            with self.lock:
                self.outcomes.append(outcome)
                self.acknowledged += outcome.run_id is not None
            if isinstance(outcome.clean_failure, str) and outcome.clean_failure.startswith("ConnectionRefusedError"):
                break  # nothing listens any more
        connection.close()

    @staticmethod
    def judge(reply: Any, request: dict[str, Any]) -> tuple[int | None, str | None]:
        """(run id, None) for a whole 200 acknowledging this request; (None, why) otherwise."""
        if reply.status != 200 or reply.headers["Content-Type"] != "application/json":
            return None, str(reply)
        try:
            [response] = reply.json()["runResponses"]
            if response["runRequest"] != request or response["jobId"] != FIRST_JOB_ID:
                return None, f"answered for another request: {reply}"
            return int(response["runId"]), None
        except (ValueError, KeyError, TypeError) as exc:
            return None, f"malformed 200 ({exc!r}): {reply}"


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds} s")
        time.sleep(0.01)


def test_sigterm_under_load_answers_in_flight_requests_loses_nothing_and_exits_0_within_the_graceful_timeout(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url)
    set_up_state(mock, f"job {FIRST_JOB_ID} exists")

    with Load(mock.url) as load:
        wait_for(lambda: load.acknowledged >= ACKNOWLEDGED_BEFORE_SIGNAL, 120, f"{ACKNOWLEDGED_BEFORE_SIGNAL} runs")
        signalled_at = time.monotonic()
        mock.process.send_signal(signal.SIGTERM)
        try:
            code = mock.process.wait(timeout=EXIT_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            mock.process.kill()
            pytest.fail(f"pactmock serve still running {EXIT_WITHIN_SECONDS} s after SIGTERM:\n{mock.log()[-4000:]}")
        exited_after = time.monotonic() - signalled_at
        # Clients stop once connections are refused; those that are not trying any more are told to stop.
        wait_for(lambda: all(not t.is_alive() for t in load.threads), 60, "every client to stop")
    outcomes = load.outcomes
    in_flight = [o for o in outcomes if o.in_flight_at(signalled_at)]
    print(
        f"\nexit {code} {exited_after:.1f} s after SIGTERM; {len(outcomes)} requests, {load.acknowledged} answered 200, "
        f"{sum(o.clean_failure is not None for o in outcomes)} refused or reset; "
        f"{sum(o.run_id is not None for o in in_flight)} of {len(in_flight)} in flight at SIGTERM answered 200"
    )

    assert code == 0, mock.log()[-4000:]
    assert exited_after < GRACEFUL_TIMEOUT_SECONDS, f"workers had to be killed:\n{mock.log()[-4000:]}"

    bad = [o for o in outcomes if o.bad is not None]
    assert bad == [], f"{len(bad)} requests neither answered 200 nor refused cleanly: {bad[:5]}"
    answered = [o for o in outcomes if o.run_id is not None]
    finished_in_flight = [o for o in answered if o.in_flight_at(signalled_at)]
    assert finished_in_flight, "no request in flight at SIGTERM was answered"

    acknowledged = {o.run_id: (FIRST_JOB_ID, f"/home/epx/{o.tag}") for o in answered}
    assert len(acknowledged) == len(answered), "a run id was acknowledged twice"
    assert contiguous_from(FIRST_RUN_ID, list(acknowledged)) == []
    # Every run acknowledged is stored, and every run stored was acknowledged: none was committed and then left
    # without its answer.
    stored = {
        row.id: (row.job_id, as_json(row.request)["workingDir"])
        for row in query(database_url, "SELECT id, job_id, request FROM runs")
    }
    assert compare_ids("run", acknowledged, stored) == []

    # The database is fine to serve again: the runs are listed, and ids go on without a gap.
    again = serve(database_url)
    connection = Connection(again.url)
    listed = connection.epx("GET", f"/runs?job_id={FIRST_JOB_ID}")
    assert listed.status == 200, str(listed)
    assert [run["id"] for run in listed.json()["runs"]] == sorted(acknowledged)
    after = connection.epx("POST", "/runs", {"runRequests": [run_request(FIRST_JOB_ID, "after-restart")]})
    assert after.status == 200, str(after)
    assert after.json()["runResponses"][0]["runId"] == FIRST_RUN_ID + len(acknowledged)
    connection.close()
