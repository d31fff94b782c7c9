"""The bad-input fuzzer: thousands of broken requests built from the pacts, against the real server on
SQLite and on PostgreSQL.

Every answer must be under 500, every 4xx an RFC 9457 problem naming what is wrong; afterwards the
server is still healthy, its log is clean, and the database holds exactly the jobs, runs and uploads
that 2xx answers acknowledged, with no row pointing at a job that does not exist.

The one exception to "every 4xx is problem+json": a request the HTTP server itself refuses never
reaches the app, and granian answers it with an empty body and "Connection: close": 431 for a request
head over its 400 KB read buffer (a huge header, hundreds of headers), 414 for a request target over
64 KB, 400 for what it cannot parse (a control character or a space in a header name or value, a
space in the target, a bad Content-Length). WireRequest.server_may_refuse says which requests those
are; an empty non-problem answer to one of them is still held to < 500, and counted, not failed.

Slow peers are part of the mix: beside the fuzzer, clients that trickle a request body or a request head
hold connections until the server cuts them off at its deadlines (shortened here), and each is replaced at
once. None of them may hold up the fuzzer's requests, and each cut-off must be a clean one (a 408 problem
for a body, a close for a head). Paths of tens of thousands of segments are among the path mutations.

FUZZ_SEED=<n> draws a different sequence (for shaking out bugs by hand); CI runs the fixed one.
"""

from __future__ import annotations

import http.client
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import requests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .conftest import RunningMock, as_json, compare_ids, query
from .fuzz_requests import Exemplar, bad_requests, load_exemplars
from .raw_http import RawConnection, RawReply, WireRequest
from .slow_peers import SlowPeerMix

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
# Both backends run in CI: 10,000 requests in all.
REQUESTS_PER_BACKEND = 5_000
BATCH = 100
# Runs stay NOT_STARTED: a read that moves runs on writes, which is not what this test is about.
FROZEN_RUNS = {f"PACTMOCK_RUN_{step}_SECONDS": "600" for step in ("NOT_STARTED", "QUEUED", "RUNNING")}
# Deadlines short enough that the slow peers beside the fuzzer are cut off (and replaced) many times over.
SLOW_PEER_DEADLINES = {"PACTMOCK_BODY_TIMEOUT_SECONDS": "2", "PACTMOCK_IDLE_TIMEOUT_SECONDS": "2"}
STATES = ("job 123 exists", "job 123 has run 978")
STATE_JOB, STATE_RUN = 123, 978


# The last line of a traceback: "sqlalchemy.exc.DataError: ...", "ValueError: ...".
EXCEPTION_LINE = re.compile(r"[\w.]+(Error|Exception): ")


def problem_with(reply: RawReply | None, request: WireRequest) -> str | None:
    """What is wrong with this answer to this request, or None."""
    if reply is None:
        return None if request.may_go_unanswered() else "the connection closed without an answer"
    if reply.status >= 500:
        return f"server error {reply.status}"
    if not 400 <= reply.status < 500:
        return None
    if reply.headers.get("Content-Type") != "application/problem+json":
        if request.server_may_refuse() and not reply.content:
            return None  # the HTTP server's own refusal, which never reached the app (it always says why)
        return f"{reply.status} with Content-Type {reply.headers.get('Content-Type')!r}, not application/problem+json"
    if request.method == b"HEAD":
        return None  # an answer to HEAD has no body to read the problem from
    try:
        problem = reply.json()
    except ValueError:
        return f"{reply.status} problem+json whose body is not JSON"
    if not (isinstance(problem, dict) and problem.get("status") == reply.status):
        return f"{reply.status} problem whose status field is {problem.get('status') if isinstance(problem, dict) else problem!r}"
    if not all(isinstance(problem.get(key), str) and problem[key].strip() for key in ("title", "detail")):
        return f"{reply.status} problem without a title and detail"
    return None


