"""The process's database handle: one engine, and one transaction per unit of work (per request in the web layer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from ..settings import Settings
from .engine import make_engine, writer


class Database:
    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.engine = make_engine(settings)
        # Rows outlive their transaction so a handler can shape its response after commit.
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(writer(self.engine), expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Session]:
        """Commit when the block ends normally, roll back when it raises."""
        factory = self._writers if write else self._readers
        with factory.begin() as session:
            yield session

    def ping(self) -> None:
        """Raise the driver's error when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
