"""The control plane from the command line: `pactmock reset | state | clock | scenarios | volume` against a
running mock, as a CI script would call them, with the admin token when the mock asks for one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import requests

from tests.integration.test_generated_serving import write_pact
from tests.support.epx import EPX_HEADERS
from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "cli-admin-token"


def pactmock(mock: RunningMock, *args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACTMOCK_URL": mock.url}
    env.pop("MOCK_ADMIN_TOKEN", None)
    if token:
        env["MOCK_ADMIN_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_every_control_command_against_a_running_mock(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "pacts"
    shutil.copytree(ROOT / "pacts", folder)
    write_pact(folder)
    mock = run_mock(folder, DATABASE_URL=database_url, MOCK_ADMIN_TOKEN=TOKEN)

    frozen = pactmock(mock, "clock", "freeze", "2030-01-01T00:00:00Z")
    assert frozen.returncode == 0, frozen.stderr
    assert json.loads(pactmock(mock, "clock", "advance", "60").stdout)["now"].startswith("2030-01-01T00:01:00")

    on = pactmock(mock, "scenarios", "on", "job 123 exists")
    assert on.returncode == 0 and json.loads(on.stdout)["provider_states"] == ["job 123 exists"], on.stderr
    assert requests.get(mock.url + "/runs?job_id=123", headers=EPX_HEADERS, timeout=10).status_code == 200

    volume = pactmock(mock, "volume", "Workflows", "workflows", "LOW")
    assert volume.returncode == 0 and json.loads(volume.stdout)["count"] == 100, volume.stderr

    saved = tmp_path / "state.json"
    exported = pactmock(mock, "state", "export", str(saved))
    assert exported.returncode == 0 and "exported" in exported.stderr, exported.stderr
    # Not a terminal: the progress is plain lines, the last one the whole file.
    assert "(100%)" in exported.stderr and exported.stderr.count("wrote") >= 1, exported.stderr
    assert pactmock(mock, "reset").returncode == 0
    assert requests.get(mock.url + "/runs?job_id=123", headers=EPX_HEADERS, timeout=10).status_code == 404
    imported = pactmock(mock, "state", "import", str(saved))
    assert imported.returncode == 0 and "read" in imported.stderr and "(100%)" in imported.stderr, imported.stderr
    again = tmp_path / "again.json"
    assert pactmock(mock, "state", "export", str(again)).returncode == 0
    assert again.read_bytes() == saved.read_bytes()
    assert requests.get(mock.url + "/runs?job_id=123", headers=EPX_HEADERS, timeout=10).status_code == 200


def test_refusals_and_an_unreachable_mock_exit_with_the_reason(
    run_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    folder = tmp_path / "pacts"
    shutil.copytree(ROOT / "pacts", folder)
    mock = run_mock(folder, MOCK_ADMIN_TOKEN=TOKEN)
    no_token = pactmock(mock, "clock", token=None)
    # A loopback client without the token is let in only when no token is set: here one is.
    assert no_token.returncode == 1 and "401" in no_token.stderr, no_token.stderr
    bad = pactmock(mock, "clock", "advance", "--", "-5")
    assert bad.returncode == 1 and "seconds" in bad.stderr
    missing = pactmock(mock, "scenarios", "on", "x", "--provider", "Nope")
    assert missing.returncode == 1 and "404" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "pactmock-state", "version": 2}')
    assert pactmock(mock, "state", "import", str(broken)).returncode == 1
    gone = RunningMock("http://127.0.0.1:9", mock.process, mock.log_path)
    assert pactmock(gone, "clock").returncode == 2
