"""`pactmock seed` rows/s on SQLite and PostgreSQL, and where the time goes.

Run from the project root::

    python -m bench.seed                      # N = 200,000, 3 rounds per backend (a few minutes)
    python -m bench.seed --count 20000 --rounds 1
    TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.seed

Three figures per backend, each the median of the rounds, every round on a fresh database:

- end to end: the real command (`python -m app.cli seed Flow tasks N`, the examples/flow pact and model file),
  its own "rows/s" line, the wall time of the process (start-up and migration included), and the peak RSS of
  its process tree (the command and its worker processes, sampled every 0.1 s): seeding streams chunk by
  chunk, so it does not grow with N;
- generation alone: items made per second by one process (app.seeding.rows_of: generated_item and JSON text);
- writing alone: rows/s of the store's bulk path (app.store.bulk) given rows made beforehand, first into an
  empty collection, then again over the same ids (the re-run case, every row replaced).

`--end-to-end-only` runs the command alone (for N = 1,000,000 and up, where the other two take long).
PostgreSQL is skipped when TEST_POSTGRES_URL is not set. This script reports numbers; it never judges them.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

from app import seeding
from app.settings import Settings
from app.store import migrate
from app.store.bulk import BulkItems
from bench.compare import tree_rss_bytes

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "examples" / "flow"
AT = "2030-01-01T00:00:00Z"
RATE = re.compile(r"seeded (\d+) items of \w+ in ([0-9.]+) s \(([0-9,]+) rows/s\)")


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file, brought to head."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/seed.sqlite3"
        migrate.upgrade(url)
        yield url


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server, brought to head, dropped afterwards."""
    name = f"pactmock_bench_seed_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(drivername="postgresql+psycopg2", database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def end_to_end(url: str, count: int, jobs: int | None) -> tuple[float, float, int]:
    """(the command's own rows/s, rows per second of the whole process's wall time, peak RSS of its tree)."""
    extra = ["--jobs", str(jobs)] if jobs else []
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "seed", "Flow", "tasks", str(count), "--pact-dir", str(FLOW)]
            + ["--at", AT]
            + extra,
            env={**os.environ, "DATABASE_URL": url},
            stdout=out,
            stderr=err,
            text=True,
            cwd=ROOT,
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_bytes(process.pid) or 0)
            time.sleep(0.1)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"the command failed ({process.returncode}): {stderr[-500:]}")
    found = RATE.search(stdout)
    if found is None:
        raise RuntimeError(f"no rate in the command's output: {stdout!r} {stderr!r}")
    return float(found.group(3).replace(",", "")), count / wall, peak


def writing(url: str, rows: list[seeding.Row]) -> tuple[float, float, float]:
    """Rows/s of the bulk path: into an empty collection, then the same rows again (each one replaced); and the
    CPU microseconds per row of the first pass, this process's plus the PostgreSQL backend's it talked to."""
    rates, cpu = [], 0.0
    for attempt in range(2):
        started, cpu_started = time.perf_counter(), time.process_time()
        with BulkItems(url) as store:
            backend = None if store.on_sqlite else _backend_pid(store)
            backend_started = _cpu_seconds(backend)
            for start in range(0, len(rows), seeding.CHUNK):
                store.write("Flow", "tasks", rows[start : start + seeding.CHUNK])
            if attempt == 0:
                cpu = time.process_time() - cpu_started + _cpu_seconds(backend) - backend_started
        rates.append(len(rows) / (time.perf_counter() - started))
    return rates[0], rates[1], cpu / len(rows) * 1e6


def _backend_pid(store: BulkItems) -> int:
    with store._connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    store._connection.commit()
    return pid


def _cpu_seconds(pid: int | None) -> float:
    """User and system CPU seconds of a process on this machine (/proc), 0 for None or when unreadable."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    backend: str,
    fresh: Callable[[], AbstractContextManager[str]],
    count: int,
    rounds: int,
    jobs: int | None,
    only_end_to_end: bool = False,
) -> None:
    settings = replace(Settings.from_env(), pact_dir=str(FLOW))
    chosen = seeding.plan(settings, "Flow", "tasks", count, None, datetime(2030, 1, 1, tzinfo=UTC))
    command, wall, made, first, again, peaks = [], [], [], [], [], []
    made_cpu, write_cpu = [], []
    for _ in range(rounds):
        with fresh() as url:
            rate, whole, peak = end_to_end(url, count, jobs)
            command.append(rate)
            wall.append(whole)
            peaks.append(peak)
        if only_end_to_end:
            continue
        started, cpu_started = time.perf_counter(), time.process_time()
        rows = seeding.rows_of(chosen, 0, count)
        made.append(count / (time.perf_counter() - started))
        made_cpu.append((time.process_time() - cpu_started) / count * 1e6)
        with fresh() as url:
            into_empty, over_same, cpu = writing(url, rows)
            first.append(into_empty)
            again.append(over_same)
            write_cpu.append(cpu)
    print(f"{backend}, N = {count:,}, median of {rounds}, load average now {os.getloadavg()[0]:.2f}:")
    print(f"  end to end (the command's line)     {statistics.median(command):>10,.0f} rows/s   runs: {_list(command)}")
    print(f"  end to end (process wall time)      {statistics.median(wall):>10,.0f} rows/s   runs: {_list(wall)}")
    print(f"  peak RSS of the command's processes {max(peaks) / 2**20:>10,.0f} MB       runs: {_list(peaks, 2**20)}")
    if only_end_to_end:
        return
    print(f"  generation alone, one process       {statistics.median(made):>10,.0f} items/s  runs: {_list(made)}")
    print(f"  writing alone, empty collection     {statistics.median(first):>10,.0f} rows/s   runs: {_list(first)}")
    print(f"  writing alone, every row replaced   {statistics.median(again):>10,.0f} rows/s   runs: {_list(again)}")
    print(
        f"  CPU per item, generation            {statistics.median(made_cpu):>10,.1f} us       runs: {_list(made_cpu)}"
    )
    print(
        f"  CPU per row, writing (with server)  {statistics.median(write_cpu):>10,.1f} us       runs: {_list(write_cpu)}"
    )


def _list(values: list[float] | list[int], unit: int = 1) -> str:
    return ", ".join(f"{value / unit:,.0f}" for value in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200_000, help="items per run [200,000]")
    parser.add_argument("--rounds", type=int, default=3, help="runs per backend; the median is reported [3]")
    parser.add_argument("--jobs", type=int, default=None, help="the command's --jobs [one per core]")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--end-to-end-only", action="store_true", help="the command alone, not the other two")
    options = parser.parse_args()
    logging.disable(logging.CRITICAL)
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    if options.backend in ("sqlite", "both"):
        measure("SQLite", sqlite_database, options.count, options.rounds, options.jobs, options.end_to_end_only)
    server = os.environ.get("TEST_POSTGRES_URL")
    if options.backend in ("postgresql", "both"):
        if server:
            measure(
                "PostgreSQL",
                lambda: postgres_database(server),
                options.count,
                options.rounds,
                options.jobs,
                options.end_to_end_only,
            )
        else:
            print("PostgreSQL: skipped (TEST_POSTGRES_URL is not set)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
