"""Consumer side: the pacts the `epx` client holds with Epistemix and S3, produced by pact-python.

The test drives pact-python's mock server with the requests `epx` really sends, writes the pact files
into a temporary folder and checks that the committed files in `pacts/` are the same contract. Run it
with `PACT_UPDATE=1` to (re)write `pacts/epx-epistemix.json` and `pacts/epx-s3.json` instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pact import Pact, match

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
CONSUMER = "epx"
UPDATE = os.environ.get("PACT_UPDATE") == "1"

TOKEN = "Bearer secret-token"
FREDCLI_VERSION = "1.2.3"
USER_AGENT = "epx_client_1.2.3"
SIGNED_URL = "http://localhost:5000/s3/uploads/123/job_input"
SIGNED_URL_REGEX = r"^https?://[^\s/]+(/[^\s?]*)?/s3/uploads/\d+/job_(input|config)$"
RUN_CONFIG_URL = "http://localhost:5000/s3/uploads/123/run_978_config"
RUN_CONFIG_URL_REGEX = r"^https?://[^\s/]+(/[^\s?]*)?/s3/uploads/\d+/run_\d+_(input|config)$"
UPLOAD_PATH_REGEX = r"^/s3/uploads/\d+/(job|run_\d+)_(input|config)$"
DATETIME_REGEX = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"

RUN_REQUEST: dict[str, Any] = {
    "jobId": 123,
    "workingDir": "/home/epx/run",
    "size": "hot",
    "fredVersion": "latest",
    "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
    "fredArgs": [{"flag": "-p", "value": "main.fred"}],
    "fredFiles": ["/home/epx/main.fred"],
}


def client_headers() -> dict[str, str]:
    """The headers every Epistemix request of the `epx` client carries."""
    return {
        "Offline-Token": TOKEN,
        "content-type": "application/json",
        "fredcli-version": FREDCLI_VERSION,
        "user-agent": USER_AGENT,
    }


def expected_headers() -> dict[str, Any]:
    return {
        "Offline-Token": match.regex(TOKEN, regex=r"^Bearer \S+$"),
        "Content-Type": "application/json",
        "fredcli-version": match.regex(FREDCLI_VERSION, regex=r"^\d+\.\d+\.\d+$"),
        "user-agent": match.regex(USER_AGENT, regex=r"^epx_client_.+$"),
    }


def run_request_matcher() -> dict[str, Any]:
    return {
        "jobId": match.int(123),
        "workingDir": match.str("/home/epx/run"),
        "size": match.str("hot"),
        "fredVersion": match.str("latest"),
        "population": {
            "version": match.str("US_2010.v5"),
            "locations": match.each_like("Loving_County_TX"),
        },
        "fredArgs": match.each_like({"flag": match.str("-p"), "value": match.str("main.fred")}),
        "fredFiles": match.each_like("/home/epx/main.fred"),
    }


def epistemix_pact() -> tuple[Pact, Callable[[str], None]]:
    pact = Pact(CONSUMER, "Epistemix").with_specification("V4")

    (
        pact.upon_receiving("a request to register an info job")
        .with_request("POST", "/jobs/register")
        .with_headers(expected_headers())
        .with_body({"tags": match.each_like(match.str("info_job"))}, "application/json")
        .will_respond_with(200)
        .with_body(
            {"id": match.int(123), "userId": match.int(456), "tags": match.each_like(match.str("info_job"))},
            "application/json",
        )
    )
    (
        pact.upon_receiving("a request for the job input upload URL")
        .given("job 123 exists")
        .with_request("POST", "/jobs")
        .with_headers(expected_headers())
        .with_body(
            {"jobId": match.int(123), "context": "job", "type": match.regex("input", regex=r"^(input|config)$")},
            "application/json",
        )
        .will_respond_with(200)
        .with_body({"url": match.regex(SIGNED_URL, regex=SIGNED_URL_REGEX)}, "application/json")
    )
    (
        pact.upon_receiving("a request for the run config upload URL")
        .given("job 123 has run 978")
        .with_request("POST", "/jobs")
        .with_headers(expected_headers())
        .with_body(
            {
                "jobId": match.int(123),
                "context": "run",
                "type": match.regex("config", regex=r"^(input|config)$"),
                "runId": match.int(978),
            },
            "application/json",
        )
        .will_respond_with(200)
        .with_body({"url": match.regex(RUN_CONFIG_URL, regex=RUN_CONFIG_URL_REGEX)}, "application/json")
    )
    (
        pact.upon_receiving("a request to submit a run of job 123")
        .given("job 123 exists")
        .with_request("POST", "/runs")
        .with_headers(expected_headers())
        .with_body({"runRequests": match.each_like(run_request_matcher())}, "application/json")
        .will_respond_with(200)
        .with_body(
            {
                "runResponses": match.each_like(
                    {
                        "runId": match.int(978),
                        "jobId": match.int(123),
                        "status": match.str("Submitted"),
                        "errors": None,
                        "runRequest": run_request_matcher(),
                    }
                )
            },
            "application/json",
        )
    )
    (
        pact.upon_receiving("a request for the runs of job 123")
        .given("job 123 has run 978")
        .with_request("GET", "/runs")
        .with_query_parameter("job_id", match.regex("123", regex=r"^\d+$"))
        .with_headers(expected_headers())
        .will_respond_with(200)
        .with_body(
            {
                "runs": match.each_like(
                    {
                        "id": match.int(978),
                        "jobId": match.int(123),
                        "userId": match.int(456),
                        "createdTs": match.regex("2024-01-01T00:00:00Z", regex=DATETIME_REGEX),
                        "request": run_request_matcher(),
                        "podPhase": match.regex("Running", regex=r"^(Pending|Running|Succeeded|Failed|Unknown)$"),
                        "containerStatus": None,
                        "status": match.regex("RUNNING", regex=r"^(NOT_STARTED|QUEUED|RUNNING|ERROR|DONE)$"),
                        "userDeleted": match.bool(False),
                        "epxClientVersion": match.str("1.2.3"),
                    }
                )
            },
            "application/json",
        )
    )

    def exercise(base: str) -> None:
        headers = client_headers()
        response = requests.post(f"{base}/jobs/register", json={"tags": ["info_job"]}, headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"id": 123, "userId": 456, "tags": ["info_job"]}

        body = {"jobId": 123, "context": "job", "type": "input"}
        response = requests.post(f"{base}/jobs", json=body, headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"url": SIGNED_URL}

        body = {"jobId": 123, "context": "run", "type": "config", "runId": 978}
        response = requests.post(f"{base}/jobs", json=body, headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"url": RUN_CONFIG_URL}

        response = requests.post(f"{base}/runs", json={"runRequests": [RUN_REQUEST]}, headers=headers, timeout=10)
        assert response.status_code == 200
        [run_response] = response.json()["runResponses"]
        assert run_response["runId"] == 978
        assert run_response["runRequest"] == RUN_REQUEST

        response = requests.get(f"{base}/runs", params={"job_id": 123}, headers=headers, timeout=10)
        assert response.status_code == 200
        [run] = response.json()["runs"]
        assert (run["id"], run["jobId"], run["status"], run["podPhase"]) == (978, 123, "RUNNING", "Running")

    return pact, exercise


def s3_pact() -> tuple[Pact, Callable[[str], None]]:
    pact = Pact(CONSUMER, "S3").with_specification("V4")
    payload = b"\x1f\x8b\x08\x00job-input-archive"
    (
        pact.upon_receiving("an upload of the input of job 123")
        .given("job 123 exists")
        .with_request("PUT", match.regex("/s3/uploads/123/job_input", regex=UPLOAD_PATH_REGEX))
        .with_binary_body(payload, "application/octet-stream")
        # Any bytes: the upload is whatever archive the client built.
        .with_matching_rules({"body": {"$": {"matchers": [{"match": "type"}]}}})
        .will_respond_with(200)
    )

    def exercise(base: str) -> None:
        response = requests.put(
            f"{base}/s3/uploads/123/job_input",
            data=payload + b" with more bytes",
            headers={"content-type": "application/octet-stream"},
            timeout=10,
        )
        assert response.status_code == 200

    return pact, exercise


CASES = {"Epistemix": ("epx-epistemix.json", epistemix_pact), "S3": ("epx-s3.json", s3_pact)}


def comparable(pact_json: dict[str, Any]) -> dict[str, Any]:
    """The pact without metadata that only records which pact-python/pact-rust version wrote it."""
    metadata = {k: v for k, v in pact_json.get("metadata", {}).items() if k not in {"pactRust", "pactPython"}}
    return {**pact_json, "metadata": metadata}


@pytest.mark.parametrize("provider", sorted(CASES))
def test_epx_consumer_pact(provider: str, tmp_path: Path) -> None:
    file_name, build = CASES[provider]
    pact, exercise = build()
    with pact.serve() as server:
        exercise(str(server.url).rstrip("/"))
        server.write_file(tmp_path, overwrite=True)

    [written] = tmp_path.glob("*.json")
    fresh = json.loads(written.read_text())
    assert fresh["consumer"]["name"] == CONSUMER
    assert fresh["provider"]["name"] == provider

    committed = PACT_DIR / file_name
    if UPDATE:
        PACT_DIR.mkdir(exist_ok=True)
        committed.write_text(json.dumps(fresh, indent=2, sort_keys=True) + "\n")
    assert committed.is_file(), f"{committed} is missing: run this test once with PACT_UPDATE=1"
    assert comparable(json.loads(committed.read_text())) == comparable(fresh), (
        f"{committed} is out of date with the consumer test: rerun it with PACT_UPDATE=1"
    )
