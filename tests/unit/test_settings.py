"""Settings: the one reader of the environment, and what the CLI and the store take from it."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from click.testing import CliRunner
from psycopg2 import extensions

from app.cli import main as pactmock
from app.settings import ENVIRONMENT_VARIABLES, Settings, SettingsError, Tuning
from app.store.engine import make_engine
from tests.integration.conftest import fresh_postgres_database

PACT = {
    "consumer": {"name": "Shop"},
    "provider": {"name": "Stock"},
    "interactions": [
        {
            "description": "a stock count",
            "request": {"method": "GET", "path": "/stock/1"},
            "response": {"status": 200, "body": {"count": 3}},
        }
    ],
    "metadata": {"pactSpecification": {"version": "2.0.0"}},
}


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_postgres_url_is_given_the_shipped_driver(scheme: str) -> None:
    settings = Settings.from_env({"DATABASE_URL": f"{scheme}://mock:secret@db:5432/pactmock"})

    assert settings.database_url == "postgresql+psycopg2://mock:secret@db:5432/pactmock"


def test_an_sqlite_url_is_kept_as_written() -> None:
    assert Settings.from_env({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"}).database_url == "sqlite:////tmp/x.sqlite3"


def test_threads_come_from_pactmock_threads_and_must_be_positive() -> None:
    assert Settings.from_env({}).threads == 4
    assert Settings.from_env({"PACTMOCK_THREADS": "6"}).threads == 6
    with pytest.raises(SettingsError, match="PACTMOCK_THREADS"):
        Settings.from_env({"PACTMOCK_THREADS": "0"})


def test_every_variable_in_the_list_changes_a_setting() -> None:
    """The list the compose test checks against names only variables the settings read."""
    defaults = Settings.from_env({})
    samples = {"PACTMOCK_RUN_OUTCOME": "ERROR", "DATABASE_URL": "sqlite:///other.sqlite3"}
    for variable in ENVIRONMENT_VARIABLES:
        changed = Settings.from_env({variable: samples.get(variable, "7")})
        assert changed != defaults, f"{variable} is listed but changes nothing"


def test_flask_env_and_flask_debug_are_no_longer_settings() -> None:
    """They were parsed and never used: a value the old parser refused is now simply ignored."""
    assert Settings.from_env({"FLASK_ENV": "staging", "FLASK_DEBUG": "1"}) == Settings.from_env({})


@pytest.fixture
def pact_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "from-env"
    folder.mkdir()
    (folder / "shop-stock.json").write_text(json.dumps(PACT))
    return folder


def test_the_cli_serves_pact_dir_from_the_environment(pact_dir: Path) -> None:
    result = CliRunner().invoke(pactmock, ["contracts"], env={"PACT_DIR": str(pact_dir)})

    assert result.exit_code == 0, result.output
    assert "Shop -> Stock" in result.output
    assert "GET     /stock/1  a stock count" in result.output


def test_pact_dir_on_the_command_line_wins_over_the_environment(pact_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    result = CliRunner().invoke(pactmock, ["contracts", "--pact-dir", str(empty)], env={"PACT_DIR": str(pact_dir)})

    assert "Shop -> Stock" not in result.output
    assert f"no pact files found in {empty}" in result.output


def test_db_upgrade_takes_a_postgres_scheme_url() -> None:
    """A user may write postgres://; Settings gives it the driver once, and migrations run on it."""
    with fresh_postgres_database() as url:
        short = url.replace("postgresql://", "postgres://", 1)

        result = CliRunner().invoke(pactmock, ["db", "upgrade"], env={"DATABASE_URL": short})

        assert result.exit_code == 0, result.output
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT version_num FROM alembic_version")
            assert cursor.fetchone() is not None


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word, like a stalled database or proxy."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


@pytest.fixture
def wait_callback_restored() -> Iterator[None]:
    """The bound is process-wide: put back whatever callback the other tests run with."""
    previous = extensions.get_wait_callback()
    yield
    extensions.set_wait_callback(previous)


@pytest.mark.usefixtures("wait_callback_restored")
def test_the_database_wait_bound_comes_from_the_tuning(silent_server: int) -> None:
    url = f"postgresql+psycopg2://mock@127.0.0.1:{silent_server}/pactmock"
    settings = Settings(database_url=url, tuning=Tuning(wait_bound_seconds=0.3))
    engine = make_engine(settings)
    started = time.monotonic()
    try:
        with pytest.raises(Exception, match=r"no answer within 0\.3 s"):
            engine.connect()
    finally:
        engine.dispose()
    assert time.monotonic() - started < 3
