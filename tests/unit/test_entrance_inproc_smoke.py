"""Smoke test of `python -m bench.entrance_inproc`: each load runs, every answer is 2xx (the tool stops on any
other), and it prints well-formed times (never judged). Run as a user runs it, in a subprocess. The PostgreSQL
case runs where $TEST_POSTGRES_URL names a server, as in the rest of the suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("load", "interactions"),
    [("single", 6), ("random", 2_500), ("post", 6)],  # 2,500: past compile_lazily_from, so compiled on a miss
)
def test_each_load_runs_and_prints_its_time_a_request(load: str, interactions: int) -> None:
    command = [sys.executable, "-m", "bench.entrance_inproc", "--load", load, "--interactions", str(interactions)]
    command += ["--requests", "60", "--rounds", "2"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["load"] == load
    assert len(printed["us_per_request"]) == 2 and all(us > 0 for us in printed["us_per_request"])


def test_the_post_load_runs_on_postgresql_when_given_a_server() -> None:
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        if os.environ.get("POSTGRES_REQUIRED") == "1":
            pytest.fail("POSTGRES_REQUIRED=1 but TEST_POSTGRES_URL is not set")
        pytest.skip("TEST_POSTGRES_URL is not set")
    command = [sys.executable, "-m", "bench.entrance_inproc", "--load", "post", "--postgres-url", server]
    command += ["--requests", "30", "--rounds", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["backend"] == "postgresql" and printed["us_per_request"][0] > 0
    name = printed["database"].removesuffix(" (dropped)")
    # Its database is dropped afterwards: nothing of the run is left on the server.
    connection = psycopg2.connect(server)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
            assert cursor.fetchone()[0] == 0
    finally:
        connection.close()


def test_a_postgresql_server_goes_with_the_post_load_only() -> None:
    command = [sys.executable, "-m", "bench.entrance_inproc", "--load", "single", "--postgres-url", "postgresql://x/y"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--postgres-url goes with --load post" in done.stderr
