"""The real server on a pact large enough to be indexed: answers, refusals and a broken interaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.settings import Tuning
from tests.support import synthetic

from .conftest import RunningMock, start_mock, stop_mock

# Enough interactions that the server indexes the file and compiles each interaction on first use.
COUNT = Tuning().compile_lazily_from + 100
BROKEN = 7  # a GET with a bad matcher on its Authorization header


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[RunningMock]:
    pact = synthetic.write_pact(tmp_path / "pacts", COUNT)
    document = json.loads(pact.read_text(encoding="utf-8"))
    rules = document["interactions"][BROKEN]["request"]["matchingRules"]["header"]
    rules["Authorization"] = {"matchers": ["not a matcher"]}
    pact.write_text(json.dumps(document), encoding="utf-8")
    # One worker: it alone compiles every interaction, so "logged once" is once in the log.
    running = start_mock(tmp_path / "pacts", tmp_path, "--workers", "1")
    yield running
    stop_mock(running)


def send(mock: RunningMock, index: int, **changes: str) -> requests.Response:
    raw = synthetic.interaction(index, COUNT)["request"]
    headers = {name: values[0] for name, values in raw["headers"].items()} | changes
    query = {name: values[0] for name, values in raw.get("query", {}).items()}
    body = json.dumps(raw["body"]["content"]).encode() if "body" in raw else None
    return requests.request(raw["method"], mock.url + raw["path"], params=query, headers=headers, data=body, timeout=30)


def test_interactions_of_an_indexed_pact_are_answered_from_the_contract(mock: RunningMock) -> None:
    for index in (0, 1, synthetic.middle(COUNT), COUNT - 1):
        answer = send(mock, index)
        assert answer.status_code == 200, answer.text
        assert answer.json() == synthetic.interaction(index, COUNT)["response"]["body"]["content"]


def test_a_request_that_breaks_an_indexed_interaction_is_refused_with_its_mismatch(mock: RunningMock) -> None:
    answer = send(mock, 3, **{"x-client-version": "one"})
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [m["path"] for m in answer.json()["mismatches"]] == ["x-client-version"]


def test_a_broken_interaction_answers_500_problem_naming_it_and_is_logged_once(mock: RunningMock) -> None:
    answers = [send(mock, BROKEN) for _ in range(3)]
    assert [a.status_code for a in answers] == [500, 500, 500]
    problem = answers[0].json()
    assert answers[0].headers["Content-Type"] == "application/problem+json"
    assert problem["type"].endswith("/broken-interaction")
    description = synthetic.interaction(BROKEN, COUNT)["description"]
    assert f"interaction {BROKEN} ({description!r})" in problem["detail"]
    assert "a matcher must be an object" in problem["detail"]
    assert "Traceback" not in mock.log()
    errors = [line for line in mock.log().splitlines() if " ERROR " in line and description in line]
    assert len(errors) == 1, mock.log()
    # Its neighbours are served as usual.
    assert send(mock, BROKEN + 1).status_code == 200
