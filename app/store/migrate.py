"""Alembic driven from code, with the project's settings: used by `pactmock db` and `pactmock serve`.

Every `database_url` here is one SQLAlchemy can open as given: `Settings.database_url`, which
Settings.from_env has already given its driver (a `postgres://` URL from the user becomes psycopg2's).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
# Where sessions (issue 18 item 7, sessions.py) keep their namespaces: a schema per session on PostgreSQL,
# a file per session in a folder beside the main file on SQLite. Migrations reach them too.
SESSION_SCHEMA_PREFIX = "pactmock_s_"
SESSION_FILE_SUFFIX = ".sqlite3"


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
    """Migrate the database up to `revision`, every session's namespace with it."""
    command.upgrade(alembic_config(database_url), revision)
    for session_url in session_urls(database_url):
        command.upgrade(alembic_config(session_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to `revision` (for example -1 or base), every session's namespace with it."""
    for session_url in session_urls(database_url):
        command.downgrade(alembic_config(session_url), revision)
    command.downgrade(alembic_config(database_url), revision)


def session_folder(main_file: str | None) -> Path | None:
    """The folder of an SQLite database's session files; None for a database in memory."""
    return Path(f"{main_file}.sessions") if main_file not in (None, "", ":memory:") else None


def session_urls(database_url: str) -> list[str]:
    """A URL per existing session that opens its namespace: its file, or the database with the session's
    schema as the connection's search_path (so the migrations, unqualified, act on that schema)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        folder = session_folder(url.database)
        if folder is None or not folder.is_dir():
            return []
        files = sorted(folder.glob(f"*{SESSION_FILE_SUFFIX}"))
        return [url.set(database=str(path)).render_as_string(hide_password=False) for path in files]
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            pattern = SESSION_SCHEMA_PREFIX.replace("_", "\\_") + "%"
            rows = connection.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": pattern})
            schemas = sorted(str(row[0]) for row in rows)
    finally:
        engine.dispose()
    return [
        url.update_query_dict({"options": f'-csearch_path="{schema}"'}).render_as_string(hide_password=False)
        for schema in schemas
    ]


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def stamp_head(connection: Connection) -> None:
    """Record, in the namespace `connection` works in, that its tables are at head (a new session's are)."""
    MigrationContext.configure(connection).stamp(_scripts(), "head")


def head_revision() -> str | None:
    """The newest revision the migrations know."""
    return _scripts().get_current_head()


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
