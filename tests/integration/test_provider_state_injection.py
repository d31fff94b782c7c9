"""Values injected by provider states (issue 12, class 7), on the real server with the official verifier.

The pact's state parameters differ from its examples (the state says `John`, the example path says `Bob`),
so the verifier, which asks pactmock's `/_mock/provider-states` for the values and gets the pact's own
parameters back, sends requests the examples do not describe: `/api/hello/John`, `?name=John`,
`X-User: user John`, `{"id": 42, "ref": 42}`. Each must be served, and the answer must carry the values the request chose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import start_mock, stop_mock
from tests.support.reference import verify_interactions

STATE = {"name": "a user exists", "params": {"name": "John", "id": 42}}
JSON = {"Content-Type": "application/json"}


def from_state(expression: str) -> dict[str, str]:
    return {"type": "ProviderState", "expression": expression}


def greeting_response(example: str) -> dict[str, Any]:
    """`{"greeting": example}`, written anew from the state's (or the request's) `name`."""
    return {
        "status": 200,
        "headers": JSON,
        "body": {"greeting": example},
        "matchingRules": {"body": {"$.greeting": {"matchers": [{"match": "regex", "regex": "^Hello \\w+$"}]}}},
        "generators": {"body": {"$.greeting": from_state("Hello ${name}")}},
    }


INTERACTIONS = [
    {
        "description": "a greeting by path",
        "providerStates": [STATE],
        "request": {
            "method": "GET",
            "path": "/api/hello/Bob",
            "generators": {"path": from_state("/api/hello/${name}")},
        },
        "response": greeting_response("Hello Bob"),
    },
    {
        "description": "a greeting by query",
        "providerStates": [STATE],
        "request": {
            "method": "GET",
            "path": "/api/greetings",
            "query": {"name": ["Bob"]},
            "generators": {"query": {"name": from_state("${name}")}},
        },
        "response": greeting_response("Hello Bob"),
    },
    {
        "description": "a greeting by header",
        "providerStates": [STATE],
        "request": {
            "method": "GET",
            "path": "/api/greeting",
            "headers": {"X-User": "user Bob"},
            "generators": {"header": {"X-User": from_state("user ${name}")}},
        },
        "response": greeting_response("Hello Bob"),
    },
    {
        "description": "a user by body",
        "providerStates": [STATE],
        "request": {
            "method": "POST",
            "path": "/api/users",
            "headers": JSON,
            "body": {"id": 1, "ref": "a", "role": "admin"},
            # A lone placeholder without a dataType: the verifier sends the state's 42 as it is, a number
            # where the example is text (pact-python's own generator test writes such a pact).
            "generators": {"body": {"$.id": {**from_state("id"), "dataType": "INTEGER"}, "$.ref": from_state("${id}")}},
        },
        "response": {"status": 201, "headers": JSON, "body": {"created": True}},
    },
]


@pytest.fixture
def pact_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pacts"
    folder.mkdir()
    pact = {
        "consumer": {"name": "greeter-web"},
        "provider": {"name": "greeter-api"},
        "interactions": INTERACTIONS,
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    (folder / "greeter.json").write_text(json.dumps(pact, indent=1))
    return folder


def test_the_verifier_passes_every_interaction_with_the_injected_values(pact_dir: Path, tmp_path: Path) -> None:
    mock = start_mock(pact_dir, tmp_path, "--workers", "1")
    try:
        verdicts = verify_interactions(pact_dir / "greeter.json", mock.url, mock.url + "/_mock/provider-states")
    finally:
        stop_mock(mock)
    assert {d: (v.passed, v.reason) for d, v in verdicts.items()} == {
        i["description"]: (True, "") for i in INTERACTIONS
    }


def test_the_answer_carries_the_values_the_request_chose(pact_dir: Path, tmp_path: Path) -> None:
    mock = start_mock(pact_dir, tmp_path, "--workers", "1")
    try:
        by_path = requests.get(mock.url + "/api/hello/Mary", timeout=10)
        by_query = requests.get(mock.url + "/api/greetings", params={"name": "Ada"}, timeout=10)
        by_header = requests.get(mock.url + "/api/greeting", headers={"X-User": "user Alan"}, timeout=10)
        example = requests.get(mock.url + "/api/hello/Bob", timeout=10)
        too_deep = requests.get(mock.url + "/api/hello/Mary/Ann", timeout=10)
        wrong_form = requests.get(mock.url + "/api/greeting", headers={"X-User": "admin Alan"}, timeout=10)
        body = requests.post(mock.url + "/api/users", json={"id": 7, "ref": 7, "role": "admin"}, timeout=10)
        body_of_another_type = requests.post(
            mock.url + "/api/users", json={"id": "7", "ref": "a", "role": "admin"}, timeout=10
        )
    finally:
        stop_mock(mock)
    assert (by_path.status_code, by_path.json()) == (200, {"greeting": "Hello Mary"})
    assert (by_query.status_code, by_query.json()) == (200, {"greeting": "Hello Ada"})
    assert (by_header.status_code, by_header.json()) == (200, {"greeting": "Hello Alan"})
    assert (example.status_code, example.json()) == (200, {"greeting": "Hello Bob"})
    assert body.status_code == 201
    # A placeholder on a path holds no "/"; the literal text of an expression must be there; a body field
    # whose generator converts to an INTEGER takes numbers only.
    assert too_deep.status_code == 404
    assert wrong_form.status_code == 400
    assert body_of_another_type.status_code == 400
