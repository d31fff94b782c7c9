"""A consumer's pact that pins literals the stateful mock varies (issue 14, part 6): the mock says so before the
verifier does, replay mode serves such a pact as it is, and in stateful mode every verifier failure was predicted.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pact import Verifier

from app.verify import verifier_for

from .conftest import start_mock, stop_mock

HEADERS = {
    "Offline-Token": "Bearer secret-token",
    "Content-Type": "application/json",
    "fredcli-version": "1.2.3",
    "user-agent": "epx_client_1.2.3",
}
RUN = {
    "id": 978,
    "jobId": 123,
    "userId": 456,
    "createdTs": "2024-01-01T00:00:00.000Z",
    "request": {
        "jobId": 123,
        "workingDir": "/w",
        "size": "hot",
        "fredVersion": "latest",
        "fredArgs": [],
        "fredFiles": [],
    },
    "podPhase": "Succeeded",
    "containerStatus": None,
    "status": "DONE",
    "userDeleted": False,
    "epxClientVersion": "1.2.3",
}
# A V2 pact with no matchers at all, as a consumer's own test might write it.
PINNED_PACT = {
    "consumer": {"name": "notebook"},
    "provider": {"name": "Epistemix"},
    "interactions": [
        {
            "description": "an upload URL",
            "providerState": "job 123 exists",
            "request": {
                "method": "POST",
                "path": "/jobs",
                "headers": HEADERS,
                "body": {"jobId": 123, "context": "job", "type": "input"},
            },
            "response": {
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": {"url": "http://localhost:5556/pre-signed-url"},
            },
        },
        {
            "description": "the runs of job 123",
            "providerState": "job 123 has run 978",
            "request": {"method": "GET", "path": "/runs", "query": "job_id=123", "headers": HEADERS},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"runs": [RUN]}},
        },
    ],
    "metadata": {"pactSpecification": {"version": "2.0.0"}},
}
PREDICTED = {"$.url", "$.runs[*].status", "$.runs[*].podPhase", "$.runs[*].createdTs"}


def _pact_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pinned"
    folder.mkdir()
    (folder / "notebook-epistemix.json").write_text(json.dumps(PINNED_PACT))
    return folder


def _verify(url: str, pact_dir: Path) -> dict[str, Any]:
    verifier = verifier_for(Verifier, pact_dir / "notebook-epistemix.json", url, f"{url}/_mock/provider-states", 10_000)
    with contextlib.suppress(RuntimeError):  # a failed interaction: the results say which
        verifier.verify()
    results: dict[str, Any] = verifier.results
    return results


def _mismatched_paths(results: dict[str, Any]) -> set[str]:
    paths = set()
    for result in results.get("interactionResults") or []:
        for mismatch in (result.get("mismatch") or {}).get("mismatches") or []:
            paths.add(str(mismatch.get("path")).replace("[0]", "[*]"))
    return paths


def _listed(pact_dir: Path) -> list[str]:
    listed = subprocess.run(
        [sys.executable, "-m", "app.cli", "contracts", "--pact-dir", str(pact_dir)],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PACTMOCK_REPLAY_PROVIDERS"},
    )
    return [line for line in listed.stderr.splitlines() if line.startswith("contract and state disagree")]


def _predicted(pact_dir: Path) -> set[str]:
    return {line.split(" pins ")[1].split(" to ")[0] for line in _listed(pact_dir)}


def test_the_pinned_fields_are_listed_before_the_verifier_runs(tmp_path: Path) -> None:
    pact_dir = _pact_dir(tmp_path)
    lines = _listed(pact_dir)
    assert _predicted(pact_dir) >= PREDICTED
    url_line = next(line for line in lines if " pins $.url " in line)
    assert "'http://localhost:5556/pre-signed-url'" in url_line and "match.regex" in url_line
    # What the handlers echo from the request is not state: never listed.
    assert not any(" pins $.runs[*].jobId " in line for line in lines)


def test_replay_mode_serves_the_pact_as_it_is_and_stateful_mode_fails_only_where_predicted(tmp_path: Path) -> None:
    pact_dir = _pact_dir(tmp_path)
    predicted = _predicted(pact_dir)
    replayed = start_mock(pact_dir, tmp_path, PACTMOCK_REPLAY_PROVIDERS="Epistemix")
    try:
        results = _verify(replayed.url, pact_dir)
        assert results.get("result") is True, results
    finally:
        stop_mock(replayed)

    (tmp_path / "stateful").mkdir()
    stateful = start_mock(pact_dir, tmp_path / "stateful")
    try:
        results = _verify(stateful.url, pact_dir)
        assert not results.get("result"), "the stateful answers were expected to differ from the pinned literals"
        failed = _mismatched_paths(results)
        assert failed and failed <= predicted, (failed - predicted, results)
        assert "contract and state disagree" in stateful.log()
    finally:
        stop_mock(stateful)


def test_serve_replay_flag_is_the_same_as_the_setting(tmp_path: Path) -> None:
    pact_dir = _pact_dir(tmp_path)
    replayed = start_mock(pact_dir, tmp_path, "--replay", "Epistemix")
    try:
        assert _verify(replayed.url, pact_dir).get("result") is True
        assert "contract and state disagree" not in replayed.log()
    finally:
        stop_mock(replayed)