@dataclass
class Ledger:
    """What the server said it did: every 2xx that created or stored something, and every failure."""

    jobs: dict[int, Any] = field(default_factory=dict)
    runs: dict[int, tuple[int, Any]] = field(default_factory=dict)
    uploads: dict[tuple[int, str], str] = field(default_factory=dict)
    # The last id handed out per table, deleted or not: the counters must sit just past them.
    highest: dict[str, int] = field(default_factory=lambda: {"jobs": STATE_JOB, "runs": STATE_RUN})
    statuses: Counter[int] = field(default_factory=Counter)
    # How many of each were acknowledged over the whole run, whether deleted since or not.
    created: Counter[str] = field(default_factory=Counter)
    # Whether the provider states' job is there: set up before each batch, gone when a DELETE took it.
    state_job_present: bool = True
    refused_by_server: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + self.refused_by_server

    def record(self, request: WireRequest, reply: RawReply | None) -> None:
        problem = problem_with(reply, request)
        if problem is not None:
            # One reproducer per kind of failure and mutation, so a bug shows once, not a thousand times.
            self.failures.setdefault(f"{problem} after {request.mutations}", request.describe())
        if reply is None:
            self.refused_by_server += 1
            return
        self.statuses[reply.status] += 1
        if reply.status == 200:
            self._acknowledged(request, reply)

    def _acknowledged(self, request: WireRequest, reply: RawReply) -> None:
        if request.method.upper() == b"DELETE":
            # A job deleted by its owner (epx's job.delete()) goes with its runs and uploads.
            path = unquote_to_bytes(urlsplit(request.target).path).decode("utf-8", "replace")
            job_id = int(path.rsplit("/", 1)[1])
            self.forget_job(job_id)
            self.state_job_present = self.state_job_present and job_id != STATE_JOB
            return
        if "x-pactmock-sha256" in reply.headers:
            # The app stores under the path it decoded: the key is the last segment of that.
            path = unquote_to_bytes(urlsplit(request.target).path).decode("utf-8", "replace")
            _, _, _, job_id, key = path.split("/")
            self.uploads[(int(job_id), key)] = reply.headers["x-pactmock-sha256"]
            self.created["uploads"] += 1
            return
        if reply.headers.get("Content-Type") != "application/json":
            return
        body = reply.json()
        if isinstance(body, dict) and body.keys() == {"id", "userId", "tags"}:
            self.jobs[body["id"]] = body["tags"]
            self.created["jobs"] += 1
            self.highest["jobs"] = max(self.highest["jobs"], body["id"])
        elif isinstance(body, dict) and "runResponses" in body:
            for run in body["runResponses"]:
                self.runs[run["runId"]] = (run["jobId"], run["runRequest"])
                self.created["runs"] += 1
                self.highest["runs"] = max(self.highest["runs"], run["runId"])

    def forget_job(self, job_id: int) -> None:
        """The job was deleted (a provider state torn down), and its runs and uploads with it."""
        self.jobs.pop(job_id, None)
        self.runs = {i: run for i, run in self.runs.items() if run[0] != job_id}
        self.uploads = {key: sha for key, sha in self.uploads.items() if key[0] != job_id}


def reset_states(url: str, ledger: Ledger) -> None:
    """Tear the provider states down and set them up again, as the Pact verifier does between interactions.

    Job 123 starts each batch with only run 978: GET /runs of it stays small however many runs the fuzzer submits.
    """
    for action in ("teardown", "setup"):
        for state in STATES:
            reply = requests.post(url + "/_mock/provider-states", json={"state": state, "action": action}, timeout=30)
            assert reply.status_code == 200, reply.text
    ledger.forget_job(STATE_JOB)
    ledger.state_job_present = True


def fuzz(
    url: str, exemplars: list[Exemplar], total: int, ledger: Ledger, before_batch: Callable[[], None] = lambda: None
) -> list[WireRequest]:
    """Send `total` requests drawn from the exemplars, BATCH per hypothesis example, over one keep-alive connection.

    Returns the requests after which the server closed the connection without saying so.
    """
    connection = RawConnection(url)
    fixed_seed = os.environ.get("FUZZ_SEED")

    # No example database and a derandomised draw: CI sends the same requests every run.
    @settings(
        max_examples=total // BATCH,
        deadline=None,
        derandomize=fixed_seed is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(bad_requests(exemplars), min_size=BATCH, max_size=BATCH))
    def send_batch(batch: list[WireRequest]) -> None:
        before_batch()
        for request in batch:
            ledger.record(request, connection.send(request))

    if fixed_seed is not None:
        send_batch = seed(int(fixed_seed))(send_batch)
    try:
        send_batch()
    finally:
        connection.close()
    return connection.silent_closes


def assert_no_failures(ledger: Ledger, mock: RunningMock, summary: str) -> None:
    failures = [f"{what}\n{request}" for what, request in ledger.failures.items()]
    errors = [line for line in mock.log().splitlines() if " ERROR " in line or EXCEPTION_LINE.match(line)]
    assert failures == [], (
        f"{summary}\n{len(failures)} kind(s) of failure:\n\n"
        + "\n\n".join(failures[:15])
        + "\n--- errors in the mock log ---\n"
        + "\n".join(errors[:30])
    )


