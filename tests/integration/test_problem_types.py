"""Every problem+json answer names its kind with a `type` this mock serves: following it explains the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from tests.support.epx import EPX_HEADERS

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"


def _problem(reply: requests.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == "application/problem+json", reply.headers
    body: dict[str, Any] = reply.json()
    assert body["status"] == status, body
    return body


def test_every_problem_type_an_answer_names_explains_itself(run_mock: Any) -> None:
    mock = run_mock(PACT_DIR)
    answers = [
        _problem(requests.get(f"{mock.url}/no/such/route", timeout=10), 404),
        _problem(requests.post(f"{mock.url}/jobs/register", data='{"tags": 5}', headers=EPX_HEADERS, timeout=10), 400),
        _problem(requests.post(f"{mock.url}/jobs/register", json={"tags": []}, timeout=10), 401),
        _problem(requests.request("PROPFIND", f"{mock.url}/jobs/register", timeout=10), 405),
        _problem(requests.get(f"{mock.url}/_mock/jobs/999/uploads", timeout=10), 404),
        _problem(requests.post(f"{mock.url}/_mock/provider-states", data=b"[]", timeout=10), 400),
    ]
    kinds = {answer["type"] for answer in answers}
    assert kinds == {
        "/_mock/problems/no-interaction",
        "/_mock/problems/contract-mismatch",
        "/_mock/problems/unauthorized",
        "/_mock/problems/method-not-allowed",
        "/_mock/problems/not-found",
        "/_mock/problems/bad-provider-state",
    }
    for answer in answers:
        # A relative reference (RFC 9457 3.1.1): resolved against the request's URL, it is this mock's page.
        explained = requests.get(mock.url + answer["type"], timeout=10)
        assert explained.status_code == 200, explained.text
        page = explained.json()
        assert (page["type"], page["status"], page["title"]) == (answer["type"], answer["status"], answer["title"])
        assert len(page["explanation"]) > 40, page


def test_the_catalogue_lists_every_problem_type_and_refuses_an_unknown_one(run_mock: Any) -> None:
    mock = run_mock(PACT_DIR)
    catalogue = requests.get(f"{mock.url}/_mock/problems/", timeout=10).json()
    assert {"contract-mismatch", "no-interaction", "database-unavailable", "storage-quota"} <= set(catalogue)
    assert catalogue["storage-quota"]["status"] == 507
    unknown = _problem(requests.get(f"{mock.url}/_mock/problems/teapot", timeout=10), 404)
    assert "GET /_mock/problems/" in unknown["detail"]


def test_problem_pages_need_no_admin_token_while_the_rest_of_the_control_plane_does(run_mock: Any) -> None:
    mock = run_mock(PACT_DIR, MOCK_ADMIN_TOKEN="s3cret")
    assert requests.get(f"{mock.url}/_mock/problems/conflict", timeout=10).status_code == 200
    refused = _problem(requests.get(f"{mock.url}/_mock/jobs/1/uploads", timeout=10), 401)
    assert refused["type"] == "/_mock/problems/control-plane-unauthorized"
