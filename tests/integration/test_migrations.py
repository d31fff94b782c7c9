"""Alembic: the migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app.settings import database_url as with_driver
from app.store import migrate
from app.store.tables import Base

from .conftest import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"jobs", "runs", "uploads", "id_counters", "provider_states", "items", "item_counters", "mock_settings"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with fresh_postgres_database() as url:
        yield with_driver(url)


def tables(url: str) -> set[str]:
    engine = create_engine(with_driver(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def differences(url: str) -> list[object]:
    engine = create_engine(with_driver(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_autogenerate_finds_no_difference_between_models_and_migrations(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert migrate.current_revision(empty_database) == migrate.head_revision()
    assert differences(empty_database) == []


def test_upgrade_downgrade_to_base_and_upgrade_again(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert tables(empty_database) == TABLES
    migrate.downgrade(empty_database, "base")
    assert tables(empty_database) == set()
    assert migrate.current_revision(empty_database) is None
    migrate.upgrade(empty_database)
    assert tables(empty_database) == TABLES
    assert differences(empty_database) == []


def test_a_fresh_database_hands_out_the_contract_example_ids_first(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    engine = create_engine(with_driver(empty_database))
    try:
        with engine.connect() as connection:
            counters = dict(connection.execute(text("SELECT name, next_value FROM id_counters")).all())
    finally:
        engine.dispose()
    assert counters == {"jobs": 123, "runs": 978}


def test_plain_alembic_from_the_repo_root_reads_database_url(empty_database: str) -> None:
    alembic = Path(sys.executable).with_name("alembic")
    env = {**os.environ, "DATABASE_URL": empty_database}
    upgraded = subprocess.run([str(alembic), "upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    current = subprocess.run([str(alembic), "current"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert current.returncode == 0, current.stderr
    assert f"{migrate.head_revision()} (head)" in current.stdout
    assert tables(empty_database) == TABLES


def test_pactmock_db_commands_report_and_move_the_revision(empty_database: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database}

    def db(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", "db", *args], env=env, capture_output=True, text=True)

    assert "base (empty)" in db("current").stdout
    upgraded = db("upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "(head)" in db("current").stdout
    assert db("history").stdout.startswith(f"{migrate.head_revision()}:")
    downgraded = db("downgrade", "base")
    assert downgraded.returncode == 0, downgraded.stderr
    assert tables(empty_database) == set()


def test_db_command_against_an_unreachable_database_is_one_clear_line() -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/none"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "upgrade failed on postgresql+psycopg2://nobody:***@127.0.0.1:1/none" in result.stderr
    assert "secret" not in result.stderr