def database_problems(url: str, ledger: Ledger) -> list[str]:
    """How the rows differ from what was acknowledged (plus the provider states' own job and run)."""
    jobs = {row.id: as_json(row.tags) for row in query(url, "SELECT id, tags FROM jobs")}
    runs = {row.id: (row.job_id, as_json(row.request)) for row in query(url, "SELECT id, job_id, request FROM runs")}
    uploads = {(row.job_id, row.key): row.sha256 for row in query(url, "SELECT job_id, key, sha256 FROM uploads")}
    counters = {row.name: row.next_value for row in query(url, "SELECT name, next_value FROM id_counters")}
    state_job = {STATE_JOB: ["info_job"]} if ledger.state_job_present else {}
    state_run = {STATE_RUN: STATE_JOB} if ledger.state_job_present else {}
    problems = compare_ids("jobs", {**state_job, **ledger.jobs}, jobs)
    run_jobs = {run_id: job_id for run_id, (job_id, _) in runs.items()}
    problems += compare_ids("runs", {**state_run, **{i: job for i, (job, _) in ledger.runs.items()}}, run_jobs)
    problems += compare_ids(
        "run requests",
        {i: request for i, (_, request) in ledger.runs.items()},
        {i: runs[i][1] for i in ledger.runs if i in runs},
    )
    problems += compare_ids("uploads", ledger.uploads, uploads)
    problems += [
        f"run {i} belongs to job {job}, which does not exist" for i, job in run_jobs.items() if job not in jobs
    ]
    problems += [f"upload {key} belongs to job {job}, which does not exist" for job, key in uploads if job not in jobs]
    for table, highest in ledger.highest.items():
        if counters[table] != highest + 1:
            problems.append(f"the {table} counter is at {counters[table]}, the last id handed out is {highest}")
    return problems


def test_bad_input_gets_a_problem_never_a_server_error(serve, database_url: str) -> None:
    mock = serve(database_url, **FROZEN_RUNS, **SLOW_PEER_DEADLINES)
    ledger = Ledger()

    with SlowPeerMix(mock.url) as slow_peers:
        silent_closes = fuzz(
            mock.url, load_exemplars(PACT_DIR), REQUESTS_PER_BACKEND, ledger, lambda: reset_states(mock.url, ledger)
        )

    summary = (
        f"{ledger.sent} requests, statuses {dict(sorted(ledger.statuses.items()))}, "
        f"unanswered {ledger.refused_by_server}, connection closed silently after {len(silent_closes)}; "
        f"slow peers cut off {slow_peers.cut_off}"
    )
    print(summary)
    for request in silent_closes[:3]:
        print("closed silently after:", request.describe(200))
    assert_no_failures(ledger, mock, summary)
    assert slow_peers.wrong == [], slow_peers.wrong[:5]
    assert slow_peers.cut_off["body"] > 0 and slow_peers.cut_off["head"] > 0, summary
    assert ledger.sent >= REQUESTS_PER_BACKEND, summary
    # Valid requests are drawn too: the run created data, so the database check below compares something.
    assert ledger.created["jobs"] and ledger.created["runs"] and ledger.created["uploads"], (ledger.created, summary)
    assert requests.get(mock.url + "/health", timeout=30).status_code == 200
    assert database_problems(database_url, ledger) == []


CONTROL_REQUESTS_PER_BACKEND = 500
# What the Pact verifier sends the control plane, and what a test reads back through it.
CONTROL_EXEMPLARS = [
    Exemplar(
        description="a provider state call",
        states=(),
        method="POST",
        path="/_mock/provider-states",
        query=(),
        headers=(("Content-Type", "application/json"),),
        body=b"",
        document={"state": "job 123 exists", "params": {"jobId": 123}, "action": "setup"},
    ),
    Exemplar(
        description="a read of an upload",
        states=(),
        method="GET",
        path="/_mock/jobs/123/uploads/job_input",
        query=(),
        headers=(),
        body=b"",
        document=None,
    ),
]


def test_bad_control_plane_calls_get_a_problem_never_a_server_error(serve, database_url: str) -> None:
    mock = serve(database_url)
    ledger = Ledger()

    fuzz(mock.url, CONTROL_EXEMPLARS, CONTROL_REQUESTS_PER_BACKEND, ledger)

    summary = f"{ledger.sent} requests, statuses {dict(sorted(ledger.statuses.items()))}"
    print(summary)
    assert_no_failures(ledger, mock, summary)
    assert ledger.sent >= CONTROL_REQUESTS_PER_BACKEND, summary
    assert requests.get(mock.url + "/health", timeout=30).status_code == 200


def test_a_refused_body_does_not_break_the_next_request_on_the_connection(serve, tmp_path: Path) -> None:
    """The fuzzer found it: a body the mock refuses unread (413, 405) made granian drop the keep-alive
    connection after answering, without "Connection: close", so a client's next request on it failed.
    http.client, like many clients, reopens a connection only when the answer says it will close."""
    mock = serve(f"sqlite:///{tmp_path / 'refused.sqlite3'}")
    parts = urlsplit(mock.url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    over_json_limit = b"[" + b"0," * (1024 * 1024 // 2) + b"0]"
    try:
        for method, path, body, status in (
            ("POST", "/jobs/register", over_json_limit, 413),
            ("FOO", "/runs", b"x" * 100_000, 405),
        ):
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
            refused = connection.getresponse()
            refused.read()
            assert refused.status == status
            connection.request("GET", "/health")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200, f"after {method} {path} -> {status}"
    finally:
        connection.close()
