"""Each journal record names its session (X-Pactmock-Session as the mock folds it, or "default"), and the journal,
its merged view and verify filter by it; on a real server (two workers) over SQLite and PostgreSQL, with the
stateful POST /jobs/register answered from each session's own store."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.epx import EPX_HEADERS
from tests.support.mock_process import RunningMock, start_mock, stop_mock

PACTS = Path(__file__).resolve().parents[2] / "pacts"
REGISTER = "/jobs/register"


def _pacts(tmp_path: Path) -> Path:
    folder = tmp_path / "pacts"
    folder.mkdir()
    shutil.copy(PACTS / "epx-epistemix.json", folder)
    return folder


@pytest.fixture(scope="module")
def one_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    """One server for every bad-input case."""
    folder = tmp_path_factory.mktemp("journal-sessions")
    mock = start_mock(_pacts(folder), folder)
    yield mock
    stop_mock(mock)


def _register(mock: RunningMock, session: str | None, tag: str) -> int:
    headers = {**EPX_HEADERS, **({"X-Pactmock-Session": session} if session else {})}
    reply = requests.post(mock.url + REGISTER, json={"tags": [tag]}, headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    return int(reply.json()["id"])


def _journal(mock: RunningMock, **filters: str) -> list[dict[str, Any]]:
    reply = requests.get(mock.url + "/_mock/journal", params=filters, timeout=10)
    assert reply.status_code == 200, reply.text
    records: list[dict[str, Any]] = reply.json()["requests"]
    return records


def _verify(mock: RunningMock, **expectation: Any) -> dict[str, Any]:
    reply = requests.post(mock.url + "/_mock/journal/verify", json={"method": "POST", **expectation}, timeout=10)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def test_records_name_their_session_and_the_journal_and_verify_filter_by_it(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(_pacts(tmp_path), DATABASE_URL=database_url)
    assert _register(mock, None, "plain") == 123
    # Each session has its own id counters: its first job is the contract's first id too.
    assert _register(mock, "Team-A", "a1") == 123  # folded to "team-a", as the mock names the session
    assert _register(mock, "team-a", "a2") == 124
    assert _register(mock, "b", "b1") == 123

    every = _journal(mock)
    assert sorted(r["session"] for r in every) == ["b", "default", "team-a", "team-a"]
    in_a = _journal(mock, session="TEAM-A")
    assert [r["body"] for r in in_a] == ['{"tags": ["a2"]}', '{"tags": ["a1"]}']
    assert [r["session"] for r in _journal(mock, session="default")] == ["default"]
    assert _journal(mock, session="nobody") == []
    merged = requests.get(mock.url + "/_mock/journal", params={"merged": "1", "session": "b"}, timeout=10).json()
    assert [(r["session"], r["body"]) for r in merged["requests"]] == [("b", '{"tags": ["b1"]}')]

    assert _verify(mock, path=REGISTER, times=4)["ok"] is True  # every session's
    assert _verify(mock, path=REGISTER, session="team-a", times=2)["ok"] is True
    assert _verify(mock, path=REGISTER, session="b", body={"tags": ["b1"]}, times=1)["ok"] is True
    failed = _verify(mock, path=REGISTER, session="b", body={"tags": ["a1"]})
    assert failed["ok"] is False and failed["onRoute"] == 1
    assert "in session 'b'" in failed["failure"] and "was received in session 'b' 1 time" in failed["failure"]


@pytest.mark.parametrize(
    ("call", "payload", "says"),
    [
        ("GET /_mock/journal?session=Not%20Valid", None, "session: a session name is"),
        ("GET /_mock/journal?session=", None, "session: a session name is"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "/x", "session": "no way"}, "session: a session name"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "/x", "session": 7}, "session must be a session's"),
    ],
)
def test_a_session_no_session_can_have_is_a_400_problem(
    one_mock: RunningMock, call: str, payload: Any, says: str
) -> None:
    mock = one_mock
    method, path = call.split(" ", 1)
    reply = requests.request(method, mock.url + path, json=payload, timeout=10)
    assert reply.status_code == 400, reply.text
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert says in reply.json()["detail"]
