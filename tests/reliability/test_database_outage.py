"""PostgreSQL cut off under load: 503 with Retry-After (never a hang or a traceback), /health says the
database is down, and the mock recovers by itself with every acknowledged write still there.

A small TCP proxy of the test's own sits between the mock and PostgreSQL; the shared cluster itself
is never stopped.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.settings import database_url as with_driver
from tests.integration.conftest import migrated_postgres_database, start_mock, stop_mock
from tests.support.epx import EPX_HEADERS, run_request

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
HEADERS = EPX_HEADERS
RUN = run_request(123)
# No request may take longer than this, outage or not.
REQUEST_BOUND_SECONDS = 15


class CuttableProxy:
    """Forwards TCP to PostgreSQL until cut: then resets every connection and resets new ones at once."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        # Blackholed: connections stay open and accepted, but nothing sent either way arrives.
        self.silent = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                _reset(client)
                continue
            if self.silent.is_set():
                with self._lock:
                    self._sockets.append(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.silent.is_set():
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _reset(sock)

    def blackhole(self) -> None:
        self.silent.set()

    def restore(self) -> None:
        self.silent.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:  # what was swallowed left those connections out of step: end them
            _reset(sock)
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _reset(sock: socket.socket) -> None:
    # SO_LINGER 0: close with RST, as a killed server looks to the client. shutdown() first: a plain
    # close() leaves the connection open while a pipe thread is still blocked in recv() on it.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


@pytest.fixture
def proxied_mock(tmp_path: Path) -> Iterator[tuple[object, CuttableProxy, str]]:
    with migrated_postgres_database() as direct_url:
        direct = make_url(direct_url)
        proxy = CuttableProxy((direct.host or "127.0.0.1", direct.port or 5432))
        proxied_url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        mock = start_mock(PACT_DIR, tmp_path, DATABASE_URL=proxied_url, DATABASE_POOL_TIMEOUT="5")
        try:
            yield mock, proxy, direct_url
        finally:
            stop_mock(mock)
            proxy.close()


def stored_ids(direct_url: str, table: str) -> set[int]:
    engine = create_engine(with_driver(direct_url))
    try:
        with engine.connect() as connection:
            return set(connection.execute(text(f"SELECT id FROM {table}")).scalars())
    finally:
        engine.dispose()


def register_until_answered(base: str, tag: str) -> requests.Response:
    """After a restore: registers a job until one is answered 200 (or 30 s pass); the last reply."""
    deadline = time.monotonic() + 30
    while True:
        reply = requests.post(f"{base}/jobs/register", json={"tags": [tag]}, headers=HEADERS, timeout=15)
        if reply.status_code == 200 or time.monotonic() > deadline:
            return reply
        time.sleep(0.5)


def test_outage_gives_503_with_retry_after_and_recovers_without_losing_acknowledged_runs(proxied_mock) -> None:
    mock, proxy, direct_url = proxied_mock
    base = mock.url  # type: ignore[attr-defined]
    assert requests.post(f"{base}/_mock/provider-states", json={"state": "job 123 exists"}, timeout=10).ok

    acknowledged: list[int] = []
    statuses: list[int] = []
    slowest = [0.0]
    bad: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    reply = session.post(
                        f"{base}/runs", json={"runRequests": [RUN]}, headers=HEADERS, timeout=REQUEST_BOUND_SECONDS
                    )
                except requests.RequestException as exc:
                    with lock:
                        bad.append(f"no answer within {REQUEST_BOUND_SECONDS} s: {exc!r}")
                    continue
                elapsed = time.monotonic() - started
                with lock:
                    slowest[0] = max(slowest[0], elapsed)
                    statuses.append(reply.status_code)
                    if reply.status_code == 200:
                        acknowledged.append(reply.json()["runResponses"][0]["runId"])
                    elif reply.status_code == 503:
                        problem = reply.json()
                        if (
                            reply.headers.get("Content-Type") != "application/problem+json"
                            or not reply.headers.get("Retry-After", "").isdigit()
                        ):
                            bad.append(f"503 without problem+json and Retry-After: {reply.headers} {problem}")
                    else:
                        bad.append(f"unexpected {reply.status_code}: {reply.text[:300]}")
                if reply.status_code == 503:
                    time.sleep(0.2)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    before_cut = len(acknowledged)
    proxy.cut()
    time.sleep(1)
    health = requests.get(f"{base}/health", timeout=REQUEST_BOUND_SECONDS)
    assert health.status_code == 503
    assert health.json()["database"]["status"] == "down"
    time.sleep(3)
    during_outage = statuses.count(503)
    proxy.restore()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and requests.get(f"{base}/health", timeout=10).status_code != 200:
        time.sleep(0.5)
    assert requests.get(f"{base}/health", timeout=10).json()["database"]["status"] == "up"
    recovered_from = len(acknowledged)
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join(timeout=REQUEST_BOUND_SECONDS + 5)

    assert not bad, (bad[:5], mock.log()[-6000:])  # type: ignore[attr-defined]
    assert before_cut > 0, "no run was acknowledged before the cut"
    assert during_outage > 0, "no request saw the outage"
    assert len(acknowledged) > recovered_from, "no run was acknowledged after PostgreSQL came back"
    assert slowest[0] < REQUEST_BOUND_SECONDS
    assert len(set(acknowledged)) == len(acknowledged)
    missing = set(acknowledged) - stored_ids(direct_url, "runs")
    assert not missing, f"acknowledged runs missing after the outage: {sorted(missing)[:10]}"
    log = mock.log()  # type: ignore[attr-defined]
    assert "Traceback" not in log, log[-3000:]
    print(json.dumps({"acknowledged": len(acknowledged), "503s": statuses.count(503), "slowest_s": slowest[0]}))


def test_a_database_that_refuses_connections_from_the_start_gives_503_not_500(proxied_mock) -> None:
    mock, proxy, _ = proxied_mock
    base = mock.url  # type: ignore[attr-defined]
    proxy.cut()
    started = time.monotonic()
    reply = requests.post(f"{base}/jobs/register", json={"tags": ["a"]}, headers=HEADERS, timeout=REQUEST_BOUND_SECONDS)
    assert time.monotonic() - started < REQUEST_BOUND_SECONDS
    assert reply.status_code == 503
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.headers["Retry-After"] == "2"
    state = requests.post(f"{base}/_mock/provider-states", json={"state": "job 5 exists"}, timeout=15)
    assert state.status_code == 503
    proxy.restore()
    reply = register_until_answered(base, "a")
    assert reply.status_code == 200
    assert reply.json()["id"] == 123  # the refused attempts took no id


def test_a_database_that_stops_answering_gives_503_within_the_bound_and_recovers(proxied_mock) -> None:
    """Connections stay open and acknowledged, nothing comes back: keepalives cannot see it, only a bound can."""
    mock, proxy, direct_url = proxied_mock
    base = mock.url  # type: ignore[attr-defined]
    # Each worker process gets pooled connections that are open when the database goes silent.
    acknowledged = []
    for _ in range(20):
        reply = requests.post(f"{base}/jobs/register", json={"tags": ["a"]}, headers=HEADERS, timeout=15)
        assert reply.status_code == 200
        acknowledged.append(reply.json()["id"])
    proxy.blackhole()
    for tag in "bcde":
        started = time.monotonic()
        reply = requests.post(
            f"{base}/jobs/register", json={"tags": [tag]}, headers=HEADERS, timeout=REQUEST_BOUND_SECONDS + 5
        )
        assert time.monotonic() - started < REQUEST_BOUND_SECONDS, reply.text
        assert reply.status_code == 503, reply.text
        assert reply.headers["Content-Type"] == "application/problem+json"
        assert reply.headers["Retry-After"] == "2"
    health = requests.get(f"{base}/health", timeout=REQUEST_BOUND_SECONDS + 5)
    assert health.status_code == 503
    proxy.restore()
    reply = register_until_answered(base, "d")
    assert reply.status_code == 200, reply.text
    assert set(acknowledged) <= stored_ids(direct_url, "jobs")
    assert "Traceback" not in mock.log()  # type: ignore[attr-defined]
