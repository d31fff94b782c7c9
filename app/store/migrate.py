"""Alembic driven from code, with the project's settings: used by `pactmock db` and `pactmock serve`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from ..settings import database_url as with_driver

ROOT = Path(__file__).resolve().parents[2]


class MigrationsNotFound(RuntimeError):
    """Neither the source tree nor the working directory holds alembic.ini."""


def ini_path() -> Path:
    # A source checkout carries alembic.ini beside app/; an installed package (the Docker images)
    # finds it in the working directory.
    for candidate in (ROOT / "alembic.ini", Path.cwd() / "alembic.ini"):
        if candidate.is_file():
            return candidate
    raise MigrationsNotFound(f"alembic.ini not found in {ROOT} or {Path.cwd()}: run pactmock from the project folder")


def alembic_config(database_url: str, *, configure_logging: bool = False) -> Config:
    config = Config(str(ini_path()))
    config.attributes["database_url"] = with_driver(database_url)
    config.attributes["configure_logging"] = configure_logging
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(database_url: str) -> str | None:
    engine = create_engine(with_driver(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def history() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [f"{rev.revision}: {rev.doc.splitlines()[0] if rev.doc else ''}" for rev in script.walk_revisions()]
