"""A generic read's answer is sent again to the same request while nothing it was made from has moved (web/replays.py):
a write of items, a control-plane change and the clock. One that read a live clock is worked out for every request;
one that read a clock moving in steps (`clock: {step: 1}`, as OSMO's model file has it) is sent again until its step
ends. Each check repeats the request on a two-worker server, so both workers have answered it, and would have kept
it, before what it depends on moves. Writes reaching repeated reads are test_kept_item_reads.py's."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any

import requests

from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
OSMO = ROOT / "examples" / "osmo"
MODEL = "OsmoUI-OSMO.model.yaml"
STEP = "clock: {step: 1}\n"
AUTH = {"Authorization": "Bearer test-reused"}
RUNNING_PAGE = "/api/workflow?offset=0&limit=50&statuses=RUNNING"
READS = 6
CLIENTS = 16
TIMEOUT_SECONDS = 60


def _get(mock: RunningMock, path: str) -> requests.Response:
    answer = requests.get(mock.url + path, headers=AUTH, timeout=TIMEOUT_SECONDS)
    assert answer.status_code == 200, (path, answer.text)
    return answer


def _duration(mock: RunningMock, path: str) -> float:
    return float(_get(mock, path).json()["duration"])


def _running_workflow(mock: RunningMock) -> str:
    running = [w for w in _get(mock, RUNNING_PAGE).json()["workflows"] if w["start_time"] and not w["end_time"]]
    assert running, "the first page of running workflows holds one that has started"
    return f"/api/workflow/{running[0]['name']}"


def _clock(mock: RunningMock, **change: Any) -> None:
    answer = requests.post(mock.url + "/_mock/clock", json=change, timeout=TIMEOUT_SECONDS)
    assert answer.status_code == 200, answer.text


def _without_step(tmp_path: Path) -> Path:
    folder = tmp_path / "osmo-live"
    shutil.copytree(OSMO, folder)
    model = folder / MODEL
    text = model.read_text(encoding="utf-8")
    assert STEP in text, f"{MODEL} no longer steps its clock; update this test"
    model.write_text(text.replace(STEP, ""), encoding="utf-8")
    return folder


def test_a_read_of_a_live_clock_is_worked_out_each_time_and_a_frozen_clocks_until_it_moves(
    database_url: str, run_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    mock = run_mock(_without_step(tmp_path), DATABASE_URL=database_url)
    workflow = _running_workflow(mock)

    # A running workflow's duration runs to now, in tenths of a second: half a second later, every read says so.
    first = [_duration(mock, workflow) for _ in range(READS)]
    time.sleep(0.5)
    later = [_duration(mock, workflow) for _ in range(READS)]
    assert min(later) >= max(first) + 0.3, (first, later)

    # Frozen, the same request gets the same bytes; moved, it gets the new time's answer at once.
    _clock(mock, action="freeze", at="2026-06-01T12:00:00Z")
    frozen = {_get(mock, workflow).content for _ in range(READS)}
    assert len(frozen) == 1
    _clock(mock, action="advance", seconds=90)
    advanced = {_get(mock, workflow).content for _ in range(READS)}
    assert len(advanced) == 1 and advanced != frozen


def test_a_clock_that_moves_in_steps_gives_each_step_its_own_answer(
    database_url: str, run_mock: Callable[..., RunningMock]
) -> None:
    mock = run_mock(OSMO, DATABASE_URL=database_url)
    workflow = _running_workflow(mock)
    durations = []
    for _ in range(14):
        durations.extend(_duration(mock, workflow) for _ in range(3))
        time.sleep(0.2)
    # Never back, and each new value a whole step (one second) on: the time seen moves a second at once. The reads
    # span more than two seconds, so no answer was sent again past the end of its step.
    assert durations == sorted(durations), durations
    seen = sorted(set(durations))
    assert len(seen) >= 2, durations
    assert all(round(later - earlier, 1) % 1 == 0 for earlier, later in pairwise(seen)), seen


def test_many_clients_reading_across_the_ends_of_steps_each_see_time_go_forward(
    database_url: str, run_mock: Callable[..., RunningMock]
) -> None:
    # At the end of a step one request of each worker works the answer out again and the others of the same bytes
    # wait for it (replays.py): none may hang, fail or get an answer of a step gone by.
    mock = run_mock(OSMO, DATABASE_URL=database_url)
    workflow = _running_workflow(mock)
    deadline = time.monotonic() + 2.5

    def client() -> list[float]:
        seen = []
        with requests.Session() as session:
            while time.monotonic() < deadline:
                answer = session.get(mock.url + workflow, headers=AUTH, timeout=TIMEOUT_SECONDS)
                assert answer.status_code == 200, answer.text
                seen.append(float(answer.json()["duration"]))
        return seen

    with ThreadPoolExecutor(CLIENTS) as pool:
        seen = list(pool.map(lambda _: client(), range(CLIENTS)))
    assert all(durations == sorted(durations) for durations in seen), seen
    assert len({d for durations in seen for d in durations}) >= 2, "the reads spanned more than one step"
