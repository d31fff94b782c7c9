"""What isolated sessions cost (issue 18 item 7; the figures are in docs/sessions.md), on SQLite and PostgreSQL.

    python -m bench.sessions [--postgres URL] [--rounds 3] [--seconds 2]
    python -m bench.sessions --callgrind       # 2 only, as instructions counted by callgrind (repeatable)

1. Making a session: from the tables' metadata and stamped (what the store does) against running the Alembic
   migrations into a new namespace, and on PostgreSQL against a database per session; interleaved, medians.
2. A unit of work (one read of a setting) in the default session and in a session, interleaved slice by slice:
   on PostgreSQL a session's transaction starts with one more statement (set_config, in the check that the schema
   exists); on SQLite a session has its own file and engine (a `stat` per unit of work).
3. The real server (2 workers): req/s of a handler's read (GET /runs?job_id=123) and write (POST /jobs/register)
   without and with X-Pactmock-Session, in alternating slices of load so the machine's load weighs on both.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import psycopg2.extensions
import requests
from alembic import command
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from app.domain.sessions import enter_session, leave_session
from app.settings import Settings
from app.settings import database_url as with_driver
from app.store import migrate
from app.store.sessions import build_namespace
from app.store.unit_of_work import SqlStore
from bench import sessions_callgrind
from bench.loadgen import run_load
from tests.support.epx import EPX_HEADERS
from tests.support.mock_process import start_mock, stop_mock

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def database(backend: str, postgres: str, work: Path) -> Iterator[str]:
    """A fresh database at head: an SQLite file, or a new database on the PostgreSQL server."""
    if backend == "sqlite":
        url = f"sqlite:///{work / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"pactmock_bench_sessions_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(postgres)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        url = with_driver(make_url(postgres).set(database=name).render_as_string(hide_password=False))
        migrate.upgrade(url)
        yield url
    finally:
        psycopg2.extensions.set_wait_callback(None)  # the store's 5 s bound on a wait: a drop may take longer
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def made_by_migrations(url: str, name: str) -> None:
    """The alternative: the migrations run into a new namespace (a new file, or a new schema)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        folder = Path(f"{parsed.database}.migrated")
        folder.mkdir(exist_ok=True)
        command.upgrade(migrate.alembic_config(f"sqlite:///{folder / name}.sqlite3"), "head")
        return
    admin = psycopg2.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE SCHEMA "migrated_{name}"')
    admin.close()
    options = {"options": f'-csearch_path="migrated_{name}"'}
    command.upgrade(migrate.alembic_config(parsed.update_query_dict(options).render_as_string(False)), "head")


def made_as_a_database(url: str, name: str) -> None:
    """The other alternative on PostgreSQL: a database per session, its tables made from the metadata."""
    parsed = make_url(url)
    admin = psycopg2.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
    admin.autocommit = True
    database = f"{parsed.database}_{name}"
    admin.cursor().execute(f'CREATE DATABASE "{database}"')
    admin.close()
    engine = create_engine(parsed.set(database=database), poolclass=pool.NullPool)
    with engine.begin() as connection:
        build_namespace(connection)
    engine.dispose()


def drop_databases(url: str, names: list[str]) -> None:
    parsed = make_url(url)
    psycopg2.extensions.set_wait_callback(None)  # the store's 5 s bound on a wait: a drop may take longer
    admin = psycopg2.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
    admin.autocommit = True
    for name in names:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{parsed.database}_{name}" WITH (FORCE)')
    admin.close()


