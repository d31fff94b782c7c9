"""A unit of work whose PostgreSQL connection is dropped under it (an outage, a restart) ends as it would have:
a refusal stays the refusal, a commit that cannot happen is "come back later", and the store serves the next
request on a new connection.

A soak found the first one broken: an upload to a missing job, its connection dropped meanwhile, was answered 500
instead of 404, because closing the unit of work tried to roll back on the dead connection and that error took
the refusal's place.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg2
import pytest
from sqlalchemy import text

from app.domain.errors import NotFound, StoreUnavailable
from app.store.unit_of_work import SqlStore, SqlUnitOfWork
from tests.integration.conftest import fresh_postgres_database, postgres_server_url, sql_store


@pytest.fixture
def store() -> Iterator[tuple[SqlStore, str]]:
    """The SQL store on a fresh PostgreSQL database at head, and that database's URL."""
    postgres_server_url()
    with fresh_postgres_database() as url, sql_store(url) as store:
        yield store, url


def drop_connection_of(unit: SqlUnitOfWork, url: str) -> None:
    """End this unit of work's connection from the server side, as a restart does, and wait until it is gone."""
    pid = unit.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = psycopg2.connect(url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
                if cursor.fetchone() == (0,):
                    return
                time.sleep(0.02)
        raise AssertionError(f"backend {pid} still there 10 s after it was terminated")
    finally:
        admin.close()


def test_a_refusal_stays_the_refusal_when_the_connection_is_dropped_before_the_rollback(
    store: tuple[SqlStore, str],
) -> None:
    sql, url = store

    with pytest.raises(NotFound, match="job 987654321 does not exist"), sql.writing() as unit:
        assert unit.jobs.get(987654321) is None
        drop_connection_of(unit, url)
        raise NotFound("job", 987654321)

    with sql.reading() as unit:
        assert unit.jobs.get(987654321) is None


def test_a_commit_on_a_dropped_connection_is_come_back_later_and_the_next_unit_works(
    store: tuple[SqlStore, str],
) -> None:
    sql, url = store

    with pytest.raises(StoreUnavailable), sql.writing() as unit:
        assert unit.jobs.get(1) is None
        drop_connection_of(unit, url)

    with sql.writing() as unit:
        assert unit.jobs.get(1) is None
