"""Smoke test of the PostgreSQL ceiling benchmark (bench/pg_ceiling.py): it runs and measures (never judged).

What pgbench sends must be the mock's own submission: the test checks the script stores a run in the
mock's schema, with the id it returns, as `POST /runs` does. The bench runs as a user runs it, in a
subprocess: tests never import bench/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import postgres_server_url

ROOT = Path(__file__).resolve().parents[2]
# The job the bench submits runs for (bench/pg_ceiling.py's docstring names it).
BENCH_JOB_ID = 123


def _run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.pg_ceiling", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_ceiling_benchmark_runs_the_mocks_submission_through_pgbench(tmp_path: Path) -> None:
    server = postgres_server_url()
    out = tmp_path / "ceiling.json"

    done = _run_bench("--clients", "2", "--duration", "1", "--postgres-url", str(server), "--json", str(out))

    if done.returncode != 0 and "pgbench not found" in done.stderr:
        pytest.skip("pgbench is not installed")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    (row,) = result["rows"]
    assert row["clients"] == 2 and row["failed"] == 0 and row["tps"] > 0, row
    assert "| 2 |" in done.stdout


def test_the_script_is_the_mocks_submission_and_stores_a_run() -> None:
    server = str(postgres_server_url())

    done = _run_bench("--check-script", "--postgres-url", server)

    assert done.returncode == 0, done.stderr
    checked = json.loads(done.stdout)
    assert checked["runs"] == [[checked["returned_id"], BENCH_JOB_ID, "/home/epx/run"]]
