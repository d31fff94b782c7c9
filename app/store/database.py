"""The process's database handle: one engine, and one transaction per unit of work (per request in the web layer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from ..settings import Settings
from .engine import is_sqlite, make_engine, writer

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

    @property
    def backend(self) -> str:
        """The dialect's name: sqlite or postgresql."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Session]:
        """Commit when the block ends normally, roll back when it raises.

        The transaction begins with the session's first statement: a request that writes only through
        the autocommit engine (a run submission on PostgreSQL) never begins one.
        """
        factory = self._writers if write else self._readers
        with factory() as session:
            yield session
            if session.in_transaction():
                session.commit()

    def ping(self) -> None:
        """Raise the driver's error when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
