"""The Epistemix API end to end: the real server over real HTTP, on a fresh SQLite file and on a fresh
PostgreSQL database (the `database_url` fixture runs every test on both).

Every request goes through `Mock.send`, which fails the test on any 5xx the moment it arrives, and
every mock's log is checked afterwards for a traceback.
Requests are sent with http.client so a header left out is really absent (requests and urllib3 add
a User-Agent of their own).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.support.epx import EPX_HEADERS, OCTET_STREAM, run_request

from .conftest import RunningMock, stop_mock

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"

MAX_ID = 2**63 - 1

POD_PHASE = {
    "NOT_STARTED": "Pending",
    "QUEUED": "Pending",
    "RUNNING": "Running",
    "DONE": "Succeeded",
    "ERROR": "Failed",
}
RANK = {"NOT_STARTED": 0, "QUEUED": 1, "RUNNING": 2, "DONE": 3, "ERROR": 3}


def durations(seconds: float) -> dict[str, str]:
    """Environment for a run lifecycle whose every step lasts `seconds`."""
    return {
        "PACTMOCK_RUN_NOT_STARTED_SECONDS": str(seconds),
        "PACTMOCK_RUN_QUEUED_SECONDS": str(seconds),
        "PACTMOCK_RUN_RUNNING_SECONDS": str(seconds),
    }


# Runs stay NOT_STARTED for the whole of a test that is not about the lifecycle.
FROZEN = durations(600)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Reply:
    method: str
    target: str
    status: int
    headers: Message
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)

    def __str__(self) -> str:
        return f"{self.method} {self.target} -> {self.status} {self.text[:800]}"


class Mock:
    """One running pactmock and what this test sends it."""

    def __init__(self, running: RunningMock) -> None:
        self.running = running
        self.url = running.url
        parts = urlsplit(running.url)
        assert parts.hostname is not None and parts.port is not None
        self.host, self.port = parts.hostname, parts.port

    def send(self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> Reply:
        """Exactly these headers (plus Host and Content-Length) and this body; a 5xx fails the test."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            reply = Reply(method, target, response.status, response.headers, response.read())
        finally:
            connection.close()
        assert reply.status < 500, f"server error: {reply}\n--- mock log ---\n{self.running.log()[-6000:]}"
        return reply

    def epx(self, method: str, target: str, payload: Any, headers: dict[str, str] = EPX_HEADERS) -> Reply:
        return self.send(method, target, headers, None if payload is None else json.dumps(payload).encode())

    def register(self, tags: list[Any] | None = None) -> Reply:
        return self.epx("POST", "/jobs/register", {"tags": ["info_job"] if tags is None else tags})

    def upload_url(self, job_id: int, context: str = "job", kind: str = "input", run_id: int | None = None) -> Reply:
        payload: dict[str, Any] = {"jobId": job_id, "context": context, "type": kind}
        if run_id is not None:
            payload["runId"] = run_id
        return self.epx("POST", "/jobs", payload)

    def submit(self, *requests: dict[str, Any]) -> Reply:
        return self.epx("POST", "/runs", {"runRequests": list(requests)})

    def runs(self, job_id: int | str) -> Reply:
        return self.epx("GET", "/runs?" + urlencode({"job_id": job_id}), None)

    def put(self, url: str, data: bytes, headers: dict[str, str] = OCTET_STREAM) -> Reply:
        target = url[len(self.url) :] if url.startswith(self.url) else url
        assert target.startswith("/"), f"upload URL {url!r} does not point at this mock ({self.url})"
        return self.send("PUT", target, headers, data)

    def uploads(self, job_id: int) -> Reply:
        return self.send("GET", f"/_mock/jobs/{job_id}/uploads")

    def upload(self, job_id: int, key: str) -> Reply:
        return self.send("GET", f"/_mock/jobs/{job_id}/uploads/{key}")

    def state(self, name: str, action: str = "setup") -> Reply:
        payload = {"state": name, "params": {}, "action": action}
        return self.send(
            "POST", "/_mock/provider-states", {"Content-Type": "application/json"}, json.dumps(payload).encode()
        )

    def stop(self) -> None:
        stop_mock(self.running)


