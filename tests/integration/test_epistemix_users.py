"""Users from the Offline-Token, over real HTTP on SQLite and PostgreSQL: a job is its registering user's own.

The epx client sends `Offline-Token: Bearer <base64 of a JSON object with user_id>`. Another user's job is
refused with the 403 the client turns into UnauthorizedUserError (its `description`), and nothing is written.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import requests

from tests.support.epx import EPX_HEADERS, run_request

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"


def token_of(user_id: int) -> str:
    claims = json.dumps({"user_id": user_id, "email": f"user{user_id}@example.org"}).encode()
    return "Bearer " + base64.b64encode(claims).decode().rstrip("=")


def headers_of(user_id: int | None) -> dict[str, str]:
    if user_id is None:
        return dict(EPX_HEADERS)  # "Bearer secret-token": no user in it
    return {**EPX_HEADERS, "Offline-Token": token_of(user_id)}


def call(url: str, method: str, target: str, user: int | None, payload: Any = None) -> requests.Response:
    body = None if payload is None else json.dumps(payload)
    return requests.request(method, url + target, data=body, headers=headers_of(user), timeout=10)


def assert_forbidden(reply: requests.Response, job_id: int) -> None:
    assert reply.status_code == 403, reply.text
    assert reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json()
    assert problem["type"] == "/_mock/problems/forbidden"
    # What the client raises UnauthorizedUserError with.
    assert problem["description"] == problem["detail"] and f"job {job_id}" in problem["description"], problem


def test_a_job_belongs_to_the_user_whose_token_registered_it(run_mock: Any, database_url: str) -> None:
    mock = run_mock(PACT_DIR, DATABASE_URL=database_url, PACTMOCK_USER_ID="456")
    alice, bob = 7001, 7002
    job = call(mock.url, "POST", "/jobs/register", alice, {"tags": ["info_job"]}).json()
    assert job["userId"] == alice
    job_id = job["id"]

    # Bob may neither see, upload to nor run Alice's job; nothing of his attempts is stored.
    assert_forbidden(call(mock.url, "GET", f"/runs?job_id={job_id}", bob), job_id)
    upload = {"jobId": job_id, "context": "job", "type": "input"}
    assert_forbidden(call(mock.url, "POST", "/jobs", bob, upload), job_id)
    assert_forbidden(call(mock.url, "POST", "/runs", bob, {"runRequests": [run_request(job_id)]}), job_id)
    assert call(mock.url, "GET", f"/runs?job_id={job_id}", alice).json()["runs"] == []

    # Alice may, and her runs are hers.
    submitted = call(mock.url, "POST", "/runs", alice, {"runRequests": [run_request(job_id)]})
    assert submitted.status_code == 200, submitted.text
    runs = call(mock.url, "GET", f"/runs?job_id={job_id}", alice).json()["runs"]
    assert [(run["jobId"], run["userId"]) for run in runs] == [(job_id, alice)]


def test_a_token_without_a_user_is_the_default_user(run_mock: Any, database_url: str) -> None:
    mock = run_mock(PACT_DIR, DATABASE_URL=database_url, PACTMOCK_USER_ID="456")
    job = call(mock.url, "POST", "/jobs/register", None, {"tags": []}).json()
    assert job["userId"] == 456
    # A user named by a token is not the default user: the default user's job is not theirs.
    assert_forbidden(call(mock.url, "GET", f"/runs?job_id={job['id']}", 7001), job["id"])
    assert call(mock.url, "GET", f"/runs?job_id={job['id']}", None).status_code == 200
