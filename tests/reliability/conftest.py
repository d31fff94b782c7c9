"""The real server (`pactmock serve --workers 2`, granian) on a real port, and what the reliability tests
need around it: keep-alive client connections, the Epistemix request shapes, and a direct look into the database.

`database_url` (a fresh SQLite file, or a fresh migrated PostgreSQL database) is the integration tests' fixture.
"""

from __future__ import annotations

import http.client
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text

from app.settings import database_url as normalised_url
from tests.integration.conftest import RunningMock, database_url, run_mock, start_mock, stop_mock  # noqa: F401
from tests.support.epx import EPX_HEADERS, OCTET_STREAM  # noqa: F401 (re-exported to the tests here)
from tests.support.epx import run_request as epx_run_request

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
# Several worker processes share the database: what a multi-core deployment runs.
WORKERS = 2

FIRST_JOB_ID = 123
FIRST_RUN_ID = 978


def start_server(tmp_path: Path, args: tuple[str, ...], **env: str) -> RunningMock:
    """The integration tests' start_mock on the repository's pacts, with CLI arguments."""
    return start_mock(PACT_DIR, tmp_path, *args, **env)


def assert_clean_log(mock: RunningMock) -> None:
    """No traceback, no handler answer that broke its contract, no server error (a worker killed or crashed)."""
    log = mock.log()
    assert "Traceback" not in log, log[-8000:]
    assert "breaks the contract" not in log, log[-8000:]
    # granian's lines and the app's share one format (app/server.py): " ERROR "; "[ERROR]" is granian's default.
    marks = ("[ERROR]", "[CRITICAL]", " ERROR ", " CRITICAL ")
    errors = [line for line in log.splitlines() if any(mark in line for mark in marks)]
    assert errors == [], "\n".join(errors[:20])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., RunningMock]]:
    """Start `pactmock serve --workers 2` on a database; stopped (if still running) and its log checked afterwards."""
    started: list[RunningMock] = []

    def start(database: str, *args: str, **env: str) -> RunningMock:
        mock = start_server(tmp_path, ("--workers", str(WORKERS), *args), DATABASE_URL=database, **env)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        stop_mock(mock)
    for mock in started:
        assert_clean_log(mock)


@dataclass
class Reply:
    method: str
    target: str
    status: int
    headers: Message
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    def __str__(self) -> str:
        return f"{self.method} {self.target} -> {self.status} {self.content[:800].decode('utf-8', 'replace')}"


class Connection:
    """One keep-alive HTTP/1.1 connection, used by one client thread at a time.

    After an error the socket is dropped, and the next request opens a new one.
    """

    def __init__(self, url: str, timeout: float = 60) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def send(self, method: str, target: str, headers: dict[str, str], body: bytes | None = None) -> Reply:
        try:
            self.connection.request(method, target, body=body, headers=headers)
            response = self.connection.getresponse()
            return Reply(method, target, response.status, response.headers, response.read())
        except BaseException:
            self.connection.close()
            raise

    def epx(self, method: str, target: str, payload: Any = None) -> Reply:
        return self.send(method, target, EPX_HEADERS, None if payload is None else json.dumps(payload).encode())

    def close(self) -> None:
        self.connection.close()


def run_request(job_id: int, tag: str) -> dict[str, Any]:
    """What `epx` submits for a small simulation; `tag` (the working directory) names the request."""
    return epx_run_request(job_id, workingDir=f"/home/epx/{tag}")


def set_up_state(mock: RunningMock, name: str) -> None:
    reply = requests.post(mock.url + "/_mock/provider-states", json={"state": name, "action": "setup"}, timeout=30)
    assert reply.status_code == 200, reply.text


def query(url: str, sql: str) -> list[Any]:
    """Rows straight from the database the mock uses, not through the mock."""
    engine = create_engine(normalised_url(url))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)))
    finally:
        engine.dispose()


def as_json(value: Any) -> Any:
    """A JSON column as Python: PostgreSQL's driver decodes it, SQLite hands back the text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def compare_ids(name: str, expected: dict[int, Any], actual: dict[int, Any]) -> list[str]:
    """What differs between two {id: what} maps, in a few lines (empty when they are equal)."""
    missing = sorted(expected.keys() - actual.keys())
    extra = sorted(actual.keys() - expected.keys())
    changed = sorted(i for i in expected.keys() & actual.keys() if expected[i] != actual[i])
    lines = []
    if missing:
        lines.append(f"{name}: {len(missing)} missing, e.g. {missing[:10]}")
    if extra:
        lines.append(f"{name}: {len(extra)} not expected, e.g. {extra[:10]}")
    for i in changed[:10]:
        lines.append(f"{name} {i}: expected {expected[i]!r}, found {actual[i]!r}")
    return lines


def contiguous_from(first: int, ids: list[int]) -> list[str]:
    """Why `ids` are not exactly first, first + 1, ... with no repeat (empty when they are)."""
    problems = []
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        problems.append(f"ids handed out twice: {repeated[:10]}")
    wanted = set(range(first, first + len(set(ids))))
    if set(ids) != wanted:
        problems.append(
            f"not the range {first}..{first + len(set(ids)) - 1}: gaps {sorted(wanted - set(ids))[:10]}, "
            f"outside {sorted(set(ids) - wanted)[:10]}"
        )
    return problems
