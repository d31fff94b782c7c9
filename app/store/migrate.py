"""Alembic driven from code, with the project's settings: used by `pactmock db` and `pactmock serve`.

Every `database_url` here is one SQLAlchemy can open as given: `Settings.database_url`, which
Settings.from_env has already given its driver (a `postgres://` URL from the user becomes psycopg2's).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

ROOT = Path(__file__).resolve().parents[2]


class MigrationsNotFound(RuntimeError):
    """Neither the source tree nor the working directory holds alembic.ini."""


def ini_path() -> Path:
    """The alembic.ini to use: the checkout's, else the working directory's."""
    # A source checkout carries alembic.ini beside app/; an installed package (the Docker images)
    # finds it in the working directory.
    for candidate in (ROOT / "alembic.ini", Path.cwd() / "alembic.ini"):
        if candidate.is_file():
            return candidate
    raise MigrationsNotFound(f"alembic.ini not found in {ROOT} or {Path.cwd()}: run pactmock from the project folder")


def alembic_config(database_url: str, *, configure_logging: bool = False) -> Config:
    """Alembic's configuration, carrying `database_url` to migrations/env.py."""
    config = Config(str(ini_path()))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = configure_logging
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to `revision` (for example -1 or base)."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest revision the migrations know."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(database_url: str) -> str | None:
    """The database's revision; None when it has never been migrated."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def history() -> list[str]:
    """One line per migration, newest first: revision and the first line of its note."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [f"{rev.revision}: {rev.doc.splitlines()[0] if rev.doc else ''}" for rev in script.walk_revisions()]
