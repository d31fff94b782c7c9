"""The Store and UnitOfWork ports of domain/ports.py over SQLAlchemy, and the one place database errors
become the domain's: `Conflict` (another transaction got there first: try again) or `StoreUnavailable`
(down, unreachable or saturated: come back later). Nothing above the store sees a SQLAlchemy exception.
"""

from __future__ import annotations

import contextlib
from functools import cached_property

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..domain.errors import Conflict, Invalid, StoreUnavailable
from ..domain.sessions import DEFAULT, current_session
from ..settings import Settings
from .database import Database
from .items import SqlItems
from .repositories import SqlIdCounters, SqlJobs, SqlMockSettings, SqlProviderStates, SqlUploads
from .runs import SqlRuns
from .snapshot import SqlSnapshots

# PostgreSQL's SQLSTATEs for a transaction that lost to another and may simply run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
# A session's schema dropped between its transaction's check and a statement (sessions.py): try again, fresh.
DROPPED_NAMESPACE_SQLSTATES = frozenset({"42P01", "3F000"})  # undefined_table, invalid_schema_name
# What JSONB cannot hold (the character \u0000 in a string of an item): the client's input, refused, not a 500.
UNSTORABLE_SQLSTATES = frozenset({"22P05"})  # untranslatable_character


class SqlUnitOfWork:
    """The repositories over one session: one transaction. Each is made when first used."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @cached_property
    def jobs(self) -> SqlJobs:
        """Jobs, in this transaction."""
        return SqlJobs(self.session)

    @cached_property
    def runs(self) -> SqlRuns:
        """Runs, in this transaction."""
        return SqlRuns(self.session)

    @cached_property
    def uploads(self) -> SqlUploads:
        """Uploads, in this transaction."""
        return SqlUploads(self.session)

    @cached_property
    def ids(self) -> SqlIdCounters:
        """Id counters, in this transaction."""
        return SqlIdCounters(self.session)

    @cached_property
    def provider_states(self) -> SqlProviderStates:
        """Provider states, in this transaction."""
        return SqlProviderStates(self.session)

    @cached_property
    def settings(self) -> SqlMockSettings:
        """The mock's own settings, in this transaction."""
        return SqlMockSettings(self.session)

    @cached_property
    def snapshots(self) -> SqlSnapshots:
        """The state as table rows, in this transaction."""
        return SqlSnapshots(self.session)

    @cached_property
    def items(self) -> SqlItems:
        """Generic items, in this transaction."""
        return SqlItems(self.session)


class SqlStore:
    """Opens units of work on the database DATABASE_URL names."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.backend = database.backend
        # Where sessions are kept (domain.sessions.SessionKeeper): units of work follow the current one.
        self.sessions = database.sessions

    @classmethod
    def connect(cls, settings: Settings) -> SqlStore:
        """The store for these settings (engines are made now; connections when first used)."""
        return cls(Database(settings))

    def reading(self) -> UnitOfWorkScope:
        """A unit of work that only reads."""
        return UnitOfWorkScope(self.database, write=False)

    def writing(self) -> UnitOfWorkScope:
        """A unit of work that writes; committed when the block ends normally, rolled back when it raises."""
        return UnitOfWorkScope(self.database, write=True)

    def ping(self) -> None:
        """Raise StoreUnavailable (its cause the driver's error) when the database cannot be reached."""
        try:
            self.database.ping()
        except Exception as error:
            _raise_translated(error)
            raise


class UnitOfWorkScope:
    """One unit of work as a context manager: a session from enter to exit, committed when the block ends
    normally, closed (so rolled back) when it raises, database errors coming out as the domain's.

    A class rather than nested generator context managers: it is entered on every stateful request.
    """

    __slots__ = ("_database", "_session", "_write")

    def __init__(self, database: Database, *, write: bool) -> None:
        self._database = database
        self._write = write

    def __enter__(self) -> SqlUnitOfWork:
        self._session = self._database.session(write=self._write)
        return SqlUnitOfWork(self._session)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> None:
        session = self._session
        if error is not None:
            _close_keeping_outcome(session)
            if isinstance(error, Exception):
                _raise_translated(error)  # anything else goes on as it was raised
            return
        try:
            if session.in_transaction():
                session.commit()
        except Exception as failure:
            _close_keeping_outcome(session)
            _raise_translated(failure)
            raise
        _close_keeping_outcome(session)


def _close_keeping_outcome(session: Session) -> None:
    """Close `session` once the unit of work's outcome is known (committed, or an error on its way out).

    Closing rolls back what is left; on a connection the database has just dropped (an outage), that rollback
    fails. Nothing was lost (an open transaction dies with its connection, which SQLAlchemy takes out of its pool),
    and the failure must not take the place of the outcome: a soak saw a 404 for an upload to a missing job become
    a 500 this way (bench/SOAK.md).
    """
    with contextlib.suppress(DBAPIError):
        session.close()


def _raise_translated(error: Exception) -> None:
    """Raise the domain's error for a database error; return (for the caller to re-raise) for any other."""
    if isinstance(error, IntegrityError | StaleDataError):
        raise Conflict(str(error).splitlines()[0]) from error
    if isinstance(error, DBAPIError):
        if getattr(error.orig, "pgcode", None) in RETRYABLE_SQLSTATES:
            raise Conflict(str(error.orig).splitlines()[0]) from error
        if getattr(error.orig, "pgcode", None) in DROPPED_NAMESPACE_SQLSTATES and current_session() != DEFAULT:
            raise Conflict(f"session {current_session()!r} was dropped while this request ran") from error
        if getattr(error.orig, "pgcode", None) in UNSTORABLE_SQLSTATES:
            raise Invalid("the request holds a character the database cannot store (\\u0000)") from error
        if isinstance(error, OperationalError | InterfaceError):
            raise StoreUnavailable(error.__class__.__name__) from error
    if isinstance(error, PoolTimeout):
        raise StoreUnavailable("no database connection came free in time") from error
