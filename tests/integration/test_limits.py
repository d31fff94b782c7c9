"""Bodies over the configured limits get 413 problem+json, and nothing of them is stored."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.support.epx import EPX_HEADERS

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
HEADERS = EPX_HEADERS
LIMITS = {"PACTMOCK_MAX_JSON_BYTES": "2000", "PACTMOCK_MAX_UPLOAD_BYTES": "50000"}


def chunks(total: int, size: int = 4096) -> Iterator[bytes]:
    # A generator body goes out with Transfer-Encoding: chunked, so no Content-Length warns the server.
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def setup_job(url: str) -> None:
    state = {"state": "job 123 exists", "action": "setup"}
    assert requests.post(f"{url}/_mock/provider-states", json=state, timeout=10).status_code == 200


def assert_too_large(response: requests.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["limit"] == limit
    assert str(limit) in response.json()["detail"]


def test_json_body_over_the_limit_is_refused_before_any_write(run_mock) -> None:
    mock = run_mock(PACT_DIR, **LIMITS)
    tags = ["t" * 100] * 30  # about 3 kB of JSON
    assert_too_large(requests.post(f"{mock.url}/jobs/register", json={"tags": tags}, headers=HEADERS, timeout=10), 2000)
    # The first job registered afterwards still gets the first id: the refused body wrote nothing.
    registered = requests.post(f"{mock.url}/jobs/register", json={"tags": ["a"]}, headers=HEADERS, timeout=10)
    assert registered.json()["id"] == 123


def test_upload_over_the_limit_is_refused_with_or_without_content_length(run_mock) -> None:
    mock = run_mock(PACT_DIR, **LIMITS)
    setup_job(mock.url)
    target = f"{mock.url}/s3/uploads/123/job_input"
    binary = {"Content-Type": "application/octet-stream"}
    assert_too_large(requests.put(target, data=b"x" * 50_001, headers=binary, timeout=10), 50_000)
    assert_too_large(requests.put(target, data=chunks(80_000), headers=binary, timeout=10), 50_000)
    listing = requests.get(f"{mock.url}/_mock/jobs/123/uploads", timeout=10).json()
    assert listing["uploads"] == []


def test_upload_at_the_limit_is_stored_whole_even_when_chunked(run_mock) -> None:
    mock = run_mock(PACT_DIR, **LIMITS)
    setup_job(mock.url)
    target = f"{mock.url}/s3/uploads/123/job_input"
    stored = requests.put(target, data=chunks(50_000), headers={"Content-Type": "application/octet-stream"}, timeout=10)
    assert stored.status_code == 200, stored.text
    [upload] = requests.get(f"{mock.url}/_mock/jobs/123/uploads", timeout=10).json()["uploads"]
    assert upload["size"] == 50_000
    assert upload["sha256"] == hashlib.sha256(b"x" * 50_000).hexdigest()
