"""Security basics: the control plane is loopback-only or token-guarded, tokens stay out of logs,
stored strings are data (never SQL), upload keys cannot leave their job, CORS follows its setting."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import RunningMock, start_mock, stop_mock
from tests.support.epx import EPX_HEADERS

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
ADMIN_TOKEN = "admin-0f6c1e9b7d2a4c58"
CLIENT_TOKEN = "client-token-8e3b21d4f5"
HEADERS = {**EPX_HEADERS, "Offline-Token": f"Bearer {CLIENT_TOKEN}"}
INJECTIONS = [
    "'; DROP TABLE runs; --",
    "1 OR 1=1",
    '" OR ""="',
    "Robert'); DROP TABLE jobs;--",
    "%' UNION SELECT name, next_value FROM id_counters --",
    "\\x00\\' ; SELECT pg_sleep(5); --",
]


def outward_address() -> str:
    """This machine's address on a non-loopback interface (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            address = "127.0.0.1"
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address to call the mock from")
    return address


@pytest.fixture
def mock_on_all_interfaces(tmp_path: Path):
    started: list[RunningMock] = []

    def start(**env: str) -> RunningMock:
        mock = start_mock(PACT_DIR, tmp_path, FLASK_HOST="0.0.0.0", **env)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        stop_mock(mock)


def state_call(base: str, **kwargs: object) -> requests.Response:
    body = {"state": "job 123 exists", "action": "setup"}
    return requests.post(f"{base}/_mock/provider-states", json=body, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_control_plane_answers_loopback_only_without_a_token(mock_on_all_interfaces) -> None:
    mock = mock_on_all_interfaces()
    outside = mock.url.replace("127.0.0.1", outward_address())
    refused = state_call(outside)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "MOCK_ADMIN_TOKEN" in refused.json()["detail"]
    assert requests.get(f"{outside}/_mock/jobs/123/uploads", timeout=10).status_code == 403
    # The contract's own endpoints and /health stay open to everyone.
    assert requests.get(f"{outside}/health", timeout=10).status_code == 200
    assert state_call(mock.url).status_code == 200


def test_control_plane_with_a_token_requires_it_from_everywhere(mock_on_all_interfaces) -> None:
    mock = mock_on_all_interfaces(MOCK_ADMIN_TOKEN=ADMIN_TOKEN)
    outside = mock.url.replace("127.0.0.1", outward_address())
    for base in (mock.url, outside):
        assert state_call(base).status_code == 401
        assert state_call(base, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert state_call(base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
        assert state_call(base, headers={"X-Mock-Admin-Token": ADMIN_TOKEN}).status_code == 200
        assert state_call(base, params={"token": ADMIN_TOKEN}).status_code == 200
    wrong = state_call(mock.url, headers={"Authorization": "Bearer guessed-token"})
    assert "guessed-token" not in wrong.text


def test_pactmock_verify_passes_the_admin_token_to_state_calls(mock_on_all_interfaces) -> None:
    mock = mock_on_all_interfaces(MOCK_ADMIN_TOKEN=ADMIN_TOKEN)
    outside = mock.url.replace("127.0.0.1", outward_address())
    command = [sys.executable, "-m", "app.cli", "verify", outside, "--pact-dir", str(PACT_DIR)]
    without = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert without.returncode == 1
    passed = subprocess.run([*command, "--admin-token", ADMIN_TOKEN], capture_output=True, text=True, timeout=300)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert ADMIN_TOKEN not in mock.log()


def test_tokens_never_reach_the_log(run_mock) -> None:
    mock = run_mock(PACT_DIR, MOCK_ADMIN_TOKEN=ADMIN_TOKEN)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert state_call(mock.url, headers=admin).status_code == 200
    assert state_call(mock.url, params={"token": ADMIN_TOKEN}).status_code == 200
    assert requests.post(f"{mock.url}/jobs/register", json={"tags": ["a"]}, headers=HEADERS, timeout=10).ok
    bad_headers = {**HEADERS, "Offline-Token": f"Token {CLIENT_TOKEN}"}
    refused = requests.post(f"{mock.url}/jobs/register", json={"tags": ["a"]}, headers=bad_headers, timeout=10)
    assert refused.status_code == 401
    assert CLIENT_TOKEN not in refused.text
    log = mock.log()
    assert "jobs/register" in log  # the requests were logged, just not their secrets
    assert ADMIN_TOKEN not in log
    assert CLIENT_TOKEN not in log


def run_request(job_id: int, text: str) -> dict[str, object]:
    return {
        "jobId": job_id,
        "workingDir": text,
        "size": text,
        "fredVersion": text,
        "population": {"version": text, "locations": [text]},
        "fredArgs": [{"flag": text, "value": text}],
        "fredFiles": [text],
    }


def test_injection_strings_are_stored_and_read_back_verbatim(run_mock) -> None:
    mock = run_mock(PACT_DIR)
    assert state_call(mock.url).status_code == 200
    sent = [run_request(123, text) for text in INJECTIONS]
    submitted = requests.post(f"{mock.url}/runs", json={"runRequests": sent}, headers=HEADERS, timeout=10)
    assert submitted.status_code == 200, submitted.text
    registered = requests.post(f"{mock.url}/jobs/register", json={"tags": INJECTIONS}, headers=HEADERS, timeout=10)
    assert registered.json()["tags"] == INJECTIONS
    runs = requests.get(f"{mock.url}/runs", params={"job_id": "123"}, headers=HEADERS, timeout=10).json()["runs"]
    assert [run["request"] for run in runs] == sent
    # The tables are all still there and still counting.
    again = requests.post(f"{mock.url}/jobs/register", json={"tags": ["x"]}, headers=HEADERS, timeout=10)
    assert again.json()["id"] == registered.json()["id"] + 1


@pytest.mark.parametrize(
    "path",
    [
        "/s3/uploads/123/..%2F..%2Fetc%2Fpasswd",
        "/s3/uploads/123/../124/job_input",
        "/s3/uploads/123/job_input%2F..%2F..%2Fx",
        "/s3/uploads/123/job_input/..",
        "/s3/uploads/123/%2e%2e",
        "/s3/uploads/123/run_978_input%00",
        "/s3/uploads/123/" + "a" * 5000,
    ],
)
def test_upload_keys_cannot_leave_their_job(run_mock, path: str) -> None:
    mock = run_mock(PACT_DIR)
    for state in ("job 123 exists", "job 124 exists"):
        assert requests.post(f"{mock.url}/_mock/provider-states", json={"state": state}, timeout=10).ok
    with requests.Session() as session:
        prepared = session.prepare_request(
            requests.Request("PUT", mock.url, data=b"payload", headers={"Content-Type": "application/octet-stream"})
        )
        prepared.url = mock.url + path  # sent exactly as written, not normalised by the client
        response = session.send(prepared, timeout=10)
    assert response.status_code in (400, 404), response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    for job in (123, 124):
        assert requests.get(f"{mock.url}/_mock/jobs/{job}/uploads", timeout=10).json()["uploads"] == []
    assert "Traceback" not in mock.log()


def test_cors_allows_only_the_configured_origins(run_mock) -> None:
    mock = run_mock(PACT_DIR, CORS_ORIGINS="https://app.example, https://ci.example")
    allowed = requests.get(f"{mock.url}/health", headers={"Origin": "https://ci.example"}, timeout=10)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://ci.example"
    assert "Origin" in allowed.headers["Vary"]
    other = requests.get(f"{mock.url}/health", headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in other.headers
