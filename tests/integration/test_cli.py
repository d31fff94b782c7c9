"""The `pactmock` command as a user runs it: verify, and the one-line errors of serve."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from .conftest import fresh_postgres_database, start_mock, stop_mock

ROOT = Path(__file__).resolve().parents[2]
PACT_DIR = ROOT / "pacts"


def pactmock(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_verify_passes_against_the_mock_and_says_so(run_mock) -> None:
    mock = run_mock(PACT_DIR)
    result = pactmock("verify", mock.url, "--pact-dir", str(PACT_DIR))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  epx-epistemix.json (provider Epistemix)" in result.stdout
    assert "PASS  epx-s3.json (provider S3)" in result.stdout
    assert "2 of 2 pact files verified" in result.stdout


def test_verify_fails_with_a_readable_summary_when_the_provider_breaks_the_contract(run_mock, tmp_path: Path) -> None:
    # A provider that answers from a different contract: same routes, but register returns a string id.
    drifted = json.loads((PACT_DIR / "epx-epistemix.json").read_text())
    for interaction in drifted["interactions"]:
        if interaction["description"] == "a request to register an info job":
            interaction["response"]["body"]["content"]["id"] = "not-a-number"
            interaction["response"]["matchingRules"] = {}
    drifted["provider"]["name"] = "Drifted"
    served = tmp_path / "served"
    served.mkdir()
    (served / "drifted.json").write_text(json.dumps(drifted))
    mock = run_mock(served)

    checked = tmp_path / "checked"
    checked.mkdir()
    (checked / "epx-epistemix.json").write_text((PACT_DIR / "epx-epistemix.json").read_text())
    result = pactmock("verify", mock.url, "--pact-dir", str(checked))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  epx-epistemix.json (provider Epistemix)" in result.stdout
    assert "a request to register an info job" in result.stdout
    assert "0 of 1 pact files verified" in result.stdout


def test_verify_without_pacts_is_one_clear_line(tmp_path: Path) -> None:
    result = pactmock("verify", "http://127.0.0.1:9", "--pact-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: no pact files in {tmp_path}: pass --pact-dir or set PACT_DIR"


def test_serve_refuses_a_postgresql_database_that_is_not_at_head() -> None:
    with fresh_postgres_database() as url:
        result = pactmock("serve", "--port", "0", DATABASE_URL=url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "is at revision none, this pactmock needs" in result.stderr
    assert "run `pactmock db upgrade`" in result.stderr


def test_serve_names_an_unreachable_database_without_its_password() -> None:
    result = pactmock("serve", DATABASE_URL="postgresql://me:hunter2@127.0.0.1:1/nothing")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot open the database postgresql+psycopg2://me:***@127.0.0.1:1/nothing" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_bad_setting_is_one_line_naming_it() -> None:
    result = pactmock("serve", PACTMOCK_RUN_OUTCOME="MAYBE")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: PACTMOCK_RUN_OUTCOME must be DONE or ERROR, not 'MAYBE'"


def _greeting_pact(greeting: str) -> str:
    interaction = {
        "description": "a greeting",
        "request": {"method": "GET", "path": "/greeting"},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"hello": greeting}},
    }
    return json.dumps(
        {
            "consumer": {"name": "greeter"},
            "provider": {"name": "Greetings"},
            "interactions": [interaction],
            "metadata": {"pactSpecification": {"version": "3.0.0"}},
        }
    )


def test_serve_reload_picks_up_an_edited_pact(tmp_path: Path) -> None:
    pact_dir = tmp_path / "pacts"
    pact_dir.mkdir()
    pact = pact_dir / "greeter-greetings.json"
    pact.write_text(_greeting_pact("world"))
    mock = start_mock(pact_dir, tmp_path, "--reload")
    try:
        assert requests.get(mock.url + "/greeting", timeout=5).json() == {"hello": "world"}
        pact.write_text(_greeting_pact("again"))
        answers = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.ConnectionError):  # the workers are restarting
                answers.append(requests.get(mock.url + "/greeting", timeout=5).json())
            if answers and answers[-1] == {"hello": "again"}:
                break
            time.sleep(0.2)
        assert answers[-1] == {"hello": "again"}, mock.log()[-3000:]
    finally:
        stop_mock(mock)
