"""Many clients at once against `pactmock serve --workers 2`, on a fresh SQLite file and a fresh PostgreSQL database:
nothing acknowledged is lost, ids stay unique and gap-free, uploaded bytes stay intact.

Each client is a thread with its own keep-alive connection. Every run a client submits carries a tag (its working
directory), so each acknowledged run can be traced to the request that made it, in the replies, in `GET /runs` and
in the database itself.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tests.integration.conftest import RunningMock

from .conftest import (
    FIRST_JOB_ID,
    FIRST_RUN_ID,
    OCTET_STREAM,
    Connection,
    Reply,
    as_json,
    backend,
    compare_ids,
    contiguous_from,
    query,
    run_request,
    set_up_state,
)

CLIENTS = 32
SUBMISSIONS_PER_CLIENT = 500
# A client registers a job of its own every BATCH submissions, and lists that job's runs after the batch.
BATCH = 20
# Every SHARED_EVERY-th submission is a run of job 123, which every client submits to.
SHARED_EVERY = 10
# Every PAIR_EVERY-th submission carries two runs (its own job's and job 123's): created together or not at all.
PAIR_EVERY = 25
SHARED_JOB = FIRST_JOB_ID  # created by the provider state, so registered jobs start at 124

# Uploads: each client's job with RUNS_PER_UPLOADER runs has 2 + RUNS_PER_UPLOADER distinct keys (job input and
# config, and each run's config).
RUNS_PER_UPLOADER = 9
SHARED_KEYS = ("job_input", "job_config")  # of job 123, written by every client
SHARED_PUT_EVERY = 3


def ok(reply: Reply) -> Any:
    assert reply.status == 200, str(reply)
    assert reply.headers["Content-Type"] == "application/json", str(reply)
    return reply.json()


def run_clients(count: int, client: Callable[[int, threading.Barrier], Any]) -> tuple[list[Any], float]:
    """Run `client(index, start)` in `count` threads released together; their results and the wall time.

    A client that raised fails the test with every client's error listed.
    """
    start = threading.Barrier(count + 1, timeout=120)
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(client, index, start) for index in range(count)]
        start.wait()
        began = time.monotonic()
        errors = [(index, f.exception()) for index, f in enumerate(futures) if f.exception() is not None]
        wall = time.monotonic() - began
    assert errors == [], "\n".join(f"client {index}: {error!r}" for index, error in errors[:10])
    return [f.result() for f in futures], wall


def report(what: str, requests: int, wall: float, cpu: float) -> None:
    """The measured load, printed for `pytest -s`: requests per second, and how busy this (client) process was."""
    print(
        f"\n{what}: {requests} requests in {wall:.1f} s = {requests / wall:.0f}/s; "
        f"client process CPU {cpu:.1f} s ({100 * cpu / wall:.0f}% of one core)"
    )


# --- runs and jobs ---


@dataclass
class Submitter:
    """What one client was told: runs (id -> (job, tag)) and jobs it registered; requests it sent."""

    runs: dict[int, tuple[int, str]] = field(default_factory=dict)
    jobs: list[int] = field(default_factory=list)
    requests: int = 0


def submit_and_list(url: str, index: int, start: threading.Barrier) -> Submitter:
    """SUBMISSIONS_PER_CLIENT POST /runs, a POST /jobs/register before each batch, a GET /runs after it."""
    connection = Connection(url)
    seen = Submitter()
    start.wait()
    job = None
    own: list[tuple[int, int, str]] = []  # (id, job, tag) of the current job's runs, as acknowledged
    for number in range(SUBMISSIONS_PER_CLIENT):
        if number % BATCH == 0:
            tags = [f"client-{index}", f"batch-{number // BATCH}"]
            registered = ok(connection.epx("POST", "/jobs/register", {"tags": tags}))
            seen.requests += 1
            assert registered["tags"] == tags and registered["userId"] == 456, registered
            job, own = registered["id"], []
            seen.jobs.append(job)
        assert job is not None
        targets = [job]
        if number % SHARED_EVERY == SHARED_EVERY - 1:
            targets = [SHARED_JOB]
        elif number % PAIR_EVERY == PAIR_EVERY - 2:
            targets = [job, SHARED_JOB]
        sent = [run_request(target, f"c{index}/s{number}/{position}") for position, target in enumerate(targets)]
        answer = ok(connection.epx("POST", "/runs", {"runRequests": sent}))
        seen.requests += 1
        responses = answer["runResponses"]
        assert [(r["jobId"], r["status"], r["errors"], r["runRequest"]) for r in responses] == [
            (r["jobId"], "Submitted", None, r) for r in sent
        ], answer
        for response, request in zip(responses, sent, strict=True):
            run_id, tag = response["runId"], request["workingDir"]
            assert run_id not in seen.runs, f"run id {run_id} acknowledged twice to client {index}"
            seen.runs[run_id] = (request["jobId"], tag)
            if request["jobId"] == job:
                own.append((run_id, job, tag))
        if number % BATCH == BATCH - 1:
            # Only this client submits to its job: the list is exactly what it was acknowledged, whichever
            # worker process answers.
            listed = ok(connection.epx("GET", f"/runs?job_id={job}"))["runs"]
            seen.requests += 1
            assert [(r["id"], r["jobId"], r["request"]["workingDir"]) for r in listed] == own, (job, listed, own)
    connection.close()
    return seen


def listed_runs(url: str, jobs: list[int]) -> dict[int, tuple[int, str]]:
    """Every run of these jobs as GET /runs lists it: id -> (job, tag)."""

    def list_job(job: int) -> list[dict[str, Any]]:
        connection = Connection(url)
        try:
            return list(ok(connection.epx("GET", f"/runs?job_id={job}"))["runs"])
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        lists = list(pool.map(list_job, jobs))
    runs: dict[int, tuple[int, str]] = {}
    for job, listing in zip(jobs, lists, strict=True):
        for run in listing:
            assert run["jobId"] == job, run
            assert run["id"] not in runs, f"run {run['id']} listed twice"
            runs[run["id"]] = (run["jobId"], run["request"]["workingDir"])
    return runs


def test_32_clients_submitting_500_runs_each_get_200s_and_every_run_is_stored_with_gap_free_ids(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url)
    set_up_state(mock, f"job {SHARED_JOB} exists")

    cpu = time.process_time()
    clients, wall = run_clients(CLIENTS, lambda index, start: submit_and_list(mock.url, index, start))
    cpu = time.process_time() - cpu
    report(f"{backend(database_url)} POST /runs mix", sum(c.requests for c in clients), wall, cpu)

    acknowledged: dict[int, tuple[int, str]] = {}
    for client in clients:
        overlap = acknowledged.keys() & client.runs.keys()
        assert not overlap, f"run ids acknowledged to two clients: {sorted(overlap)[:10]}"
        acknowledged.update(client.runs)
    registered = [job for client in clients for job in client.jobs]
    pairs = SUBMISSIONS_PER_CLIENT // PAIR_EVERY
    assert len(acknowledged) == CLIENTS * (SUBMISSIONS_PER_CLIENT + pairs)
    assert len(registered) == CLIENTS * SUBMISSIONS_PER_CLIENT // BATCH

    # Ids: exactly the contiguous ranges from the contract's first ids (job 123 is the provider state's).
    assert contiguous_from(FIRST_RUN_ID, list(acknowledged)) == []
    assert contiguous_from(FIRST_JOB_ID + 1, registered) == []

    # The database holds exactly what was acknowledged: each run under its job, with its request.
    stored_runs = {
        row.id: (row.job_id, as_json(row.request)["workingDir"])
        for row in query(database_url, "SELECT id, job_id, request FROM runs")
    }
    assert compare_ids("run", acknowledged, stored_runs) == []
    stored_jobs = {row.id: as_json(row.tags) for row in query(database_url, "SELECT id, tags FROM jobs")}
    expected_jobs: dict[int, Any] = {SHARED_JOB: ["info_job"]}  # the provider state's example job
    for index, client in enumerate(clients):
        expected_jobs.update({job: [f"client-{index}", f"batch-{n}"] for n, job in enumerate(client.jobs)})
    assert compare_ids("job", expected_jobs, stored_jobs) == []

    # And GET /runs lists them all, under the right job, whichever worker answers.
    assert compare_ids("listed run", acknowledged, listed_runs(mock.url, [SHARED_JOB, *registered])) == []


# --- uploads ---


@dataclass
class Put:
    key: str
    sha256: str
    sent_at: float
    answered_at: float


@dataclass
class Uploader:
    job: int
    runs: list[int]
    own: dict[str, str] = field(default_factory=dict)  # key -> sha256 of the bytes uploaded
    shared: list[Put] = field(default_factory=list)
    requests: int = 0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_everywhere(url: str, index: int, start: threading.Barrier) -> Uploader:
    """A job of its own with RUNS_PER_UPLOADER runs; distinct random bytes to each of its keys through the URLs
    POST /jobs hands out, and every SHARED_PUT_EVERY-th upload also one to a key of job 123 that all clients share."""
    connection = Connection(url)
    start.wait()

    def presigned(payload: dict[str, Any], key: str) -> str:
        given = ok(connection.epx("POST", "/jobs", payload))["url"]
        assert given == f"{url}/s3/uploads/{payload['jobId']}/{key}", given
        return given[len(url) :]

    def put(target: str, data: bytes) -> None:
        reply = connection.send("PUT", target, OCTET_STREAM, data)
        assert reply.status == 200, str(reply)
        assert reply.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', str(reply)
        assert reply.headers["x-pactmock-sha256"] == sha256(data), str(reply)

    job = ok(connection.epx("POST", "/jobs/register", {"tags": [f"uploader-{index}"]}))["id"]
    submitted = ok(
        connection.epx(
            "POST", "/runs", {"runRequests": [run_request(job, f"u{index}/{n}") for n in range(RUNS_PER_UPLOADER)]}
        )
    )
    runs = [r["runId"] for r in submitted["runResponses"]]
    seen = Uploader(job, runs, requests=2)
    targets = [({"jobId": job, "context": "job", "type": kind}, f"job_{kind}") for kind in ("input", "config")]
    # Each run's config, as epx uploads it (it never uploads a run's input).
    targets += [({"jobId": job, "context": "run", "type": "config", "runId": run}, f"run_{run}_config") for run in runs]
    shared = {
        key: presigned({"jobId": SHARED_JOB, "context": "job", "type": key.removeprefix("job_")}, key)
        for key in SHARED_KEYS
    }
    seen.requests += len(shared)
    for number, (payload, key) in enumerate(targets):
        # One upload per client of a megabyte and more, the rest up to 64 KiB.
        data = os.urandom((1 << 20) + index if number == index % len(targets) else 1 + int.from_bytes(os.urandom(2)))
        put(presigned(payload, key), data)
        seen.own[key] = sha256(data)
        seen.requests += 2
        if number % SHARED_PUT_EVERY == 0:
            key = SHARED_KEYS[(number // SHARED_PUT_EVERY + index) % len(SHARED_KEYS)]
            data = os.urandom(1 + int.from_bytes(os.urandom(2)))
            sent_at = time.monotonic()
            put(shared[key], data)
            seen.shared.append(Put(key, sha256(data), sent_at, time.monotonic()))
            seen.requests += 1
    connection.close()
    return seen


def read_back(url: str, wanted: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[str, str]]:
    """(job, key) -> (sha256 of the bytes GET /_mock/jobs/<job>/uploads/<key> returns, its x-pactmock-sha256)."""

    def read(item: tuple[int, str]) -> tuple[str, str]:
        connection = Connection(url)
        try:
            reply = connection.send("GET", f"/_mock/jobs/{item[0]}/uploads/{item[1]}", {})
        finally:
            connection.close()
        assert reply.status == 200, str(reply)
        return sha256(reply.content), reply.headers["x-pactmock-sha256"]

    with ThreadPoolExecutor(8) as pool:
        return dict(zip(wanted, pool.map(read, wanted), strict=True))


def test_concurrent_uploads_to_presigned_urls_read_back_byte_for_byte_and_the_last_of_a_shared_key_wins(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url)
    set_up_state(mock, f"job {SHARED_JOB} exists")

    cpu = time.process_time()
    clients, wall = run_clients(CLIENTS, lambda index, start: upload_everywhere(mock.url, index, start))
    cpu = time.process_time() - cpu
    report(f"{backend(database_url)} uploads", sum(c.requests for c in clients), wall, cpu)

    expected = {(c.job, key): digest for c in clients for key, digest in c.own.items()}
    assert len(expected) == CLIENTS * (2 + RUNS_PER_UPLOADER)
    assert contiguous_from(FIRST_JOB_ID + 1, [c.job for c in clients]) == []
    assert contiguous_from(FIRST_RUN_ID, [run for c in clients for run in c.runs]) == []

    # Read back through the control plane: the bytes of each key are the ones uploaded to it.
    shared = [(SHARED_JOB, key) for key in SHARED_KEYS]
    got = read_back(mock.url, [*expected, *shared])
    wrong = {item: got[item] for item in expected if got[item] != (expected[item], expected[item])}
    assert wrong == {}, f"{len(wrong)} uploads read back other bytes, e.g. {list(wrong.items())[:5]}"

    # A key every client wrote to holds the bytes of one of those uploads, whole, and of the last one: no upload
    # to it was sent after the stored one had been acknowledged.
    puts: dict[str, list[Put]] = defaultdict(list)
    for client in clients:
        for p in client.shared:
            puts[p.key].append(p)
    for key in SHARED_KEYS:
        body_digest, header_digest = got[(SHARED_JOB, key)]
        assert body_digest == header_digest, key
        [stored] = [p for p in puts[key] if p.sha256 == body_digest] or [None]
        assert stored is not None, f"job {SHARED_JOB} {key} holds bytes no client uploaded to it"
        later = [p for p in puts[key] if p.sent_at > stored.answered_at]
        assert later == [], f"{key}: {len(later)} uploads sent after the stored one was acknowledged were lost"

    # The database itself: one row per key, its sha256 column is the digest of its data, and they are the bytes sent.
    rows = query(database_url, "SELECT job_id, key, size, sha256, data FROM uploads")
    stored_rows = {(row.job_id, row.key): (row.sha256, sha256(bytes(row.data))) for row in rows}
    assert len(stored_rows) == len(rows), "a key is stored twice"
    assert all(row.size == len(bytes(row.data)) for row in rows), "a stored size is not the length of its data"
    expected_rows = {
        **{item: (digest, digest) for item, digest in expected.items()},
        **{item: (got[item][0], got[item][0]) for item in shared},
    }
    assert stored_rows == expected_rows
