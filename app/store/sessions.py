"""A namespace per session at the storage level (issue 18 item 7; docs/sessions.md says why and what it costs).

Every table of the default namespace exists again in each session's, so the repositories run unchanged:
- PostgreSQL: a schema `pactmock_s_<name>` per session. Each transaction of a session starts by pointing the
  transaction's search_path at that schema (`set_config(..., true)` ends with the transaction), in the same
  statement that checks the schema still exists; unqualified names, in text SQL too, then resolve there. The
  schema is in the database, so every worker and every server on it sees the same sessions.
- SQLite: a database file per session, in a folder beside the main file, with its own engine.
A session's tables are made from the same metadata the migrations are checked against, at head, and stamped
with head (tests/integration/test_sessions_schema.py compares them with the migrated default namespace);
`pactmock db upgrade` migrates existing sessions with the default one (migrate.py).
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, event, insert, pool
from sqlalchemy.orm import Session, sessionmaker

from ..domain.errors import Conflict, Invalid
from ..domain.sessions import TooManySessions
from . import migrate
from .engine import sqlite_engine, writer
from .snapshot import FIRST_IDS
from .tables import Base, IdCounter

SCHEMA_PREFIX = migrate.SESSION_SCHEMA_PREFIX
# The execution option that names a connection's session (read by the begin hook).
SESSION_OPTION = "pactmock_session"
# Every creation and drop, on every server, queues on this advisory lock: the count under the limit holds.
LOCK_KEY = zlib.crc32(b"pactmock sessions")
# Points the transaction at the session's schema, and says (a row, or none) whether the schema exists.
ENTER = "SELECT set_config('search_path', %(path)s, true) FROM pg_namespace WHERE nspname = %(schema)s"
FILE_SUFFIX = migrate.SESSION_FILE_SUFFIX


def schema_of(name: str) -> str:
    """The PostgreSQL schema of session `name` (a checked name: no quote can be in it)."""
    return SCHEMA_PREFIX + name


def build_namespace(connection: Connection) -> None:
    """The tables at head in the namespace `connection` works in, the first ids set, stamped with head."""
    Base.metadata.create_all(connection, checkfirst=False)
    connection.execute(insert(IdCounter), [{"name": t, "next_value": first} for t, first in FIRST_IDS.items()])
    migrate.stamp_head(connection)


class SchemaSessions:
    """Sessions as PostgreSQL schemas, over the default namespace's engine (one pool for all sessions)."""

    def __init__(self, engine: Engine, limit: int) -> None:
        self.engine = engine
        self.limit = limit
        self._makers: dict[str, tuple[sessionmaker[Session], sessionmaker[Session]]] = {}
        event.listen(engine, "begin", self._enter_schema)

    def session(self, name: str, *, write: bool) -> Session:
        """A new ORM session whose transactions work in session `name`'s schema."""
        makers = self._makers.get(name)
        if makers is None:
            bound = self.engine.execution_options(**{SESSION_OPTION: name})
            # No autocommit engine in `info`: a run submission takes the transaction's path, in the schema.
            maker = sessionmaker(bound, expire_on_commit=False)
            makers = (maker, maker)
            if len(self._makers) > 2 * self.limit + 16:
                self._makers.clear()
            self._makers[name] = makers
        return makers[write]()

    def _enter_schema(self, connection: Connection) -> None:
        name = connection.get_execution_options().get(SESSION_OPTION)
        if name is None:
            return
        schema = schema_of(name)
        parameters = {"path": f'"{schema}"', "schema": schema}
        if connection.exec_driver_sql(ENTER, parameters).first() is not None:
            return
        # Dropped since this worker last used it (or never made here): made again, fresh.
        self.ensure(name)
        if connection.exec_driver_sql(ENTER, parameters).first() is None:
            raise Conflict(f"session {name!r} was dropped while this request began; send it again")

    def ensure(self, name: str) -> None:
        """Make the schema of session `name` unless it exists."""
        schema = schema_of(name)
        with self.engine.connect() as connection, connection.begin():
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": LOCK_KEY})
            if connection.exec_driver_sql(
                "SELECT 1 FROM pg_namespace WHERE nspname = %(schema)s", {"schema": schema}
            ).first():
                return
            if len(self._schemas(connection)) >= self.limit:
                raise TooManySessions(self.limit)
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            build_namespace(connection)

    def names(self) -> list[str]:
        """Every session's name, sorted."""
        with self.engine.connect() as connection:
            return sorted(schema[len(SCHEMA_PREFIX) :] for schema in self._schemas(connection))

    def drop(self, name: str) -> bool:
        """DROP SCHEMA ... CASCADE: waits for the session's transactions in flight, then all is gone."""
        schema = schema_of(name)
        with self.engine.connect() as connection, connection.begin():
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": LOCK_KEY})
            found = connection.exec_driver_sql(
                "SELECT 1 FROM pg_namespace WHERE nspname = %(schema)s", {"schema": schema}
            ).first()
            if found:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        return found is not None

    @staticmethod
    def _schemas(connection: Connection) -> list[str]:
        pattern = SCHEMA_PREFIX.replace("_", "\\_") + "%"
        rows = connection.exec_driver_sql(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %(pattern)s", {"pattern": pattern}
        )
        return [str(row[0]) for row in rows]


