"""How many run submissions per second PostgreSQL itself can take on this machine: the ceiling of part c.

`python -m bench.compare` part c. measures `POST /runs` through the whole mock. This measures the database
alone: pgbench (written in C, PostgreSQL's own load tool) sends exactly the statements the mock sends for
one submission (`app/store/run_batches_postgresql.py`, bound by psycopg2 as the mock binds them, in one message
as the mock sends them) from N clients, against a fresh database migrated by `pactmock db upgrade`: what
the database takes one submission at a time. Whatever the mock does in Python comes on top of this, on the
same cores; under load the mock sends the submissions waiting at once as one string, which costs the database
less per submission than this.

    python -m bench.pg_ceiling [--clients 4,8,32] [--duration 10] [--postgres-url URL]
    python -m bench.pg_ceiling --check-script [--postgres-url URL]   # run the script once, print the run it stored
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.compare import ROOT, create_database, drop_database
from bench.compare import SUBMIT_RUN_BODY as SUBMIT_BODY

JOB_ID = 123


def pgbench_binary() -> str | None:
    """The pgbench command: on PATH, else the newest one Debian installs beside the server."""
    found = shutil.which("pgbench")
    if found:
        return found
    # Debian keeps the server's tools out of PATH.
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def submission_script(url: str) -> str:
    """The mock's submission of one run for job 123, as one pgbench command of compound statements."""
    from datetime import UTC, datetime

    import psycopg2

    from app.store import run_batches_postgresql as runs

    request = {**SUBMIT_BODY["runRequests"][0], "jobId": JOB_ID}
    # One submission alone: the ceiling is what the database takes one by one, the mock's groups aside.
    submission = runs.RunBatch([request], 1, "1.2.3", datetime.now(UTC))
    parameters = runs.parameters_of([submission])
    with psycopg2.connect(_libpq_url(url)) as connection:
        bound = connection.cursor().mogrify(runs.SUBMIT, parameters).decode()
    statements = [" ".join(s.split("\n")).strip() for s in re.split(r";\s*\n", bound) if s.strip()]
    # "\;" joins statements into one message, as the driver sends the mock's string.
    return " \\; ".join(s.rstrip(";") for s in statements) + ";\n"


def _libpq_url(url: str) -> str:
    return re.sub(r"^postgresql\+psycopg2://", "postgresql://", url)


def prepare(url: str) -> None:
    """Migrate the fresh database at `url` as `pactmock db upgrade` does and add the job runs are submitted for."""
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"pactmock db upgrade failed: {done.stderr.strip()[-300:]}")
    import psycopg2

    with psycopg2.connect(_libpq_url(url)) as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO jobs (id, user_id, tags, created_ts) VALUES (%s, 1, '[]', now())", (JOB_ID,))


def run_pgbench(binary: str, url: str, script: Path, clients: int, duration: int) -> dict[str, Any]:
    """Run `script` from `clients` pgbench clients for `duration` seconds; its throughput, latency and failures."""
    done = subprocess.run(
        [
            binary,
            "-n",
            "-M",
            "simple",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(duration),
            "-f",
            str(script),
            _libpq_url(url),
        ],
        capture_output=True,
        text=True,
    )
    output = done.stdout + done.stderr
    tps = re.search(r"^tps = ([\d.]+)", output, re.M)
    latency = re.search(r"^latency average = ([\d.]+) ms", output, re.M)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if done.returncode != 0 or tps is None:
        raise SystemExit(f"pgbench failed ({done.returncode}):\n{output[-1500:]}")
    return {
        "clients": clients,
        "tps": float(tps.group(1)),
        "latency_ms": float(latency.group(1)) if latency else None,
        "failed": int(failed.group(1)) if failed else 0,
    }


def check_script(server_url: str) -> dict[str, Any]:
    """Run the submission script once in a fresh database: the id it returned and the runs table afterwards.

    What pgbench sends must be the mock's own submission; this shows it stores a run as `POST /runs` does.
    """
    import psycopg2

    name, url = create_database(server_url)
    try:
        prepare(url)
        script = submission_script(url)
        with psycopg2.connect(_libpq_url(url)) as connection, connection.cursor() as cursor:
            connection.autocommit = True
            # pgbench's "\;" joins statements into one message; psycopg2 takes them plainly separated.
            cursor.execute(script.replace(" \\; ", "; "))
            returned_id = int(cursor.fetchone()[0])
            cursor.execute("SELECT id, job_id, request->>'workingDir' FROM runs ORDER BY id")
            runs = [list(row) for row in cursor.fetchall()]
    finally:
        drop_database(server_url, name)
    return {"job_id": JOB_ID, "returned_id": returned_id, "runs": runs}


def main(argv: list[str] | None = None) -> int:
    """Command line: the table of submissions per second per client count, also written as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="4,8,32", help="comma-separated client counts [4,8,32]")
    parser.add_argument("--duration", type=int, default=10, help="seconds per client count [10]")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", ""))
    parser.add_argument("--json", default=str(ROOT / "bench" / "out" / "pg_ceiling.json"))
    parser.add_argument(
        "--check-script", action="store_true", help="run the submission once and print, as JSON, the run it stored"
    )
    args = parser.parse_args(argv)
    if args.check_script:
        if not args.postgres_url:
            raise SystemExit("no PostgreSQL: pass --postgres-url or set TEST_POSTGRES_URL")
        print(json.dumps(check_script(args.postgres_url)))
        return 0
    binary = pgbench_binary()
    if not binary:
        raise SystemExit("pgbench not found (Debian: postgresql-client or the server package)")
    if not args.postgres_url:
        raise SystemExit("no PostgreSQL: pass --postgres-url or set TEST_POSTGRES_URL")
    name, url = create_database(args.postgres_url)
    results = []
    try:
        prepare(url)
        with tempfile.TemporaryDirectory() as work:
            script = Path(work) / "submit.sql"
            script.write_text(submission_script(url))
            for clients in (int(c) for c in args.clients.split(",")):
                results.append(run_pgbench(binary, url, script, clients, args.duration))
    finally:
        drop_database(args.postgres_url, name)
    print(f"pgbench ({binary}), the mock's run submission alone, {args.duration} s per row")
    print("| clients | submissions/s | mean latency ms | failed |")
    print("| ---: | ---: | ---: | ---: |")
    for row in results:
        print(f"| {row['clients']} | {row['tps']:,.0f} | {row['latency_ms']} | {row['failed']} |")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"pgbench": binary, "duration_s": args.duration, "rows": results}, indent=2))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
