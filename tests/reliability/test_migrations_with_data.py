"""Migrations with data in the database: each revision keeps what its docstring promises.

Revision 0001 is the first: its docstring says a downgrade drops every table. So the data written
through the API is gone after `downgrade -1`, and `upgrade` brings back an empty schema that hands
out the contract's first ids again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.integration.conftest import start_mock, stop_mock
from tests.support.epx import EPX_HEADERS

ROOT = Path(__file__).resolve().parents[2]
PACT_DIR = ROOT / "pacts"
HEADERS = EPX_HEADERS


def db(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result


def register(base: str) -> int:
    reply = requests.post(f"{base}/jobs/register", json={"tags": ["kept?"]}, headers=HEADERS, timeout=10)
    assert reply.status_code == 200, reply.text
    return int(reply.json()["id"])


def test_each_downgrade_drops_the_data_it_says_it_drops_and_no_more(database_url: str, tmp_path: Path) -> None:
    head = "0004"
    assert (
        "Downgrading drops the index only: no data is lost"
        in (ROOT / "migrations/versions/0002_jobs_by_user.py").read_text()
    )
    # 0003 and 0004 drop the generic items and the mock's settings, neither of which holds jobs.
    assert "Downgrading drops" in (ROOT / "migrations/versions/0004_mock_settings.py").read_text()
    assert "Downgrading drops every table" in (ROOT / "migrations/versions/0001_jobs_runs_uploads.py").read_text()
    db(database_url, "upgrade")
    mock = start_mock(PACT_DIR, tmp_path, DATABASE_URL=database_url)
    try:
        assert [register(mock.url), register(mock.url)] == [123, 124]
    finally:
        stop_mock(mock)

    # Down to 0001 (0004, 0003 and 0002 undone) and up again: the jobs are all there.
    db(database_url, "downgrade", "0001")
    assert db(database_url, "current").stdout.startswith(f"0001 (head is {head})")
    db(database_url, "upgrade")
    mock = start_mock(PACT_DIR, tmp_path, DATABASE_URL=database_url)
    try:
        runs = requests.get(f"{mock.url}/runs", params={"job_id": "124"}, headers=HEADERS, timeout=10)
        assert runs.status_code == 200, runs.text
        assert register(mock.url) == 125
    finally:
        stop_mock(mock)

    # Down to nothing: the jobs are gone, as 0001 says, and the schema works as new.
    db(database_url, "downgrade", "base")
    assert db(database_url, "current").stdout.startswith("base (empty)")
    db(database_url, "upgrade")
    assert db(database_url, "current").stdout.startswith(f"{head} (head)")
    mock = start_mock(PACT_DIR, tmp_path, DATABASE_URL=database_url)
    try:
        runs = requests.get(f"{mock.url}/runs", params={"job_id": "123"}, headers=HEADERS, timeout=10)
        assert runs.status_code == 404
        assert register(mock.url) == 123
    finally:
        stop_mock(mock)
