"""Issue 20: peers that hold connections without finishing a request, and a path built to cost memory, against
`pactmock serve --workers 2` on a fresh SQLite file and a fresh PostgreSQL database.

A slow or idle peer must cost the server a little memory and nothing else: normal requests are answered
meanwhile (each within a socket timeout of a few seconds, a hang being the failure; beside idle connections
within issue 20's bound of 1 s), and the server cuts the peer off at its deadline (PACTMOCK_BODY_TIMEOUT_SECONDS
for a body, PACTMOCK_IDLE_TIMEOUT_SECONDS for a request head or an idle keep-alive connection).

`pytest -s` prints the figures: normal-request p50/p99 under each load, worker memory before and after.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.integration.conftest import RunningMock

from .slow_peers import (
    Answer,
    Trickle,
    address_of,
    child_pids,
    close_all,
    collect,
    connect_many,
    epx_head,
    exchange,
    normal_traffic,
    request_head,
    rss_bytes,
    send_to_all,
    untouched,
    workers_rss,
)

MB = 1024 * 1024
SLOW_PEERS = 64
NORMAL_REQUESTS = 200
# The server's body deadline and idle timeout in these tests: long enough for the normal traffic to run while
# the slow peers are still connected, short enough to wait for.
DEADLINE_SECONDS = 6
# How long after its deadline a peer may still be connected: the server sweeps deadlines about once a second.
CUT_OFF_WITHIN = DEADLINE_SECONDS + 10


def problem_of(answer: Answer) -> dict[str, object]:
    assert answer.headers.get("content-type") == "application/problem+json", str(answer)
    problem = json.loads(answer.body)
    assert isinstance(problem, dict) and problem["status"] == answer.status, str(answer)
    return problem


def test_slow_bodies_and_slow_heads_hold_no_thread_and_are_cut_off_at_their_deadlines(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(
        database_url,
        PACTMOCK_BODY_TIMEOUT_SECONDS=str(DEADLINE_SECONDS),
        PACTMOCK_IDLE_TIMEOUT_SECONDS=str(DEADLINE_SECONDS),
    )
    address = address_of(mock.url)
    # A megabyte announced, a few bytes sent: under WSGI each of these held a worker thread for as long as
    # the peer stayed connected.
    bodies = connect_many(address, SLOW_PEERS)
    heads = connect_many(address, SLOW_PEERS)
    try:
        send_to_all(bodies, epx_head("POST", "/jobs/register", **{"Content-Length": str(MB)}) + b'{"tags": ["sl')
        # A request line a byte at a time, never finished within the deadline.
        with Trickle(heads, b"POST /jobs/register HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000):
            traffic = normal_traffic(mock.url, NORMAL_REQUESTS)
            print(f"\nnormal traffic beside {SLOW_PEERS} slow bodies and {SLOW_PEERS} slow heads: {traffic.summary()}")
            assert traffic.failures == [], f"{len(traffic.failures)} normal requests failed: {traffic.failures[:5]}"
            # The slow peers were still waiting all along: the traffic above really ran beside them.
            assert (untouched(bodies), untouched(heads)) == (SLOW_PEERS, SLOW_PEERS), (
                "a slow peer was answered before the normal traffic ended; raise DEADLINE_SECONDS"
            )
            answers = collect(bodies + heads, CUT_OFF_WITHIN)
    finally:
        close_all(bodies + heads)

    body_answers, head_answers = answers[:SLOW_PEERS], answers[SLOW_PEERS:]
    not_cut = [str(a) for a in body_answers if not (a.closed and a.status == 408)]
    assert not_cut == [], f"{len(not_cut)} slow bodies not answered 408 and closed: {not_cut[:3]}"
    for answer in body_answers:
        assert answer.headers.get("connection") == "close", str(answer)
        problem = problem_of(answer)
        assert str(problem["type"]).endswith("/body-timeout"), problem
        assert "PACTMOCK_BODY_TIMEOUT_SECONDS" in str(problem["detail"]), problem
    # A head that never ends gets no answer worth reading, only the end of its connection.
    not_closed = [str(a) for a in head_answers if not a.closed or (a.status is not None and a.status < 400)]
    assert not_closed == [], f"{len(not_closed)} slow heads not closed: {not_closed[:3]}"


IDLE_CONNECTIONS = 2000
IDLE_TIMEOUT_SECONDS = 8
# Issue 20's bound: idle connections may not delay a normal request beyond this (the old server made every
# request past the 1,024th connection wait up to 30 s; here the slowest is tens of milliseconds).
NORMAL_DELAY_BOUND_SECONDS = 1.0


def test_2000_idle_connections_delay_no_normal_request_and_are_closed_after_the_idle_timeout(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url, PACTMOCK_IDLE_TIMEOUT_SECONDS=str(IDLE_TIMEOUT_SECONDS))
    address = address_of(mock.url)
    silent = connect_many(address, IDLE_CONNECTIONS // 2)
    kept = connect_many(address, IDLE_CONNECTIONS // 2)
    try:
        # Half of them ask once and then stay, idle, on keep-alive.
        send_to_all(kept, request_head("GET", "/health", {}))
        first = collect(kept, 20, until_closed=False)
        unanswered = [str(a) for a in first if not (a.complete() and a.status == 200)]
        assert unanswered == [], f"{len(unanswered)} of {len(kept)} requests not answered: {unanswered[:3]}"

        traffic = normal_traffic(mock.url, 40, clients=4)
        print(f"\nnormal traffic beside {IDLE_CONNECTIONS} idle connections: {traffic.summary()}")
        assert traffic.failures == [], f"{len(traffic.failures)} normal requests failed: {traffic.failures[:5]}"
        slowest = max(traffic.seconds)
        assert slowest < NORMAL_DELAY_BOUND_SECONDS, f"a normal request took {slowest:.2f} s: {traffic.summary()}"
        assert untouched(silent + kept) == IDLE_CONNECTIONS, (
            "an idle connection was closed before the normal traffic ended; raise IDLE_TIMEOUT_SECONDS"
        )

        ends = collect(silent + kept, IDLE_TIMEOUT_SECONDS + 10)
    finally:
        close_all(silent + kept)
    open_still = sum(not end.closed for end in ends)
    assert open_still == 0, f"{open_still} idle connections still open {IDLE_TIMEOUT_SECONDS + 10} s on"
    spoken = [str(end) for end in ends if end.data]
    assert spoken == [], f"an idle connection was sent something before being closed: {spoken[:3]}"


# A path of "/a" repeated to 60 KB: under granian's 64 KB request-line limit, so the app itself answers it.
LONG_PATH = "/a" * 30_000
LONG_PATH_REQUESTS = 8
MEMORY_BOUND = 100 * MB
# Each refusal is logged once at WARNING, with the path clipped.
LOG_BYTES_PER_REQUEST = 4096


def test_a_60_kb_path_of_slashes_gets_a_problem_and_costs_neither_memory_nor_log(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url)
    address = address_of(mock.url)
    for _ in range(4):  # both workers warmed up on ordinary requests first
        assert exchange(address, request_head("GET", "/health", {})).status == 200
    workers = child_pids(mock.process.pid)
    assert len(workers) == 2, workers
    resident = workers_rss(mock.process.pid)
    peak = sum(rss_bytes(pid, "VmHWM") for pid in workers)
    log_size = mock.log_path.stat().st_size

    head = request_head("PUT", LONG_PATH, {"Content-Type": "application/octet-stream", "Content-Length": "1"})
    for number in range(LONG_PATH_REQUESTS):
        answer = exchange(address, head + b"x", 60)
        assert answer.status in (404, 414), str(answer)
        problem_of(answer)
        # Checked after every request, so a server that amplifies stops the test before it eats the machine.
        grown = workers_rss(mock.process.pid) - resident
        assert grown < MEMORY_BOUND, f"worker memory grew {grown / MB:.0f} MB after {number + 1} long paths"

    peak_grown = sum(rss_bytes(pid, "VmHWM") for pid in workers) - peak
    log_grown = mock.log_path.stat().st_size - log_size
    print(
        f"\n{LONG_PATH_REQUESTS} long paths: workers' RSS {resident / MB:.0f} MB -> "
        f"{workers_rss(mock.process.pid) / MB:.0f} MB, peak grew {peak_grown / MB:.1f} MB; log grew {log_grown} bytes"
    )
    assert peak_grown < MEMORY_BOUND, f"worker peak memory grew {peak_grown / MB:.0f} MB"
    assert log_grown < LOG_BYTES_PER_REQUEST * LONG_PATH_REQUESTS, mock.log()[-3000:]
    assert exchange(address, request_head("GET", "/health", {})).status == 200
