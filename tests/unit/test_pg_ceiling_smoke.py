"""Smoke test of the PostgreSQL ceiling benchmark (bench/pg_ceiling.py): it runs and measures (never judged).

What pgbench sends must be the mock's own submission: the test checks the script stores a run in the
mock's schema, with the next id of the counter, as `POST /runs` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import pg_ceiling
from tests.integration.conftest import postgres_server_url


def test_the_ceiling_benchmark_runs_the_mocks_submission_through_pgbench(tmp_path: Path, capsys) -> None:
    server = postgres_server_url()
    if pg_ceiling.pgbench_binary() is None:
        pytest.skip("pgbench is not installed")
    out = tmp_path / "ceiling.json"
    assert (
        pg_ceiling.main(["--clients", "2", "--duration", "1", "--postgres-url", str(server), "--json", str(out)]) == 0
    )
    result = json.loads(out.read_text())
    (row,) = result["rows"]
    assert row["clients"] == 2 and row["failed"] == 0 and row["tps"] > 0, row
    assert "| 2 |" in capsys.readouterr().out


def test_the_script_is_the_mocks_submission_and_stores_a_run(tmp_path: Path) -> None:
    import psycopg2

    from bench.compare import create_database, drop_database

    server = str(postgres_server_url())
    name, url = create_database(server)
    try:
        pg_ceiling.prepare(url)
        script = pg_ceiling.submission_script(url)
        with psycopg2.connect(pg_ceiling._libpq_url(url)) as connection, connection.cursor() as cursor:
            connection.autocommit = True
            cursor.execute(script.replace(" \\; ", "; "))
            first_id = cursor.fetchone()[0]
            cursor.execute("SELECT id, job_id, request->>'workingDir' FROM runs")
            assert cursor.fetchall() == [(int(first_id), pg_ceiling.JOB_ID, "/home/epx/run")]
    finally:
        drop_database(server, name)
