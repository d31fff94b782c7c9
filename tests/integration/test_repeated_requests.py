"""A request repeated byte for byte gets the verdict it got the first time (app/web/front.py), and no more:
a change to any header or to the body is judged afresh, and candidates that compete by provider state follow
the states as they change. Where the verdict binds a handler, the handler still answers every repeat."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.epx import EPX_HEADERS, run_request

ROOT = Path(__file__).resolve().parents[2]

HEADERS = {
    "Authorization": "Bearer secret-token",
    "Content-Type": "application/json",
    "x-client-version": "1.2.3",
}


def _interaction(description: str, method: str, path: str, body: Any, answer: Any, state: str | None = None) -> Any:
    request: dict[str, Any] = {
        "method": method,
        "path": path,
        "headers": {name: [value] for name, value in HEADERS.items()},
        "matchingRules": {
            "header": {
                "Authorization": {"matchers": [{"match": "regex", "regex": "^Bearer \\S+$"}]},
                "x-client-version": {"matchers": [{"match": "regex", "regex": "^\\d+\\.\\d+\\.\\d+$"}]},
            },
            "body": {"$.tags": {"matchers": [{"match": "type", "min": 1}]}},
        },
    }
    if body is not None:
        request["body"] = {"content": body, "contentType": "application/json", "encoded": False}
    return {
        "type": "Synchronous/HTTP",
        "description": description,
        "providerStates": [{"name": state}] if state else [],
        "request": request,
        "response": {
            "status": 200,
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": answer, "contentType": "application/json", "encoded": False},
        },
    }


@pytest.fixture
def mock(run_mock: Any, tmp_path: Path) -> Any:
    folder = tmp_path / "pacts"
    folder.mkdir()
    pact = {
        "consumer": {"name": "client"},
        "provider": {"name": "StubbedApi"},  # no handlers: every answer comes from the contract
        "interactions": [
            _interaction("tag a thing", "POST", "/things", {"tags": ["a"]}, {"id": 1, "tags": ["a"]}),
            _interaction("read the flag", "POST", "/flag", {"tags": ["a"]}, {"on": False}),
            _interaction("read the flag when on", "POST", "/flag", {"tags": ["a"]}, {"on": True}, "the flag is on"),
        ],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    (folder / "client-stubbedapi.json").write_text(json.dumps(pact))
    return run_mock(folder)


def test_a_repeated_request_gets_the_same_answer_and_a_changed_one_is_judged_again(mock: Any) -> None:
    with requests.Session() as session:

        def post(headers: dict[str, str], body: bytes = b'{"tags": ["b"]}') -> requests.Response:
            return session.post(mock.url + "/things", headers=headers, data=body, timeout=5)

        first = post(HEADERS)
        assert first.status_code == 200 and first.json() == {"id": 1, "tags": ["a"]}
        again = post(HEADERS)
        assert (again.status_code, again.content, again.headers["Content-Type"]) == (
            200,
            first.content,
            first.headers["Content-Type"],
        )
        # One header differs: its rule judges it, whatever the same request got before.
        assert post({**HEADERS, "Authorization": "Basic abc"}).status_code == 401
        assert post({**HEADERS, "x-client-version": "one"}).status_code == 400
        # The body differs: an empty list breaks min 1, a key the contract lacks is refused.
        assert post(HEADERS, b'{"tags": []}').status_code == 400
        assert post(HEADERS, b'{"tags": ["b"], "extra": 1}').status_code == 400
        # And the request that passed passes again.
        assert post(HEADERS).content == first.content


def test_candidates_competing_by_provider_state_follow_the_state_on_repeats(mock: Any) -> None:
    with requests.Session() as session:

        def flag() -> Any:
            response = session.post(mock.url + "/flag", headers=HEADERS, data=b'{"tags": ["a"]}', timeout=5)
            assert response.status_code == 200
            return response.json()["on"]

        assert [flag(), flag()] == [False, False]
        setup = session.post(
            mock.url + "/_mock/provider-states", json={"state": "the flag is on", "action": "setup"}, timeout=5
        )
        assert setup.status_code in (200, 201, 204)
        assert [flag(), flag()] == [True, True]


def test_a_handler_answers_every_repeat_and_a_changed_body_is_judged_again(run_mock: Any, tmp_path: Path) -> None:
    folder = tmp_path / "epx"
    shutil.copytree(ROOT / "pacts", folder)
    mock = run_mock(folder)
    with requests.Session() as session:
        job = session.post(mock.url + "/jobs/register", json={"tags": []}, headers=EPX_HEADERS, timeout=10)
        assert job.status_code == 200, job.text
        body = json.dumps({"runRequests": [run_request(job.json()["id"])]}).encode()

        def submit(sent: bytes = body) -> requests.Response:
            return session.post(mock.url + "/runs", data=sent, headers=EPX_HEADERS, timeout=10)

        answers = [submit() for _ in range(4)]
        assert [a.status_code for a in answers] == [200] * 4, answers[-1].text
        # Each repeat is a new run in the store: the verdict was remembered, the handler was not skipped.
        run_ids = [a.json()["runResponses"][0]["runId"] for a in answers]
        assert len(set(run_ids)) == 4 and run_ids == sorted(run_ids)
        listed = session.get(f"{mock.url}/runs?job_id={job.json()['id']}", headers=EPX_HEADERS, timeout=10)
        assert sorted(run["id"] for run in listed.json()["runs"]) == run_ids
        # The same route with a body the contract refuses, then the passing bytes again.
        broken = json.dumps({"runRequests": [run_request(job.json()["id"], size=7)]}).encode()
        assert submit(broken).status_code == 400
        assert submit().status_code == 200