def timed_ms(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def creation(url: str, count: int) -> dict[str, float]:
    """Median milliseconds to make a session each way (interleaved)."""
    store = SqlStore.connect(Settings(database_url=url))
    ways: dict[str, Callable[[int], object]] = {
        "from the metadata (the store's way)": lambda n: store.sessions.ensure(f"made-{n}"),
        "by the migrations": lambda n: made_by_migrations(url, f"m{n}"),
    }
    if store.backend == "postgresql":
        ways["as a database per session"] = lambda n: made_as_a_database(url, f"d{n}")
    times: dict[str, list[float]] = {way: [] for way in ways}
    try:
        for n in range(count):
            for way, make in ways.items():
                times[way].append(timed_ms(functools.partial(make, n)))
    finally:
        if store.backend == "postgresql":
            drop_databases(url, [f"d{n}" for n in range(count)])
    return {way: statistics.median(taken) for way, taken in times.items()}


def unit_of_work_us(url: str, slices: int, per_slice: int) -> dict[str, tuple[float, float]]:
    """Microseconds of a reading unit of work with one query, default session and a session: (median, best slice)."""
    store = SqlStore.connect(Settings(database_url=url))

    def read() -> None:
        with store.reading() as uow:
            uow.settings.get("clock")

    def in_session() -> None:
        token = enter_session("uow")
        try:
            read()
        finally:
            leave_session(token)

    in_session()  # made, and its engine warm
    read()
    default: list[float] = []
    session: list[float] = []
    for _ in range(slices):
        for work, into in ((read, default), (in_session, session)):
            started = time.perf_counter()
            for _ in range(per_slice):
                work()
            into.append((time.perf_counter() - started) * 1e6 / per_slice)
    return {
        "default": (statistics.median(default), min(default)),
        "session": (statistics.median(session), min(session)),
    }


def served(url: str, work: Path, rounds: int, seconds: float) -> dict[str, tuple[float, float]]:
    """req/s without and with the header, per request kind, summed over alternating slices."""
    mock = start_mock(ROOT / "pacts", work, DATABASE_URL=url)
    try:
        with_session = {**EPX_HEADERS, "X-Pactmock-Session": "bench"}
        for chosen in (EPX_HEADERS, with_session):  # job 123 in both, for the reads
            requests.post(mock.url + "/jobs/register", json={"tags": []}, headers=chosen, timeout=30)
        kinds = {
            "GET /runs?job_id=123": ("GET", "/runs?job_id=123", b""),
            "POST /jobs/register": ("POST", "/jobs/register", b'{"tags": ["bench"]}'),
        }
        figures = {}
        for kind, (method, path, body) in kinds.items():
            totals = {"default": [0, 0.0], "session": [0, 0.0]}
            for _ in range(rounds):
                for label, chosen in (("default", EPX_HEADERS), ("session", with_session)):
                    result = run_load(mock.url + path, method, chosen, body, connections=8, duration_s=seconds)
                    if result.non_2xx or result.errors:
                        raise RuntimeError(f"{kind} {label}: {result.non_2xx} non-2xx, {result.errors} errors")
                    totals[label][0] += result.requests
                    totals[label][1] += result.duration_s or seconds
            figures[kind] = (totals["default"][0] / totals["default"][1], totals["session"][0] / totals["session"][1])
        return figures
    finally:
        stop_mock(mock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--sessions", type=int, default=10, help="sessions made each way, for the creation time")
    parser.add_argument("--callgrind", action="store_true", help="only count instructions per unit of work")
    options = parser.parse_args()
    if options.callgrind:
        with tempfile.TemporaryDirectory(prefix="pactmock-bench-sessions-") as folder:
            for backend in ("sqlite", "postgresql"):
                with database(backend, options.postgres, Path(folder)) as url:
                    counted = sessions_callgrind.per_unit_of_work(url)
                    print(
                        f"{backend}: instructions per reading unit of work (callgrind): {counted['default']:,.0f} "
                        f"default, {counted['session']:,.0f} in a session "
                        f"({counted['session'] / counted['default']:.2f}x)"
                    )
        return
    with tempfile.TemporaryDirectory(prefix="pactmock-bench-sessions-") as folder:
        work = Path(folder)
        for backend in ("sqlite", "postgresql"):
            with database(backend, options.postgres, work) as url:
                for way, taken in creation(url, options.sessions).items():
                    print(f"{backend}: making a session {way}: {taken:.1f} ms (median of {options.sessions})")
                uow = unit_of_work_us(url, 20, 200)
                (default_median, default_best), (session_median, session_best) = uow["default"], uow["session"]
                print(
                    f"{backend}: a reading unit of work, median (best) of 20 slices of 200: {default_median:.0f} "
                    f"({default_best:.0f}) us default, {session_median:.0f} ({session_best:.0f}) us in a session; "
                    f"ratio {session_median / default_median:.2f} ({session_best / default_best:.2f})"
                )
            with database(backend, options.postgres, work) as url:
                for kind, (default, session) in served(url, work, options.rounds, options.seconds).items():
                    print(
                        f"{backend}: {kind}: {default:,.0f} req/s default, {session:,.0f} req/s in a session "
                        f"({session / default:.2f}x)"
                    )


if __name__ == "__main__":
    main()
