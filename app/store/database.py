"""The process's database handle: one engine, and one transaction per unit of work (per request in the web layer).

A unit of work opened while a request works in a session (domain/sessions.py) works in that session's namespace
(sessions.py); the default session's path is the one it always was.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ..domain.sessions import DEFAULT, current_session
from ..settings import Settings
from .engine import is_sqlite, make_engine, writer
from .sessions import FileSessions, SchemaSessions

# Session.info key of the engine whose statements commit themselves; see `Database.__init__`.
AUTOCOMMIT_ENGINE = "autocommit_engine"


class Database:
    """One engine (and, on PostgreSQL, an autocommitting one) and the sessions that work over them."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.engine = make_engine(settings)
        # A second pool for writes that are one statement (a submission of runs on PostgreSQL): committed
        # by the server as the statement ends, so no lock is held while Python gets round to COMMIT.
        # SQLite has one writer at a time whatever the pool, so it has none.
        self.autocommit_engine = None if is_sqlite(self.url) else make_engine(settings, autocommit=True)
        info = {AUTOCOMMIT_ENGINE: self.autocommit_engine} if self.autocommit_engine is not None else {}
        # Rows outlive their transaction so a handler can shape its response after commit.
        self._readers = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._writers = sessionmaker(writer(self.engine), expire_on_commit=False, info=info)
        self.sessions: FileSessions | SchemaSessions = (
            FileSessions(make_url(self.url).database, settings.tuning.sqlite_busy_seconds, settings.max_sessions)
            if is_sqlite(self.url)
            else SchemaSessions(self.engine, settings.max_sessions)
        )

    @property
    def backend(self) -> str:
        """The dialect's name: sqlite or postgresql."""
        return self.engine.dialect.name

    def session(self, *, write: bool) -> Session:
        """A new session; its transaction begins with its first statement (a request that writes only
        through the autocommit engine, a run submission on PostgreSQL, never begins one)."""
        name = current_session()
        if name != DEFAULT:
            return self.sessions.session(name, write=write)
        return (self._writers if write else self._readers)()

    def ping(self) -> None:
        """Raise the driver's error when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
