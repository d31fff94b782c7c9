"""A generic read's answer is sent again to the same request while nothing it was made from has moved (web/replays.py):
a write of items, a control-plane change and the clock. One that read a live clock is never sent again: each read
is worked out at its own time. Each check repeats the request on a two-worker server, so both workers have
answered it, and would have kept it, before what it depends on moves. Writes reaching repeated reads are
test_kept_item_reads.py's."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
OSMO = ROOT / "examples" / "osmo"
AUTH = {"Authorization": "Bearer test-reused"}
RUNNING_PAGE = "/api/workflow?offset=0&limit=50&statuses=RUNNING"
READS = 6
TIMEOUT_SECONDS = 60


def _get(mock: RunningMock, path: str) -> requests.Response:
    answer = requests.get(mock.url + path, headers=AUTH, timeout=TIMEOUT_SECONDS)
    assert answer.status_code == 200, (path, answer.text)
    return answer


def _durations(mock: RunningMock, path: str) -> list[float]:
    return [float(_get(mock, path).json()["duration"]) for _ in range(READS)]


def _clock(mock: RunningMock, **change: Any) -> None:
    answer = requests.post(mock.url + "/_mock/clock", json=change, timeout=TIMEOUT_SECONDS)
    assert answer.status_code == 200, answer.text


def test_a_read_of_the_live_clock_is_worked_out_each_time_and_a_frozen_clocks_until_it_moves(
    database_url: str, run_mock: Callable[..., RunningMock]
) -> None:
    mock = run_mock(OSMO, DATABASE_URL=database_url)
    running = [w for w in _get(mock, RUNNING_PAGE).json()["workflows"] if w["start_time"] and not w["end_time"]]
    assert running, "the first page of running workflows holds one that has started"
    workflow = f"/api/workflow/{running[0]['name']}"

    # A running workflow's duration runs to now: a second later, every read says so.
    first = _durations(mock, workflow)
    time.sleep(1.2)
    later = _durations(mock, workflow)
    assert min(later) >= max(first) + 1.0, (first, later)

    # Frozen, the same request gets the same bytes; moved, it gets the new time's answer at once.
    _clock(mock, action="freeze", at="2026-06-01T12:00:00Z")
    frozen = {_get(mock, workflow).content for _ in range(READS)}
    assert len(frozen) == 1
    _clock(mock, action="advance", seconds=90)
    advanced = {_get(mock, workflow).content for _ in range(READS)}
    assert len(advanced) == 1 and advanced != frozen
