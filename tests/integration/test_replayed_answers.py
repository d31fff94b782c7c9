"""A request repeated byte for byte is answered from what the entrance kept (app/web/replays.py), against the real
server (`pactmock serve`, two workers): the same bytes as the first answer, a journal record of its own, the
same as the first one's but for its id and times, and every fault rule and session still obeyed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.integration.test_journal import write_pacts
from tests.support.mock_process import RunningMock

STOCK = "/stock/1"  # a stub: {"id": 1, "count": 5}
REPEATS = 8  # enough for both workers to answer it more than once
TIMES = ("id", "time", "durationMs")


def _answers(url: str, session: str | None = None) -> list[requests.Response]:
    headers = {"X-Pactmock-Session": session} if session else {}
    return [requests.get(url + STOCK, headers=headers, timeout=10) for _ in range(REPEATS)]


def _seen(answer: requests.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    return answer.status_code, answer.content, sorted((k, v) for k, v in answer.headers.items() if k != "date")


def _faults(url: str, rules: list[Any], session: str | None = None) -> None:
    headers = {"X-Pactmock-Session": session} if session else {}
    reply = requests.put(url + "/_mock/faults", json=rules, headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text


def test_repeats_answer_and_are_journaled_as_the_first_and_faults_still_apply(
    run_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    url = run_mock(write_pacts(tmp_path / "pacts")).url
    answers = _answers(url)
    assert answers[0].status_code == 200 and answers[0].json() == {"id": 1, "count": 5}
    assert {str(_seen(a)) for a in answers} == {str(_seen(answers[0]))}

    records = requests.get(url + "/_mock/journal", params={"limit": 100}, timeout=10).json()["requests"]
    assert len(records) == REPEATS and len({r["id"] for r in records}) == REPEATS
    assert len({r["time"] for r in records}) == REPEATS and all(r["durationMs"] >= 0 for r in records)
    shown = [{k: v for k, v in r.items() if k not in TIMES} for r in records]
    assert all(r == shown[0] for r in shown) and shown[0]["status"] == 200 and shown[0]["path"] == STOCK

    _faults(url, [{"match": {"route": f"GET {STOCK}"}, "error": {"status": 503}}])
    assert [a.status_code for a in _answers(url)] == [503] * REPEATS
    _faults(url, [])
    assert {str(_seen(a)) for a in _answers(url)} == {str(_seen(answers[0]))}

    # A session's fault answers that session's repeats alone.
    _faults(url, [{"match": {"route": f"GET {STOCK}"}, "error": {"status": 502}}], session="replay-a")
    assert [a.status_code for a in _answers(url, "replay-a")] == [502] * REPEATS
    assert [a.status_code for a in _answers(url, "replay-b")] == [200] * REPEATS
    assert [a.status_code for a in _answers(url)] == [200] * REPEATS
    sessions = {
        r.get("session")
        for r in requests.get(url + "/_mock/journal", params={"limit": 100}, timeout=10).json()["requests"]
    }
    assert {"replay-b", "default"} <= sessions