class _OpenFile:
    """A session file's engine in this worker, and which file (device, inode) it was opened on."""

    def __init__(self, path: Path, identity: tuple[int, int], busy_seconds: int) -> None:
        self.identity = identity
        self.engine = sqlite_engine(f"sqlite:///{path}", busy_seconds)
        self.readers = sessionmaker(self.engine, expire_on_commit=False)
        self.writers = sessionmaker(writer(self.engine), expire_on_commit=False)


class FileSessions:
    """Sessions as SQLite files in `<main file>.sessions/`, one engine each per worker."""

    def __init__(self, main_file: str | None, busy_seconds: int, limit: int) -> None:
        self.folder = migrate.session_folder(main_file)
        self.busy_seconds = busy_seconds
        self.limit = limit
        self._open: dict[str, _OpenFile] = {}
        self._guard = threading.Lock()

    def path_of(self, name: str) -> Path:
        """The file of session `name`."""
        if self.folder is None:
            raise Invalid("sessions need a database file; this mock's SQLite database is in memory")
        return self.folder / f"{name}{FILE_SUFFIX}"

    def session(self, name: str, *, write: bool) -> Session:
        """A new ORM session on session `name`'s file (made now if it is missing, reopened if it was replaced)."""
        path = self.path_of(name)
        try:
            found = os.stat(path)
        except FileNotFoundError:
            self.ensure(name)
            found = os.stat(path)
        identity = (found.st_dev, found.st_ino)
        opened = self._open.get(name)
        if opened is None or opened.identity != identity:
            with self._guard:
                opened = self._open.get(name)
                if opened is None or opened.identity != identity:
                    if opened is not None:
                        opened.engine.dispose()  # the file was dropped (and maybe made again) meanwhile
                    self._forget_oldest()
                    opened = self._open[name] = _OpenFile(path, identity, self.busy_seconds)
        return opened.writers() if write else opened.readers()

    def _forget_oldest(self) -> None:
        while len(self._open) >= self.limit + 16:
            oldest = next(iter(self._open))
            self._open.pop(oldest).engine.dispose()

    def ensure(self, name: str) -> None:
        """Make session `name`'s file unless it exists: built aside, then renamed into place whole."""
        path = self.path_of(name)
        if path.exists():
            return
        with self._locked():
            if path.exists():
                return
            if len(self.names()) >= self.limit:
                raise TooManySessions(self.limit)
            building = path.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.building")
            engine = sqlite_engine(f"sqlite:///{building}", self.busy_seconds, poolclass=pool.NullPool)
            try:
                with engine.begin() as connection:
                    build_namespace(connection)
            finally:
                engine.dispose()
            os.replace(building, path)

    def names(self) -> list[str]:
        """Every session's name, sorted."""
        if self.folder is None or not self.folder.is_dir():
            return []
        return sorted(p.name[: -len(FILE_SUFFIX)] for p in self.folder.glob(f"*{FILE_SUFFIX}"))

    def drop(self, name: str) -> bool:
        """The session's file gone (other workers notice at their next unit of work: the file changed)."""
        path = self.path_of(name)
        with self._locked():
            existed = path.exists()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        with self._guard:
            opened = self._open.pop(name, None)
        if opened is not None:
            opened.engine.dispose()
        return existed

    @contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
