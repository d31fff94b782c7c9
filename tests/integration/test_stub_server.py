"""The real server answering from a pact: stubs, refusals, routing errors, CORS, provider states."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

HEADERS = {
    "Offline-Token": "Bearer secret-token",
    "content-type": "application/json",
    "fredcli-version": "1.2.3",
    "user-agent": "epx_client_1.2.3",
}
HEADER_RULES = {
    "Offline-Token": {"matchers": [{"match": "regex", "regex": "^Bearer \\S+$"}]},
    "fredcli-version": {"matchers": [{"match": "regex", "regex": "^\\d+\\.\\d+\\.\\d+$"}]},
    "user-agent": {"matchers": [{"match": "regex", "regex": "^epx_client_.+$"}]},
}


def interaction(description: str, state: str | None, response_body: dict) -> dict:
    return {
        "type": "Synchronous/HTTP",
        "description": description,
        "providerStates": [{"name": state, "params": {"jobId": 77}}] if state else [],
        "request": {
            "method": "POST",
            "path": "/jobs/register",
            "headers": {k: [v] for k, v in HEADERS.items()},
            "body": {"content": {"tags": ["info_job"]}, "contentType": "application/json", "encoded": False},
            "matchingRules": {
                "header": HEADER_RULES,
                "body": {"$.tags": {"matchers": [{"match": "type", "min": 1}]}},
            },
        },
        "response": {
            "status": 200,
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": response_body, "contentType": "application/json", "encoded": False},
            "matchingRules": {"body": {"$.id": {"matchers": [{"match": "integer"}]}}},
            "generators": {"body": {"$.userId": {"type": "RandomInt", "min": 1, "max": 1000000}}},
        },
    }


@pytest.fixture
def pact_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pacts"
    folder.mkdir()
    pact = {
        "consumer": {"name": "epx"},
        # A provider with no domain handlers: every answer here comes from the contract.
        "provider": {"name": "StubbedApi"},
        "interactions": [
            interaction("register a job", None, {"id": 123, "userId": 456, "tags": ["info_job"]}),
            interaction("register a job when 77 is next", "job 77 is next", {"id": 77, "userId": 456, "tags": ["x"]}),
            {
                "type": "Synchronous/HTTP",
                "description": "list runs",
                "request": {"method": "GET", "path": "/runs", "query": {"job_id": ["123"]}},
                "response": {"status": 200, "body": {"content": {"runs": []}, "contentType": "application/json"}},
            },
        ],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    (folder / "epx-epistemix.json").write_text(json.dumps(pact))
    (folder / "broken.json").write_text('{"consumer": {"name": "x"},\n "provider": ')
    return folder


@pytest.fixture
def mock(run_mock, pact_dir: Path):
    return run_mock(pact_dir, PACTMOCK_SEED="7")


def post_register(mock, headers: dict | None = None, body: object = None, data: bytes | None = None):
    return requests.post(
        mock.url + "/jobs/register",
        headers=HEADERS if headers is None else headers,
        data=data if data is not None else json.dumps(body if body is not None else {"tags": ["info_job"]}),
        timeout=5,
    )


def test_matching_request_gets_the_contract_response_with_generated_values(mock) -> None:
    first = post_register(mock)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("application/json")
    body = first.json()
    assert body["id"] == 123 and body["tags"] == ["info_job"]
    assert isinstance(body["userId"], int) and body["userId"] != 456
    assert post_register(mock).json() == body, "PACTMOCK_SEED makes generated values reproducible"


def test_missing_required_header_is_a_400_naming_it(mock) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "fredcli-version"}
    response = post_register(mock, headers=headers)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert [m["path"] for m in problem["mismatches"]] == ["fredcli-version"]
    assert "fredcli-version" in problem["detail"] and "missing" in problem["detail"]


@pytest.mark.parametrize("token", [None, "secret-token", "Basic abc"])
def test_missing_or_malformed_offline_token_is_a_401(mock, token: str | None) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "Offline-Token"}
    if token is not None:
        headers["Offline-Token"] = token
    response = post_register(mock, headers=headers)
    assert response.status_code == 401
    assert response.json()["mismatches"][0]["path"] == "Offline-Token"
    assert "secret-token" not in mock.log(), "tokens never reach the log"


def test_every_body_mismatch_is_listed(mock) -> None:
    response = post_register(mock, body={"tags": [], "extra": 1})
    assert response.status_code == 400
    paths = sorted(m["path"] for m in response.json()["mismatches"])
    assert paths == ["$.extra", "$.tags"]


@pytest.mark.parametrize("data", [b'{"tags": [', b"", b"\xff\xfe not utf-8"])
def test_malformed_or_empty_bodies_are_400_not_500(mock, data: bytes) -> None:
    response = post_register(mock, data=data)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["detail"]


def test_unknown_route_is_a_404_naming_the_closest_interactions(mock) -> None:
    response = requests.get(mock.url + "/jobs/registr", timeout=5)
    assert response.status_code == 404
    problem = response.json()
    assert problem["closest"][0]["request"] == "POST /jobs/register"
    wrong_method = requests.get(mock.url + "/jobs/register", timeout=5)
    assert wrong_method.status_code == 404
    assert wrong_method.json()["closest"][0]["request"] == "POST /jobs/register"


def test_query_is_checked(mock) -> None:
    assert requests.get(mock.url + "/runs?job_id=123", timeout=5).status_code == 200
    wrong = requests.get(mock.url + "/runs?job_id=124", timeout=5)
    assert wrong.status_code == 400 and wrong.json()["mismatches"][0]["path"] == "job_id"


def test_active_provider_state_selects_its_interaction(mock) -> None:
    setup = {"state": "job 77 is next", "params": {}, "action": "setup"}
    assert requests.post(mock.url + "/_mock/provider-states", json=setup, timeout=5).status_code == 200
    assert post_register(mock).json()["id"] == 77
    teardown = dict(setup, action="teardown")
    assert requests.post(mock.url + "/_mock/provider-states", json=teardown, timeout=5).status_code == 200
    assert post_register(mock).json()["id"] == 123


def test_bad_provider_state_call_is_a_400(mock) -> None:
    response = requests.post(mock.url + "/_mock/provider-states", data="nope", timeout=5)
    assert response.status_code == 400 and response.headers["Content-Type"] == "application/problem+json"


def test_cors_headers_and_preflight(mock) -> None:
    assert post_register(mock).headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(
        mock.url + "/jobs/register",
        headers={
            "Origin": "http://app.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "offline-token",
        },
        timeout=5,
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "offline-token"


def test_index_lists_served_contracts_and_the_broken_file(mock, pact_dir: Path) -> None:
    index = requests.get(mock.url + "/", timeout=5).json()
    [contract] = index["contracts"]
    assert (contract["consumer"], contract["provider"], contract["specification"]) == ("epx", "StubbedApi", "V4")
    assert len(contract["interactions"]) == 3
    [problem] = index["problems"]
    assert "broken.json" in problem and "line 2 column" in problem