def ok(reply: Reply) -> Any:
    assert reply.status == 200, str(reply)
    assert reply.headers["Content-Type"] == "application/json", str(reply)
    return reply.json()


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    """An RFC 9457 problem with this status; returns its body."""
    assert reply.status == status, str(reply)
    assert reply.headers["Content-Type"] == "application/problem+json", str(reply)
    problem = reply.json()
    assert problem["status"] == status, problem
    assert problem["type"].startswith("/_mock/problems/"), problem
    assert problem["title"] and problem["detail"], problem
    return problem


def header_mismatches(problem: dict[str, Any]) -> dict[str, str]:
    return {m["path"].lower(): m["message"] for m in problem["mismatches"] if m["part"] == "header"}


def uploads_listed(mock: Mock, job_id: int) -> list[dict[str, Any]]:
    listing = ok(mock.uploads(job_id))
    assert listing["jobId"] == job_id
    return [{k: v for k, v in upload.items() if k != "uploadedTs"} for upload in listing["uploads"]]


def listed(key: str, data: bytes) -> dict[str, Any]:
    return {"key": key, "size": len(data), "sha256": sha256(data), "contentType": "application/octet-stream"}


def run_ids(mock: Mock, job_id: int) -> list[int]:
    return [run["id"] for run in ok(mock.runs(job_id))["runs"]]


