"""Contract routes answered ahead of Flask (app/web/front.py), on the real server: what a client sees.

Stub answers without generators are built once and replayed; these tests pin what must still change
from one request to the next (CORS per origin, generated values, HEAD) and the mock's own answers on
those routes (413 on a chunked body, 503 with Retry-After when the database is gone).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
from sqlalchemy.engine import make_url

from tests.integration.conftest import migrated_postgres_database

ALLOWED_ORIGIN = "http://app.test"


def interaction(description: str, method: str, path: str, response: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "Synchronous/HTTP",
        "description": description,
        "request": {"method": method, "path": path},
        "response": response,
        **extra,
    }


def json_body(content: Any) -> dict[str, Any]:
    return {"content": content, "contentType": "application/json", "encoded": False}


@pytest.fixture
def pact_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pacts"
    folder.mkdir()
    pact = {
        "consumer": {"name": "web"},
        "provider": {"name": "StubbedApi"},
        "interactions": [
            interaction("a job", "GET", "/jobs/1", {"status": 200, "body": json_body({"id": 1})}),
            interaction(
                "a job's size",
                "HEAD",
                "/jobs/1",
                {"status": 200, "headers": {"Content-Type": ["text/plain"]}, "body": {"content": "twelve bytes"}},
            ),
            interaction(
                "a fresh token",
                "GET",
                "/token",
                {
                    "status": 200,
                    "body": json_body({"token": "example"}),
                    "generators": {"body": {"$.token": {"type": "RandomString", "size": 20}}},
                },
            ),
            interaction("a note", "POST", "/notes", {"status": 201}),
            interaction(
                "light when a",
                "GET",
                "/light",
                {"status": 200, "body": json_body({"on": True})},
                providerStates=[{"name": "a"}],
            ),
            interaction(
                "light when b",
                "GET",
                "/light",
                {"status": 200, "body": json_body({"on": False})},
                providerStates=[{"name": "b"}],
            ),
        ],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    (folder / "stubbed.json").write_text(json.dumps(pact))
    return folder


def test_replayed_answers_follow_each_requests_origin(run_mock, pact_dir: Path) -> None:
    mock = run_mock(pact_dir, CORS_ORIGINS=ALLOWED_ORIGIN)
    for origin in [ALLOWED_ORIGIN, "http://elsewhere.test", None, ALLOWED_ORIGIN, "http://elsewhere.test"]:
        headers = {"Origin": origin} if origin else {}
        response = requests.get(f"{mock.url}/jobs/1", headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"id": 1}
        if origin == ALLOWED_ORIGIN:
            assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
            assert response.headers["Vary"] == "Origin"
        else:
            assert "Access-Control-Allow-Origin" not in response.headers
            assert "Vary" not in response.headers


def test_head_gets_the_length_of_the_contracts_body_but_no_body(run_mock, pact_dir: Path) -> None:
    mock = run_mock(pact_dir)
    for _ in range(2):
        response = requests.head(f"{mock.url}/jobs/1", timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.headers["Content-Length"] == str(len("twelve bytes"))
        assert response.content == b""
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_generated_values_are_fresh_on_every_request(run_mock, pact_dir: Path) -> None:
    mock = run_mock(pact_dir)
    tokens = {requests.get(f"{mock.url}/token", timeout=10).json()["token"] for _ in range(3)}
    assert len(tokens) == 3
    assert all(len(token) == 20 and token != "example" for token in tokens)


def test_chunked_body_over_the_limit_is_refused_on_a_stub_route(run_mock, pact_dir: Path) -> None:
    mock = run_mock(pact_dir, PACTMOCK_MAX_JSON_BYTES="2000")
    chunks = (b"x" * 1000 for _ in range(5))  # a generator goes out chunked: no Content-Length
    response = requests.post(f"{mock.url}/notes", data=chunks, headers={"Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["limit"] == 2000
    assert requests.post(f"{mock.url}/notes", data=b"short", timeout=10).status_code == 201


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with migrated_postgres_database() as url:
        yield url


def test_database_gone_while_choosing_among_provider_states_is_a_503_with_retry_after(
    run_mock, pact_dir: Path, postgres_url: str
) -> None:
    mock = run_mock(pact_dir, DATABASE_URL=postgres_url)
    # Two interactions match: the active provider states (kept in the database) decide between them.
    assert requests.get(f"{mock.url}/light", timeout=10).status_code == 200
    url = make_url(postgres_url)
    admin = psycopg2.connect(url.set(database="postgres").render_as_string(hide_password=False))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
    admin.close()
    response = requests.get(f"{mock.url}/light", timeout=60)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json()["type"].endswith("/database-unavailable")
    # A route that needs no database is still answered.
    assert requests.get(f"{mock.url}/jobs/1", timeout=10).json() == {"id": 1}
    assert "Traceback" not in mock.log()
