"""The Store and UnitOfWork ports of domain/ports.py over SQLAlchemy, and the one place database errors
become the domain's: `Conflict` (another transaction got there first: try again) or `StoreUnavailable`
(down, unreachable or saturated: come back later). Nothing above the store sees a SQLAlchemy exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..domain.errors import Conflict, StoreUnavailable
from ..settings import Settings
from .database import Database
from .repositories import SqlIdCounters, SqlJobs, SqlProviderStates, SqlUploads
from .runs import SqlRuns

# PostgreSQL's SQLSTATEs for a transaction that lost to another and may simply run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


class SqlUnitOfWork:
    """The repositories over one session: one transaction."""

    def __init__(self, session: Session) -> None:
        self.jobs = SqlJobs(session)
        self.runs = SqlRuns(session)
        self.uploads = SqlUploads(session)
        self.ids = SqlIdCounters(session)
        self.provider_states = SqlProviderStates(session)


class SqlStore:
    """Opens units of work on the database DATABASE_URL names."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.backend = database.backend

    @classmethod
    def connect(cls, settings: Settings) -> SqlStore:
        """The store for these settings (engines are made now; connections when first used)."""
        return cls(Database(settings))

    @contextmanager
    def reading(self) -> Iterator[SqlUnitOfWork]:
        """A unit of work that only reads."""
        with _translated(), self.database.transaction(write=False) as session:
            yield SqlUnitOfWork(session)

    @contextmanager
    def writing(self) -> Iterator[SqlUnitOfWork]:
        """A unit of work that writes; committed when the block ends normally, rolled back when it raises."""
        with _translated(), self.database.transaction(write=True) as session:
            yield SqlUnitOfWork(session)

    def ping(self) -> None:
        """Raise StoreUnavailable (its cause the driver's error) when the database cannot be reached."""
        with _translated():
            self.database.ping()


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except (IntegrityError, StaleDataError) as exc:
        raise Conflict(str(exc).splitlines()[0]) from exc
    except DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) in RETRYABLE_SQLSTATES:
            raise Conflict(str(exc.orig).splitlines()[0]) from exc
        if isinstance(exc, OperationalError | InterfaceError):
            raise StoreUnavailable(exc.__class__.__name__) from exc
        raise
    except PoolTimeout as exc:
        raise StoreUnavailable("no database connection came free in time") from exc