def watch_run(
    mock: Mock, job_id: int, run_id: int, started: float, timeout: float = 30
) -> list[tuple[float, str, str]]:
    """Poll GET /runs until the run reaches DONE or ERROR: (seconds since `started`, status, podPhase) of each look."""
    seen: list[tuple[float, str, str]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [run] = [r for r in ok(mock.runs(job_id))["runs"] if r["id"] == run_id]
        seen.append((time.monotonic() - started, run["status"], run["podPhase"]))
        if run["status"] in ("DONE", "ERROR"):
            return seen
        time.sleep(0.02)
    pytest.fail(f"run {run_id} did not finish within {timeout} s: {seen[-5:]}")


def assert_consistent_and_forward(seen: list[tuple[float, str, str]]) -> list[str]:
    """Each look's podPhase fits its status and no look is behind the one before; the distinct statuses in order."""
    for _, status, phase in seen:
        assert phase == POD_PHASE[status], seen
    ranks = [RANK[status] for _, status, _ in seen]
    assert ranks == sorted(ranks), f"a run went backwards: {seen}"
    distinct: list[str] = []
    for _, status, _ in seen:
        if not distinct or distinct[-1] != status:
            distinct.append(status)
    return distinct


@pytest.fixture
def serve(request: pytest.FixtureRequest, run_mock, database_url: str) -> Iterator[Callable[..., Mock]]:
    """Start a mock on this test's database (the same one for every start within a test)."""
    mocks: list[Mock] = []

    def start(**env: str) -> Mock:
        mock = Mock(run_mock(PACT_DIR, DATABASE_URL=database_url, **env))
        mocks.append(mock)
        return mock

    yield start
    for mock in mocks:
        log = mock.running.log()
        assert "Traceback" not in log, log
        # Every answer a domain handler gave kept to the response rules of its interaction.
        assert "breaks the contract" not in log, log


def test_upload_urls_name_the_host_each_client_reached_the_mock_by(serve) -> None:
    mock = serve()
    job_id = ok(mock.register())["id"]
    payload = json.dumps({"jobId": job_id, "context": "job", "type": "input"}).encode()
    urls = []
    for host in ("mock.example:8080", "127.0.0.1:1234", "mock.example:8080", "other.example"):
        connection = http.client.HTTPConnection(mock.host, mock.port, timeout=30)
        try:
            connection.putrequest("POST", "/jobs", skip_host=True, skip_accept_encoding=True)
            for name, value in {**EPX_HEADERS, "Host": host, "Content-Length": str(len(payload))}.items():
                connection.putheader(name, value)
            connection.endheaders(payload)
            response = connection.getresponse()
            assert response.status == 200
            urls.append(json.loads(response.read())["url"])
        finally:
            connection.close()
    assert urls == [
        f"http://{host}/s3/uploads/{job_id}/job_input"
        for host in ("mock.example:8080", "127.0.0.1:1234", "mock.example:8080", "other.example")
    ]


# --- 1. the happy path ---


def test_full_epx_flow_numbers_jobs_from_123_and_runs_from_978_and_keeps_every_upload(serve) -> None:
    mock = serve(**FROZEN)
    before = datetime.now(UTC)

    assert ok(mock.register(["info_job"])) == {"id": 123, "userId": 456, "tags": ["info_job"]}

    input_url = ok(mock.upload_url(123, "job", "input"))["url"]
    assert input_url == f"{mock.url}/s3/uploads/123/job_input"
    archive = b"\x1f\x8b" + os.urandom(4096)
    put = mock.put(input_url, archive)
    assert put.status == 200, str(put)
    assert put.headers["ETag"] == f'"{hashlib.md5(archive).hexdigest()}"'
    assert put.headers["x-pactmock-sha256"] == sha256(archive)

    submitted = ok(mock.submit(run_request(123)))
    assert submitted == {
        "runResponses": [
            {"runId": 978, "jobId": 123, "status": "Submitted", "errors": None, "runRequest": run_request(123)}
        ]
    }

    config_url = ok(mock.upload_url(123, "run", "config", run_id=978))["url"]
    assert config_url == f"{mock.url}/s3/uploads/123/run_978_config"
    config = json.dumps({"simulation": "main.fred"}).encode()
    assert mock.put(config_url, config).status == 200
    # The job's config, the other key the client uploads (it never uploads a run's input).
    assert ok(mock.upload_url(123, "job", "config"))["url"] == f"{mock.url}/s3/uploads/123/job_config"

    [run] = ok(mock.runs(123))["runs"]
    created = run.pop("createdTs")
    assert run == {
        "id": 978,
        "jobId": 123,
        "userId": 456,
        "request": run_request(123),
        "podPhase": "Pending",
        "containerStatus": None,
        "status": "NOT_STARTED",
        "userDeleted": False,
        "epxClientVersion": "1.2.3",
    }
    assert created.endswith("Z"), created
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(created) <= datetime.now(UTC), created

    assert uploads_listed(mock, 123) == [listed("job_input", archive), listed("run_978_config", config)]
    for key, data in (("job_input", archive), ("run_978_config", config)):
        back = mock.upload(123, key)
        assert back.status == 200, str(back)
        assert back.content == data
        assert back.headers["x-pactmock-sha256"] == sha256(data)

    # Ids go on from there, one at a time; runs are listed per job.
    assert ok(mock.register(["second"])) == {"id": 124, "userId": 456, "tags": ["second"]}
    more = ok(mock.submit(run_request(124), run_request(124, size="cold")))
    assert [(r["runId"], r["jobId"], r["runRequest"]["size"]) for r in more["runResponses"]] == [
        (979, 124, "hot"),
        (980, 124, "cold"),
    ]
    assert run_ids(mock, 124) == [979, 980]
    assert run_ids(mock, 123) == [978]
    assert uploads_listed(mock, 124) == []


# --- 2. headers ---


def epx_calls(job_id: int) -> list[tuple[str, str, Any]]:
    """One valid request (method, target, payload) to each Epistemix endpoint, about `job_id`."""
    return [
        ("POST", "/jobs/register", {"tags": ["info_job"]}),
        ("POST", "/jobs", {"jobId": job_id, "context": "job", "type": "input"}),
        ("POST", "/runs", {"runRequests": [run_request(job_id)]}),
        ("GET", f"/runs?job_id={job_id}", None),
    ]


def assert_nothing_written(mock: Mock, next_job: int, job_id: int) -> None:
    """Job `job_id` has no runs or uploads and the next job id is `next_job`."""
    assert ok(mock.runs(job_id)) == {"runs": []}
    assert uploads_listed(mock, job_id) == []
    assert ok(mock.register())["id"] == next_job


def test_each_missing_required_header_is_a_400_naming_it_on_every_endpoint_and_writes_nothing(serve) -> None:
    mock = serve(**FROZEN)
    assert ok(mock.register())["id"] == 123
    for header in ("Content-Type", "fredcli-version", "user-agent"):
        without = {name: value for name, value in EPX_HEADERS.items() if name != header}
        for method, target, payload in epx_calls(123):
            problem = assert_problem(mock.epx(method, target, payload, headers=without), 400)
            assert problem["type"].endswith("/contract-mismatch"), problem
            named = header_mismatches(problem)
            assert header.lower() in named, f"{method} {target} without {header}: {problem}"
            assert "missing" in named[header.lower()], named
            assert header.lower() in problem["detail"].lower(), problem
    assert_nothing_written(mock, 124, 123)
    # Storage requires no header: epx PUTs its files with none (no Content-Type), as to a real pre-signed URL.
    assert mock.put("/s3/uploads/123/job_input", b"bytes", headers={}).status == 200
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 978


# A distinctive part of each bad token, to look for in replies and the log.
BAD_TOKENS = [
    (None, None),
    ("", None),
    ("tok-A1-no-scheme", "tok-A1-no-scheme"),
    ("Basic dG9rLUIy", "dG9rLUIy"),
    ("Token tok-C3", "tok-C3"),
    ("Bearer", None),
    ("Bearer tok D4", "tok D4"),
]


def test_offline_token_missing_or_not_bearer_form_is_a_401_on_every_endpoint_and_never_echoed(serve) -> None:
    mock = serve(**FROZEN)
    assert ok(mock.register())["id"] == 123
    for token, secret in BAD_TOKENS:
        headers = {name: value for name, value in EPX_HEADERS.items() if name != "Offline-Token"}
        if token is not None:
            headers["Offline-Token"] = token
        for method, target, payload in epx_calls(123):
            reply = mock.epx(method, target, payload, headers=headers)
            problem = assert_problem(reply, 401)
            assert problem["type"].endswith("/unauthorized") and problem["title"] == "Unauthorized", problem
            assert "offline-token" in header_mismatches(problem), problem
            if secret is not None:
                assert secret not in reply.text, f"{token!r} echoed: {reply}"
    log = mock.running.log()
    assert "refused (401)" in log, "refusals are logged"
    for _, secret in BAD_TOKENS:
        if secret is not None:
            assert secret not in log, f"{secret!r} reached the log"
    assert_nothing_written(mock, 124, 123)


# --- 3. bodies ---

WRONG_TYPES = [
    ("tags not a list", "/jobs/register", {"tags": "info_job"}, ["$.tags"]),
    ("tags an object", "/jobs/register", {"tags": {"name": "info_job"}}, ["$.tags"]),
    ("a tag not a string", "/jobs/register", {"tags": [7]}, ["$.tags[0]"]),
    ("jobId as string", "/jobs", {"jobId": "123", "context": "job", "type": "input"}, ["$.jobId"]),
    ("jobId a float", "/jobs", {"jobId": 123.5, "context": "job", "type": "input"}, ["$.jobId"]),
    ("runId as string", "/jobs", {"jobId": 123, "context": "run", "type": "config", "runId": "978"}, ["$.runId"]),
    ("type unknown", "/jobs", {"jobId": 123, "context": "job", "type": "output"}, ["$.type"]),
    ("runRequests not a list", "/runs", {"runRequests": run_request(123)}, ["$.runRequests"]),
    ("run jobId as string", "/runs", {"runRequests": [run_request("123")]}, ["$.runRequests[0].jobId"]),
    (
        "fredArgs an object",
        "/runs",
        {"runRequests": [run_request(123, fredArgs={"flag": "-p", "value": "main.fred"})]},
        ["$.runRequests[0].fredArgs"],
    ),
    (
        "fredArgs of strings",
        "/runs",
        {"runRequests": [run_request(123, fredArgs=["-p"])]},
        ["$.runRequests[0].fredArgs[0]"],
    ),
    (
        "a fredArg without value",
        "/runs",
        {"runRequests": [run_request(123, fredArgs=[{"flag": "-p"}])]},
        ["$.runRequests[0].fredArgs[0].value"],
    ),
    (
        "two mistakes at once",
        "/runs",
        {"runRequests": [run_request("x", fredArgs={"flag": "-p"})]},
        ["$.runRequests[0].fredArgs", "$.runRequests[0].jobId"],
    ),
]


def test_wrong_types_in_bodies_are_400_listing_every_mismatch_and_write_nothing(serve) -> None:
    mock = serve(**FROZEN)
    assert ok(mock.register())["id"] == 123
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 978
    for label, target, payload, paths in WRONG_TYPES:
        problem = assert_problem(mock.epx("POST", target, payload), 400)
        assert problem["type"].endswith("/contract-mismatch"), (label, problem)
        assert all(m["part"] == "body" for m in problem["mismatches"]), (label, problem)
        assert sorted(m["path"] for m in problem["mismatches"]) == paths, (label, problem)
        for path in paths:
            assert path in problem["detail"], (label, problem)
    assert run_ids(mock, 123) == [978]
    assert uploads_listed(mock, 123) == []
    assert ok(mock.register())["id"] == 124
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 979


BODY_TARGETS = [
    ("/jobs/register", {"tags": ["info_job"]}),
    ("/jobs", {"jobId": 123, "context": "job", "type": "input"}),
    ("/runs", {"runRequests": [run_request(123)]}),
]


def test_malformed_empty_or_non_json_bodies_are_400_on_every_endpoint_and_write_nothing(serve) -> None:
    mock = serve(**FROZEN)
    assert ok(mock.register())["id"] == 123
    for target, payload in BODY_TARGETS:
        valid = json.dumps(payload).encode()
        truncated = assert_problem(mock.send("POST", target, EPX_HEADERS, valid[:-3]), 400)
        assert "not valid JSON" in truncated["detail"] and "line 1 column" in truncated["detail"], truncated
        not_utf8 = assert_problem(mock.send("POST", target, EPX_HEADERS, b"\xff\xfe" + valid), 400)
        assert [m["part"] for m in not_utf8["mismatches"]] == ["body"], not_utf8
        empty = assert_problem(mock.send("POST", target, EPX_HEADERS, b""), 400)
        assert "expected a body" in empty["detail"], empty
        as_text = assert_problem(mock.send("POST", target, {**EPX_HEADERS, "Content-Type": "text/plain"}, valid), 400)
        assert "content-type" in header_mismatches(as_text), as_text
        for problem in (truncated, not_utf8, empty, as_text):
            assert problem["type"].endswith("/contract-mismatch"), (target, problem)
        for other in (b"null", b"[]", b'"text"'):
            problem = assert_problem(mock.send("POST", target, EPX_HEADERS, other), 400)
            assert [m["path"] for m in problem["mismatches"]] == ["$"], (target, problem)

    assert_nothing_written(mock, 124, 123)
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 978


# --- 4. unknown jobs and runs ---


def assert_not_found(reply: Reply, resource: str, *named: str) -> dict[str, Any]:
    problem = assert_problem(reply, 404)
    assert problem["type"].endswith("/not-found"), problem
    assert problem["resource"] == resource, problem
    for text in named:
        assert text in problem["detail"], problem
    return problem


def test_unknown_job_or_a_run_of_another_job_is_a_404_naming_it(serve) -> None:
    mock = serve(**FROZEN)
    assert ok(mock.register())["id"] == 123
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 978
    assert ok(mock.register())["id"] == 124

    assert_not_found(mock.upload_url(999), "job", "job 999")
    assert_not_found(mock.upload_url(999, "run", "config", run_id=978), "job", "job 999")
    assert_not_found(mock.submit(run_request(999)), "job", "job 999")
    assert_not_found(mock.runs(999), "job", "job 999")
    assert_not_found(mock.put("/s3/uploads/999/job_input", b"bytes"), "job", "job 999")
    assert_not_found(mock.uploads(999), "job", "job 999")
    # One unknown job refuses the whole submission.
    assert_not_found(mock.submit(run_request(123), run_request(999)), "job", "job 999")
    assert run_ids(mock, 123) == [978]

    # Run 978 belongs to job 123, not 124; run 5555 belongs to nobody.
    assert_not_found(mock.upload_url(124, "run", "config", run_id=978), "run", "978", "job 124")
    assert_not_found(mock.put("/s3/uploads/124/run_978_config", b"bytes"), "run", "978", "job 124")
    assert_not_found(mock.upload_url(123, "run", "config", run_id=5555), "run", "5555")
    assert_not_found(mock.put("/s3/uploads/123/run_5555_config", b"bytes"), "run", "5555")
    assert uploads_listed(mock, 123) == [] and uploads_listed(mock, 124) == []

    # A key no contract describes is no route at all, with the closest one named.
    problem = assert_problem(mock.put("/s3/uploads/123/notes.txt", b"bytes"), 404)
    assert problem["type"].endswith("/no-interaction"), problem
    assert problem["closest"][0]["request"] == "PUT /s3/uploads/123/job_input", problem

    assert ok(mock.submit(run_request(124)))["runResponses"][0]["runId"] == 979


# --- 5. uploads ---


def test_one_megabyte_upload_reads_back_byte_for_byte_and_a_reupload_replaces_it(serve) -> None:
    mock = serve(**FROZEN)
    assert ok(mock.register())["id"] == 123
    url = ok(mock.upload_url(123))["url"]

    data = os.urandom(1 << 20)
    put = mock.put(url, data)
    assert put.status == 200, str(put)
    assert put.headers["x-pactmock-sha256"] == sha256(data)
    assert put.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    back = mock.upload(123, "job_input")
    assert back.status == 200 and len(back.content) == len(data)
    assert back.content == data
    assert sha256(back.content) == back.headers["x-pactmock-sha256"] == sha256(data)
    assert uploads_listed(mock, 123) == [listed("job_input", data)]

    replacement = os.urandom(1000)
    assert mock.put(url, replacement).status == 200
    assert mock.upload(123, "job_input").content == replacement
    assert uploads_listed(mock, 123) == [listed("job_input", replacement)]


# --- 6. persistence ---


def test_jobs_runs_and_uploads_survive_a_restart_and_ids_are_never_reused(serve) -> None:
    first = serve(**FROZEN)
    assert ok(first.register())["id"] == 123
    assert ok(first.register())["id"] == 124
    data = os.urandom(10_000)
    assert first.put(ok(first.upload_url(123))["url"], data).status == 200
    assert ok(first.submit(run_request(123)))["runResponses"][0]["runId"] == 978
    runs_before = ok(first.runs(123))["runs"]
    first.stop()

    second = serve(**FROZEN)
    assert second.url != first.url
    assert ok(second.runs(123))["runs"] == runs_before
    assert ok(second.runs(124)) == {"runs": []}
    assert uploads_listed(second, 123) == [listed("job_input", data)]
    assert second.upload(123, "job_input").content == data
    assert ok(second.register())["id"] == 125
    assert ok(second.submit(run_request(124)))["runResponses"][0]["runId"] == 979
    assert run_ids(second, 123) == [978]
    assert run_ids(second, 124) == [979]


# --- 7. the run lifecycle ---


def test_run_steps_through_every_status_to_done_with_a_matching_pod_phase(serve) -> None:
    step = 0.5
    mock = serve(**durations(step))
    assert ok(mock.register())["id"] == 123
    started = time.monotonic()
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 978

    seen = watch_run(mock, 123, 978, started)
    assert assert_consistent_and_forward(seen) == ["NOT_STARTED", "QUEUED", "RUNNING", "DONE"], seen
    done_after = next(elapsed for elapsed, status, _ in seen if status == "DONE")
    assert done_after >= 3 * step - 0.05, f"DONE after {done_after:.2f} s, before its three steps were over"
    for _ in range(3):
        [run] = ok(mock.runs(123))["runs"]
        assert (run["status"], run["podPhase"]) == ("DONE", "Succeeded")


def test_run_outcome_error_ends_the_run_in_error_with_pod_phase_failed(serve) -> None:
    mock = serve(PACTMOCK_RUN_OUTCOME="ERROR", **durations(0.2))
    assert ok(mock.register())["id"] == 123
    started = time.monotonic()
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 978

    seen = watch_run(mock, 123, 978, started)
    distinct = assert_consistent_and_forward(seen)
    assert distinct[0] == "NOT_STARTED" and distinct[-1] == "ERROR", seen
    assert "DONE" not in distinct
    for _ in range(3):
        [run] = ok(mock.runs(123))["runs"]
        assert (run["status"], run["podPhase"]) == ("ERROR", "Failed")


def test_a_finished_run_stays_done_when_the_mock_restarts_with_longer_durations(serve) -> None:
    first = serve(**durations(0.1))
    assert ok(first.register())["id"] == 123
    started = time.monotonic()
    assert ok(first.submit(run_request(123)))["runResponses"][0]["runId"] == 978
    assert watch_run(first, 123, 978, started)[-1][1:] == ("DONE", "Succeeded")
    first.stop()

    second = serve(**FROZEN)
    for _ in range(3):
        [run] = ok(second.runs(123))["runs"]
        assert (run["status"], run["podPhase"]) == ("DONE", "Succeeded")
    # The longer durations are in force: a new run waits in NOT_STARTED.
    assert ok(second.submit(run_request(123)))["runResponses"][0]["runId"] == 979
    statuses = {run["id"]: (run["status"], run["podPhase"]) for run in ok(second.runs(123))["runs"]}
    assert statuses == {978: ("DONE", "Succeeded"), 979: ("NOT_STARTED", "Pending")}


# --- 8. provider states ---


def test_provider_states_set_up_and_tear_down_job_123_and_run_978(serve) -> None:
    mock = serve(**FROZEN)
    assert_not_found(mock.runs(123), "job", "job 123")

    assert ok(mock.state("job 123 exists")) == {}
    assert ok(mock.runs(123)) == {"runs": []}
    assert ok(mock.upload_url(123))["url"] == f"{mock.url}/s3/uploads/123/job_input"

    assert ok(mock.state("job 123 has run 978")) == {}
    [run] = ok(mock.runs(123))["runs"]
    assert (run["id"], run["jobId"], run["status"], run["podPhase"]) == (978, 123, "RUNNING", "Running")
    config_url = ok(mock.upload_url(123, "run", "config", run_id=978))["url"]
    assert mock.put(config_url, b"config").status == 200

    # Ids a state chose are never handed out again.
    assert ok(mock.register())["id"] == 124
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 979

    assert ok(mock.state("job 123 has run 978", "teardown")) == {}
    assert_not_found(mock.runs(123), "job", "job 123")
    assert_not_found(mock.upload_url(123), "job", "job 123")
    assert_not_found(mock.uploads(123), "job", "job 123")
    assert ok(mock.state("job 123 exists", "teardown")) == {}, "tearing down what is gone is no error"
    assert ok(mock.runs(124)) == {"runs": []}, "other jobs are left alone"

    assert ok(mock.state("job 200 exists")) == {}
    assert ok(mock.runs(200)) == {"runs": []}
    assert ok(mock.state("job 200 exists", "teardown")) == {}
    assert_not_found(mock.runs(200), "job", "job 200")


OUT_OF_RANGE_STATES = [
    "job 0 exists",
    f"job {MAX_ID + 1} exists",
    "job 99999999999999999999 exists",
    f"job 5 has run {MAX_ID + 1}",
    "job 5 has run 0",
]


def test_provider_state_naming_an_id_out_of_range_is_a_400_problem_and_creates_nothing(serve) -> None:
    mock = serve(**FROZEN)
    for name in OUT_OF_RANGE_STATES:
        for action in ("setup", "teardown"):
            problem = assert_problem(mock.state(name, action), 400)
            assert problem["type"].endswith("/bad-provider-state"), problem
            assert name in problem["detail"], problem
    assert_not_found(mock.runs(5), "job", "job 5")
    assert ok(mock.register())["id"] == 123
    assert ok(mock.submit(run_request(123)))["runResponses"][0]["runId"] == 978


# --- the largest ids (bugs found by review, now fixed) ---


def test_upload_to_a_job_with_a_19_digit_id_is_stored_and_to_an_unknown_one_is_a_404(serve) -> None:
    mock = serve(**FROZEN)
    job_id = 10**18
    assert ok(mock.state(f"job {job_id} exists")) == {}
    url = ok(mock.upload_url(job_id))["url"]
    assert mock.put(url, b"archive").status == 200
    assert uploads_listed(mock, job_id) == [listed("job_input", b"archive")]
    assert_not_found(mock.put(f"/s3/uploads/{job_id + 7}/job_input", b"archive"), "job", str(job_id + 7))


def test_upload_url_handed_out_for_a_19_digit_run_accepts_its_upload(serve) -> None:
    mock = serve(**FROZEN)
    run_id = 10**18
    assert ok(mock.state(f"job 6 has run {run_id}")) == {}
    url = ok(mock.upload_url(6, "run", "config", run_id=run_id))["url"]
    put = mock.put(url, b"config")
    assert put.status == 200, str(put)
    assert uploads_listed(mock, 6) == [listed(f"run_{run_id}_config", b"config")]


def test_provider_state_with_the_largest_id_is_not_a_server_error(serve) -> None:
    mock = serve(**FROZEN)
    assert_problem(mock.state(f"job {MAX_ID} exists"), 400)
    assert ok(mock.register())["id"] == 123
    # The largest id a state may name leaves the counter at the top: the next register is refused, not a 500.
    assert ok(mock.state(f"job {MAX_ID - 1} exists")) == {}
    assert_problem(mock.register(), 409)
