"""Issue 20: the processes of `pactmock serve --workers 2` under blows, and a large answer nobody reads, on a
fresh SQLite file and a fresh PostgreSQL database.

- SIGKILL of one worker under load: the supervisor stays, a new worker takes its place, the other one serves
  meanwhile, and every run acknowledged is stored. Only requests whose connection was on the killed worker fail,
  at the connection.
- SIGKILL of the supervisor (the `pactmock serve` process): the workers exit with it and free the port.
- A 10 MB upload read back by 50 clients that never read: the answer is streamed, so the workers hold a few
  chunks per client, not the upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import RunningMock, free_port, stop_mock

from .conftest import (
    FIRST_JOB_ID,
    OCTET_STREAM,
    PACT_DIR,
    WORKERS,
    Connection,
    as_json,
    compare_ids,
    query,
    set_up_state,
    start_server,
)
from .slow_peers import (
    address_of,
    alive,
    child_pids,
    close_all,
    collect,
    connect_many,
    request_head,
    send_to_all,
    untouched,
    wait_until,
    workers_rss,
)
from .test_shutdown import Load

MB = 1024 * 1024
# granian says so when a worker dies; it is the one ERROR line a killed worker may leave.
WORKER_DEATH = "Unexpected exit from worker"
LOG_MARKS = ("[ERROR]", "[CRITICAL]", " ERROR ", " CRITICAL ", "Traceback")


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[Callable[..., RunningMock]]:
    """`pactmock serve --workers 2` like the `serve` fixture, whose log may also report a killed worker."""
    started: list[RunningMock] = []

    def start(database: str, **env: str) -> RunningMock:
        mock = start_server(tmp_path, ("--workers", str(WORKERS)), DATABASE_URL=database, **env)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        stop_mock(mock)
    for mock in started:
        lines = mock.log().splitlines()
        unexpected = [line for line in lines if any(m in line for m in LOG_MARKS) and WORKER_DEATH not in line]
        assert unexpected == [], "\n".join(unexpected[:20])


ACKNOWLEDGED_BEFORE_KILL = 200
ACKNOWLEDGED_AFTER_KILL = 300


def test_a_worker_killed_under_load_is_replaced_and_every_acknowledged_run_is_stored(
    supervised: Callable[..., RunningMock], database_url: str
) -> None:
    mock = supervised(database_url)
    set_up_state(mock, f"job {FIRST_JOB_ID} exists")
    main = mock.process.pid

    with Load(mock.url) as load:
        assert wait_until(lambda: load.acknowledged >= ACKNOWLEDGED_BEFORE_KILL, 120), "the load did not start"
        victim = child_pids(main)[0]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        replaced = wait_until(
            lambda: (
                len([p for p in child_pids(main) if p != victim and alive(p)]) == WORKERS
                or mock.process.poll() is not None
            ),
            30,
        )
        respawned_after = time.monotonic() - killed_at
        wanted = ACKNOWLEDGED_BEFORE_KILL + ACKNOWLEDGED_AFTER_KILL
        went_on = wait_until(lambda: load.acknowledged >= wanted or mock.process.poll() is not None, 60)
        assert mock.process.poll() is None, f"pactmock serve exited with {mock.process.returncode}:\n{mock.log()}"
    assert replaced, f"no new worker within 30 s: children {child_pids(main)}\n{mock.log()[-3000:]}"
    assert went_on, f"only {load.acknowledged} runs acknowledged in all:\n{mock.log()[-3000:]}"
    assert WORKER_DEATH in mock.log()  # said at ERROR, so whoever reads the log knows

    outcomes = load.outcomes
    answered_again = min(o.ended_at for o in outcomes if o.run_id is not None and o.sent_at > killed_at)
    failed = [o for o in outcomes if o.clean_failure is not None]
    print(
        f"\nworker {victim} killed: another worker answered {1000 * (answered_again - killed_at):.0f} ms later, "
        f"a new one was up after {respawned_after:.1f} s; {len(outcomes)} requests, {load.acknowledged} "
        f"acknowledged, {len(failed)} failed at the connection"
    )
    bad = [o for o in outcomes if o.bad is not None]
    assert bad == [], f"{len(bad)} requests neither answered 200 nor failed at the connection: {bad[:5]}"
    # What may fail: requests caught by the kill (in flight on the killed worker's connections, or sent in the
    # moment it was being torn down). Never one before the kill, and never one after the client was answered
    # again: from then on the server is whole.
    early = [o for o in failed if o.ended_at < killed_at]
    assert early == [], f"requests failed before any worker was killed: {early[:5]}"
    answered_again_at: dict[str, float] = {}  # client -> when it was first answered after the kill
    for o in sorted(outcomes, key=lambda o: o.ended_at):
        if o.run_id is not None and o.sent_at > killed_at:
            answered_again_at.setdefault(o.tag.split("/")[0], o.ended_at)
    late = [o for o in failed if o.sent_at > answered_again_at.get(o.tag.split("/")[0], float("inf"))]
    assert late == [], f"requests failed after their client was answered again: {late[:5]}"

    acknowledged = {o.run_id: (FIRST_JOB_ID, f"/home/epx/{o.tag}") for o in outcomes if o.run_id is not None}
    stored = {
        row.id: (row.job_id, as_json(row.request)["workingDir"])
        for row in query(database_url, "SELECT id, job_id, request FROM runs")
    }
    # Every acknowledged run is stored; a stored run nobody was told about can only be a failed request's.
    assert compare_ids("run", acknowledged, {i: stored[i] for i in stored if i in acknowledged}) == []
    unacknowledged = {tag for i, (_, tag) in stored.items() if i not in acknowledged}
    assert unacknowledged <= {f"/home/epx/{o.tag}" for o in failed}, unacknowledged


def port_is_free(port: int) -> bool:
    """Nobody accepts on it, and a new server could listen on it."""
    with contextlib.suppress(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def serving_workers(mock: RunningMock) -> int:
    """How many workers have said they serve (granian logs it once each has loaded the app)."""
    return len(re.findall(r"Started worker-\d+$", mock.log(), re.MULTILINE))


def assert_workers_exit_with_the_supervisor(process: subprocess.Popen[bytes], workers: list[int], url: str) -> None:
    """SIGKILL the supervisor: its workers must be gone within a few seconds and the port free again."""
    port = address_of(url)[1]
    try:
        process.kill()
        process.wait(timeout=10)
        exited = wait_until(lambda: not any(alive(pid) for pid in workers), 10)
        orphans = [pid for pid in workers if alive(pid)]
        serving = requests.get(url + "/health", timeout=5).status_code if orphans else None
        assert exited, f"workers {orphans} still running 10 s after the supervisor was killed (/health: {serving})"
        assert wait_until(lambda: port_is_free(port), 10), f"port {port} still taken"
    finally:
        for pid in workers:  # orphans left by a server that does not clean up after itself
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_the_workers_exit_and_free_the_port_when_the_supervisor_is_killed(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url)
    assert wait_until(lambda: serving_workers(mock) == WORKERS, 30), mock.log()
    workers = child_pids(mock.process.pid)
    assert len(workers) == WORKERS, workers
    assert_workers_exit_with_the_supervisor(mock.process, workers, mock.url)


def test_workers_still_loading_the_app_exit_too_when_the_supervisor_is_killed(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    environment = {
        **os.environ,
        "PACT_DIR": str(PACT_DIR),
        "FLASK_HOST": "127.0.0.1",
        "FLASK_PORT": str(port),
        "DATABASE_URL": database_url,
    }
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--workers", str(WORKERS)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # The moment both workers exist, before either can have loaded the app (that takes a few hundred ms).
        forked = wait_until(lambda: len(child_pids(process.pid)) == WORKERS, 30, interval=0.005)
        workers = child_pids(process.pid)
        assert forked, f"no {WORKERS} workers within 30 s: {workers}"
        assert_workers_exit_with_the_supervisor(process, workers, f"http://127.0.0.1:{port}")
    finally:
        process.kill()
        process.wait(timeout=10)


UPLOAD_BYTES = 10 * MB
READERS = 50
MEMORY_BOUND = 200 * MB  # far under the 500 MB that 50 whole copies of the upload would hold
# Memory is settled when it moved less than this over SETTLED_SAMPLES samples half a second apart.
SETTLED_BYTES = 5 * MB
SETTLED_SAMPLES = 6


def settled_rss(main: int, ceiling: int, seconds: float = 60) -> int:
    """The workers' memory once it stops moving (the answers are as far as the readers let them go), or as soon
    as it passes `ceiling`: the highest seen. Pulling 50 answers a chunk at a time takes seconds."""
    samples = [workers_rss(main)]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and max(samples) < ceiling:
        time.sleep(0.5)
        samples.append(workers_rss(main))
        recent = samples[-SETTLED_SAMPLES:]
        if len(recent) == SETTLED_SAMPLES and max(recent) - min(recent) < SETTLED_BYTES:
            break
    return max(samples)


def test_a_10_mb_download_nobody_reads_is_streamed_not_held_50_times(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url, PACTMOCK_MAX_UPLOAD_BYTES=str(2 * UPLOAD_BYTES))
    set_up_state(mock, f"job {FIRST_JOB_ID} exists")
    data = os.urandom(UPLOAD_BYTES)
    connection = Connection(mock.url)
    stored = connection.send("PUT", f"/s3/uploads/{FIRST_JOB_ID}/job_input", OCTET_STREAM, data)
    assert stored.status == 200, str(stored)
    main = mock.process.pid
    before = workers_rss(main)

    # Small receive windows, so what the kernel buffers for them stays small too: the server holds the rest.
    readers = connect_many(address_of(mock.url), READERS, receive_buffer=16 * 1024)
    try:
        send_to_all(readers, request_head("GET", f"/_mock/jobs/{FIRST_JOB_ID}/uploads/job_input", {}))
        assert wait_until(lambda: untouched(readers) == 0, 60), "not every reader got the start of its answer"
        highest = settled_rss(main, before + MEMORY_BOUND)
        print(
            f"\n{READERS} readers of a {UPLOAD_BYTES // MB} MB upload that do not read: "
            f"workers' RSS {before / MB:.0f} MB -> {highest / MB:.0f} MB"
        )
        assert highest - before < MEMORY_BOUND, f"workers' memory grew {(highest - before) / MB:.0f} MB"

        health = connection.send("GET", "/health", {})
        assert health.status == 200, str(health)
        # And a reader that does read gets the upload whole.
        [whole] = collect(readers[:1], 60, until_closed=False)
        assert whole.status == 200 and whole.complete(), str(whole)
        assert hashlib.sha256(whole.body).hexdigest() == hashlib.sha256(data).hexdigest()
    finally:
        close_all(readers)
        connection.close()
        # Stopped here, while its database still exists: answers abandoned by the readers may still be pulling
        # a chunk, and the fixtures drop the database before they stop the server.
        stop_mock(mock)
