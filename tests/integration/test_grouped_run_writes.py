"""Run submissions written in groups (SQLite: app/store/group_commit.py; PostgreSQL: app/store/run_batches_postgresql.py),
through the store's own API.

The groups are made for certain, not by chance: a second connection holds what the first submission needs (SQLite's
write lock; on PostgreSQL the run counter's row) while that submission waits for it, so the submissions sent
meanwhile queue behind it and are written together once it is let go. What a caller sees must be what a submission
written alone gives: its own ids, gap-free and in order, and its own refusal (a missing job, another user's job, an
id that is taken) without failing the others.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from app.domain.errors import Conflict
from app.settings import Settings
from app.settings import database_url as with_driver
from app.store import group_commit, migrate, run_batches_postgresql
from app.store.unit_of_work import SqlStore
from tests.integration.conftest import migrated_postgres_database

OWNER = 456
STRANGER = 789
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
JOBS = [(123, OWNER), (124, OWNER), (200, STRANGER)]


@dataclass
class Grouped:
    """A store on a fresh database holding JOBS, and how to hold its writers back and read its runs."""

    store: SqlStore
    backend: str
    path: Path | None = None  # the SQLite file
    url: str = ""  # the PostgreSQL database

    def stored(self) -> dict[int, tuple[int, str]]:
        if self.path is not None:
            with sqlite3.connect(self.path) as connection:
                rows = connection.execute(
                    "SELECT id, job_id, json_extract(request, '$.workingDir') FROM runs"
                ).fetchall()
        else:
            with psycopg2.connect(self.url) as connection, connection.cursor() as cursor:
                cursor.execute("SELECT id, job_id, request->>'workingDir' FROM runs")
                rows = cursor.fetchall()
        return {run_id: (job_id, working_dir) for run_id, job_id, working_dir in rows}

    def execute(self, sql: str) -> None:
        """Run `sql` behind the store's back."""
        if self.path is not None:
            with sqlite3.connect(self.path) as connection:
                connection.execute(sql)
            return
        with psycopg2.connect(self.url) as connection, connection.cursor() as cursor:
            cursor.execute(sql)

    def hold(self) -> Callable[[], None]:
        """Hold back every writer; returns what lets them go."""
        if self.path is not None:
            sqlite_blocker = sqlite3.connect(self.path, isolation_level=None)
            sqlite_blocker.execute("BEGIN IMMEDIATE")

            def let_sqlite_go() -> None:
                sqlite_blocker.execute("COMMIT")
                sqlite_blocker.close()

            return let_sqlite_go
        blocker = psycopg2.connect(self.url)
        blocker.cursor().execute("SELECT next_value FROM id_counters WHERE name = 'runs' FOR UPDATE")

        def let_postgresql_go() -> None:
            blocker.rollback()
            blocker.close()

        return let_postgresql_go

    def writer(self) -> Any:
        if self.path is not None:
            return group_commit.writer_for(self.store.database.engine)
        assert self.store.database.autocommit_engine is not None
        return run_batches_postgresql.writer_for(self.store.database.autocommit_engine)


def sqlite_grouped(path: Path, jobs: list[tuple[int, int]]) -> Grouped:
    """A migrated SQLite file at `path` holding these (job id, owner) jobs, and a store on it."""
    url = with_driver(f"sqlite:///{path}")
    migrate.upgrade(url)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")  # as the server's first connection leaves it
        connection.executemany(
            "INSERT INTO jobs (id, user_id, tags, created_ts) VALUES (?, ?, '[]', '2030-01-01 00:00:00.000000')", jobs
        )
    return Grouped(SqlStore.connect(Settings(database_url=url, pool_size=16, max_overflow=0)), "sqlite", path=path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Grouped]:
    if request.param == "sqlite":
        grouped = sqlite_grouped(tmp_path / "grouped.sqlite3", JOBS)
        yield grouped
        grouped.store.database.engine.dispose()
        return
    with migrated_postgres_database() as url:
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.executemany("INSERT INTO jobs (id, user_id, tags, created_ts) VALUES (%s, %s, '[]', now())", JOBS)
        store = SqlStore.connect(Settings(database_url=with_driver(url), pool_size=16, max_overflow=0))
        yield Grouped(store, "postgresql", url=url)
        for engine in (store.database.engine, store.database.autocommit_engine):
            if engine is not None:
                engine.dispose()


def submit(store: SqlStore, job_ids: list[int], user_id: int = OWNER) -> list[int] | None:
    requests = [{"jobId": job_id, "workingDir": f"/w/{job_id}"} for job_id in job_ids]
    with store.writing() as uow:
        runs = uow.runs.submit(requests, user_id, "1.2.3", NOW)
    return None if runs is None else [run.id for run in runs]


def in_one_group(database: Grouped, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run `calls` at once while the writers are held back, so that all but the first queue."""
    let_go = database.hold()
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            outcomes[index] = calls[index]()
        except Exception as error:  # the outcome to compare
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    threads[0].start()
    writer = database.writer()
    time.sleep(0.3)  # the first is the leader, waiting for what is held
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + 10
    while len(writer._queue) < len(calls) - 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(writer._queue) == len(calls) - 1, "the later submissions did not queue behind the first"
    let_go()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_submissions_written_together_get_their_own_consecutive_ids_in_order(database) -> None:
    store = database.store
    outcomes = in_one_group(
        database, [lambda: submit(store, [123]), lambda: submit(store, [123, 124]), lambda: submit(store, [124])]
    )
    first, pair, single = outcomes
    assert first == [978]
    # The later two were one group: gap-free after the first, each submission's runs consecutive and in order.
    assert sorted([*pair, *single]) == [979, 980, 981]
    assert pair[1] == pair[0] + 1
    assert database.stored() == {
        978: (123, "/w/123"),
        pair[0]: (123, "/w/123"),
        pair[1]: (124, "/w/124"),
        single[0]: (124, "/w/124"),
    }


def test_a_refused_submission_in_a_group_writes_nothing_and_the_others_are_written(database) -> None:
    store = database.store
    outcomes = in_one_group(
        database,
        [
            lambda: submit(store, [123]),
            lambda: submit(store, [123, 999]),  # no job 999
            lambda: submit(store, [200]),  # another user's job
            lambda: submit(store, [124]),
        ],
    )
    assert outcomes[0] == [978]
    assert outcomes[1] is None
    assert outcomes[2] is None
    assert outcomes[3] == [979]
    assert database.stored() == {978: (123, "/w/123"), 979: (124, "/w/124")}


def test_a_submission_whose_id_is_taken_fails_alone(database) -> None:
    store = database.store
    # A run already holds id 980 (put there behind the counter's back): whichever submission of the group is
    # given 980 meets the duplicate; written again alone, the other is stored.
    database.execute(
        "INSERT INTO runs (id, job_id, user_id, request, status, status_ts, created_ts, user_deleted) "
        "VALUES (980, 123, 456, '{}', 'DONE', '2030-01-01 00:00:00.000000', '2030-01-01 00:00:00.000000', FALSE)"
    )
    outcomes = in_one_group(
        database, [lambda: submit(store, [123]), lambda: submit(store, [124]), lambda: submit(store, [124])]
    )
    assert outcomes[0] == [978]
    results = outcomes[1:]
    assert sum(isinstance(result, Conflict) for result in results) == 1, results
    written = [result for result in results if isinstance(result, list)]
    assert written == [[979]]
    assert set(database.stored()) == {978, 979, 980}
