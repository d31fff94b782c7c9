"""A generic item read is kept per worker and session until a write of items is announced (domain/cached.py):
every write, whoever makes it (a contract route, a provider state, a reset through the contract or the control
plane), must reach the next read through any worker of any server, on SQLite and PostgreSQL. Each server has
two workers, and every read is repeated, so each round's reads have kept the old item before it changes."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import requests

from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "examples" / "flow"
TASK = "/api/v1/tasks/task_000001"
HEADERS = {"Authorization": "Bearer test-kept", "Content-Type": "application/json"}
STATE = "a task task_000001 exists in state running"
# Moves the Flow machine allows, round and round: running -> preempting -> pending -> running.
NEXT = {"running": "preempting", "preempting": "pending", "pending": "running"}
ROUNDS = 12
READS = 6  # per round and server, before the write: enough for both workers to keep the item


def _pacts(tmp_path: Path) -> Path:
    folder = tmp_path / "pacts"
    folder.mkdir()
    for name in ("FlowUI-Flow.json", "FlowUI-Flow.model.yaml"):
        shutil.copy(FLOW / name, folder / name)
    return folder


def _status(server: RunningMock, session: str | None = None) -> str | None:
    headers = dict(HEADERS, **({"X-Pactmock-Session": session} if session else {}))
    answer = requests.get(server.url + TASK, headers=headers, timeout=10)
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def _ok(answer: requests.Response) -> None:
    assert answer.status_code in (200, 201), answer.text


def _set_up(server: RunningMock, session: str | None = None) -> None:
    headers = {"X-Pactmock-Session": session} if session else {}
    body = {"state": STATE, "action": "setup"}
    _ok(requests.post(server.url + "/_mock/provider-states", json=body, headers=headers, timeout=10))


def test_every_write_reaches_the_next_read_through_any_server_and_worker(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    folder = _pacts(tmp_path)
    one = run_mock(folder, DATABASE_URL=database_url)
    two = run_mock(folder, DATABASE_URL=database_url)
    _set_up(one)
    expected: str | None = "running"

    for n in range(ROUNDS):
        changer, reader = (one, two) if n % 2 == 0 else (two, one)
        for _ in range(READS):
            assert (_status(reader), _status(changer)) == (expected, expected), f"round {n} before the write"
        kind = n % 4
        if kind in (0, 1):
            assert expected is not None
            expected = NEXT[expected]
            moved = requests.post(
                changer.url + "/api/v1/demo/transition_task/task_000001",
                json={"status": expected},
                headers=HEADERS,
                timeout=10,
            )
            _ok(moved)
        elif kind == 2:
            # The contract's own reset (a model action, not the control plane): back to the start, no task.
            _ok(requests.post(changer.url + "/api/v1/demo/reset", headers=HEADERS, timeout=10))
            expected = None
        else:
            _ok(requests.post(changer.url + "/_mock/reset", timeout=10))
            expected = None
        assert _status(reader) == expected, f"round {n}: {reader.url} answered a kept read after the write"
        if expected is None:
            for _ in range(READS):
                assert _status(reader) is None
            _set_up(changer)  # through the control plane's provider states
            expected = "running"
            assert _status(reader) == expected, f"round {n}: the provider state's item did not reach {reader.url}"


def test_a_kept_read_answers_its_own_session_only(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    folder = _pacts(tmp_path)
    one = run_mock(folder, DATABASE_URL=database_url)
    two = run_mock(folder, DATABASE_URL=database_url)
    _set_up(one, "kept-a")
    for _ in range(READS):
        assert (_status(two, "kept-a"), _status(two), _status(two, "kept-b")) == ("running", None, None)
    moved = requests.post(
        one.url + "/api/v1/demo/transition_task/task_000001",
        json={"status": "preempting"},
        headers=dict(HEADERS, **{"X-Pactmock-Session": "kept-a"}),
        timeout=10,
    )
    _ok(moved)
    assert (_status(two, "kept-a"), _status(two)) == ("preempting", None)


def test_a_generated_page_follows_every_change_of_its_count_through_the_other_server(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "osmo"
    shutil.copytree(ROOT / "examples" / "osmo", folder)
    one = run_mock(folder, DATABASE_URL=database_url)
    two = run_mock(folder, DATABASE_URL=database_url)
    auth = {"Authorization": "Bearer test-osmo-ui"}

    def total(server: RunningMock) -> int:
        page = requests.get(server.url + "/api/workflow?offset=0&limit=20", headers=auth, timeout=10)
        assert page.status_code == 200, page.text
        return int(page.json()["total"])

    for n, count in enumerate((1_000_000, 500, 2_000_000, 40)):
        changer, reader = (one, two) if n % 2 == 0 else (two, one)
        before = total(reader)
        for _ in range(READS):
            assert total(reader) == before  # kept by both of the reader's workers
        changed = requests.put(changer.url + "/_mock/resources/OSMO/workflows", json={"count": count}, timeout=10)
        assert changed.status_code == 200, changed.text
        assert total(reader) == count, f"round {n}: {reader.url} answered a kept page"
    _ok(requests.post(one.url + "/_mock/reset", timeout=10))
    assert total(two) == 10_000  # the model file's count again


def _create_body() -> dict[str, object]:
    """The request body of the pact's create interaction."""
    pact = json.loads((FLOW / "FlowUI-Flow.json").read_text(encoding="utf-8"))
    for interaction in pact["interactions"]:
        if interaction["request"]["method"] == "POST" and interaction["request"]["path"] == "/api/v1/tasks":
            return dict(interaction["request"]["body"]["content"])
    raise LookupError("no create interaction in the Flow pact")


def test_writes_reach_kept_reads_of_a_server_on_another_host(
    run_mock: Callable[..., RunningMock], postgres_url_for_comparison: str, tmp_path: Path
) -> None:
    """Servers on two hosts share the database but not the stamp file (each its own TMPDIR): every write, a
    burst of creates included, reaches the other server through the NOTIFY its notifier sends afterwards."""
    folder = _pacts(tmp_path)
    hosts = [tmp_path / "host-one", tmp_path / "host-two"]
    for host in hosts:
        host.mkdir()
    one, two = (run_mock(folder, DATABASE_URL=postgres_url_for_comparison, TMPDIR=str(host)) for host in hosts)
    _set_up(one)
    body = _create_body()
    expected = "running"

    def seen(server: RunningMock, ids: set[str]) -> tuple[str | None, set[str]]:
        found = set()
        for task_id in ids:
            answer = requests.get(f"{server.url}/api/v1/tasks/{task_id}", headers=HEADERS, timeout=10)
            if answer.status_code == 200:
                found.add(task_id)
        return _status(server), found

    for n in range(4):
        changer, reader = (one, two) if n % 2 == 0 else (two, one)
        for _ in range(READS):
            assert _status(reader) == expected  # kept by both of the reader's workers
        expected = NEXT[expected]
        _ok(
            requests.post(
                changer.url + "/api/v1/demo/transition_task/task_000001",
                json={"status": expected},
                headers=HEADERS,
                timeout=10,
            )
        )
        created = set()
        for _ in range(8):
            answer = requests.post(changer.url + "/api/v1/tasks", json=body, headers=HEADERS, timeout=10)
            _ok(answer)
            created.add(str(answer.json()["id"]))
        deadline = time.monotonic() + 5
        while seen(reader, created) != (expected, created) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen(reader, created) == (expected, created), f"round {n}: {reader.url} answered kept reads"
