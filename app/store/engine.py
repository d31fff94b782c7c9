"""One engine per process, configured for the backend the DATABASE_URL names."""

from __future__ import annotations

import select
from typing import Any

from psycopg2 import extensions
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from ..settings import Settings
from . import bounded_wait


def is_sqlite(url: str) -> bool:
    """Whether `url` names an SQLite database (the embedded default) rather than a server."""
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(settings: Settings, *, autocommit: bool = False) -> Engine:
    """The engine for DATABASE_URL; `autocommit`: every statement is its own transaction (not on SQLite)."""
    url = settings.database_url
    if is_sqlite(url):
        return sqlite_engine(url, settings.tuning.sqlite_busy_seconds)
    options: dict[str, Any] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout,
    }
    if autocommit:
        # Set on each connection once, when it is made: no SET round trip on every checkout and return.
        options["isolation_level"] = "AUTOCOMMIT"
    if make_url(url).get_backend_name() == "postgresql":
        bounded_wait.install(settings.tuning.wait_bound_seconds)
        options["connect_args"] = {
            "connect_timeout": settings.tuning.connect_timeout_seconds,
            # A peer that vanished without a word (no RST) is noticed in seconds, not the kernel's minutes.
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": 10_000,
        }
    socket_check = make_url(url).get_driver_name() == "psycopg2"
    # Another driver gives no socket to look at: SQLAlchemy's round trip instead.
    engine = create_engine(url, pool_pre_ping=not socket_check, **options)
    if socket_check:
        event.listen(engine, "checkout", _discard_if_closed_by_server)
    return engine


def _discard_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A connection that died with a database restart is replaced, not handed to a request.

    An idle connection has nothing to read unless the server has closed it (a shutdown notice, EOF or a
    reset), so one zero-timeout poll of its socket tells, with no round trip: SQLAlchemy's pre-ping is a
    `SELECT 1` per checkout, a third of the round trips of a run submission. A server that vanished
    silently is not seen here; the query then fails within the bounded wait (bounded_wait.py) and SQLAlchemy
    drops the connection.
    """
    if dbapi_connection.closed:
        raise DisconnectionError("the connection was closed")
    if dbapi_connection.info.transaction_status != extensions.TRANSACTION_STATUS_IDLE:
        # A transaction left open (a failed run submission, runs_postgresql.py) would fail every statement.
        raise DisconnectionError("the connection came back to the pool inside a transaction")
    try:
        # poll, not select: a worker with over a thousand open files has descriptors select cannot take.
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        readable = poller.poll(0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError(f"the connection's socket is unusable: {exc}") from None
    if readable:
        raise DisconnectionError("the server closed the connection while it was idle in the pool")


def sqlite_engine(url: str, busy_seconds: int, **options: Any) -> Engine:
    """An engine on the SQLite file `url` names, its transactions begun as `writer` asks (the main database's
    and each session's file, store/sessions.py)."""
    engine = create_engine(url, connect_args={"timeout": busy_seconds, "check_same_thread": False}, **options)

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see `begin` below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if make_url(url).database not in (None, "", ":memory:"):
            # Readers do not wait for the writer, and the writer does not wait for readers. The mode is kept in
            # the file, so it is set once: setting it again fails at once ("database is locked", no busy wait)
            # while another connection writes, which a connection opened under load would turn into a 503.
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Any) -> None:
        # A writing transaction takes the write lock up front (BEGIN IMMEDIATE): two writers then queue
        # on the busy timeout instead of one failing with "database is locked" when it upgrades its lock.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine and pool, marked so that SQLite transactions take the write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine
