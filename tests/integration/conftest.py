"""Start the real server (`pactmock serve`, granian) as a subprocess on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from app.settings import Settings
from app.settings import database_url as with_driver
from app.store import migrate
from app.store.unit_of_work import SqlStore
from tests.support.mock_process import RunningMock, free_port, start_mock, stop_mock

__all__ = ["RunningMock", "free_port", "start_mock", "stop_mock"]


@pytest.fixture
def run_mock(tmp_path: Path) -> Iterator[object]:
    started: list[RunningMock] = []

    def run(pact_dir: Path, **env: str) -> RunningMock:
        mock = start_mock(pact_dir, tmp_path, **env)
        started.append(mock)
        return mock

    yield run
    for mock in started:
        stop_mock(mock)


# --- databases: a fresh embedded SQLite file, or a fresh PostgreSQL database per test ---

POSTGRES_REQUIRED = os.environ.get("POSTGRES_REQUIRED") == "1"


def postgres_server_url() -> str | None:
    """TEST_POSTGRES_URL when that server answers; skips (or fails, with POSTGRES_REQUIRED=1) otherwise."""
    url = os.environ.get("TEST_POSTGRES_URL")
    reason = "TEST_POSTGRES_URL is not set" if not url else None
    if url:
        try:
            psycopg2.connect(url, connect_timeout=3).close()
        except psycopg2.Error as exc:
            reason = f"PostgreSQL at TEST_POSTGRES_URL is unreachable: {str(exc).strip()}"
    if reason:
        if POSTGRES_REQUIRED:
            pytest.fail(f"{reason} (POSTGRES_REQUIRED=1: PostgreSQL tests must run)")
        pytest.skip(f"{reason}; PostgreSQL-backed tests need a server (see README)")
    return url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database on the TEST_POSTGRES_URL server and drop it afterwards."""
    server = postgres_server_url()
    assert server is not None
    name = f"pactmock_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at head on each backend: the SQLite file is migrated by `pactmock serve`
    itself, the PostgreSQL one by `pactmock db upgrade`, as the migration-runner does."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    with migrated_postgres_database() as url:
        yield url


@contextmanager
def migrated_postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database brought to head by `pactmock db upgrade`, as the migration-runner does."""
    with fresh_postgres_database() as url:
        migrated = subprocess.run(
            [sys.executable, "-m", "app.cli", "db", "upgrade"],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrated.returncode == 0, migrated.stderr
        yield url


@pytest.fixture
def postgres_url_for_comparison() -> Iterator[str]:
    """A fresh migrated PostgreSQL database, for tests that compare it with SQLite in one test."""
    with migrated_postgres_database() as url:
        yield url


@contextmanager
def sql_store(url: str, **settings: int) -> Iterator[SqlStore]:
    """The SQL store over the database at `url`, brought to head by the migrations; `settings` (pool sizes) as
    given. Its engines are disposed of afterwards."""
    url = with_driver(url)
    migrate.upgrade(url)
    store = SqlStore.connect(Settings(database_url=url, **settings))  # type: ignore[arg-type]
    try:
        yield store
    finally:
        store.database.engine.dispose()
        if store.database.autocommit_engine is not None:
            store.database.autocommit_engine.dispose()
