"""Writes on an SQLite file, made in groups: one transaction for every submission waiting at the time.

SQLite has one writer at a time, so writes queue whatever is done. Queued on SQLite's busy handler (the
driver's timeout), a waiting writer sleeps in steps of up to 100 ms and tries again, which is what made the tail
of POST /runs long (bench/sqlite_writes.py; docs/architecture.md, "Writes on SQLite"). Here the threads of a
process queue on a lock instead; the one that gets it (the leader) takes every submission queued by then, writes
them in one transaction (BEGIN IMMEDIATE, each kind's statements, COMMIT) and hands each its result; the others
find theirs written when the lock comes to them. The worker processes of a server take turns through an flock
on a file named after the database's inode, so they too queue instead of sleeping. The queue and its leader
(`LeaderQueue`) also group PostgreSQL's run submissions (run_batches_postgresql.py).

Two kinds submit: run submissions (run_submissions.py) and generic creates (items_sqlite.py). Each is answered
only after the COMMIT that holds it, so what is acknowledged is as durable as a write committed alone
(store/engine.py says how durable that is). A group that fails is written again one submission at a time, so
one submission's failure is never another's.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Generic, Protocol, TypeVar

from sqlalchemy import Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import DBAPIError

# The attribute of an engine's connection pool that holds its writer: a disposed engine gets a new pool, and so
# a new writer (a session's file dropped and made again is a new file).
WRITER_ATTRIBUTE = "pactmock_group_writer"


class Submission:
    """One write waiting for its group. A kind of write subclasses it and says how a batch of its kind is
    written (`write_together`); `done` and `error` are the writer's."""

    __slots__ = ("done", "error", "written")

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.written = False  # committed, its result handed out
        self.done = False

    def forget(self) -> None:
        """Drop a result of an earlier try (its transaction was rolled back)."""

    @classmethod
    def write_together(cls, cursor: DBAPICursor, dialect: Dialect, batch: Sequence[Submission]) -> Callable[[], None]:
        """Write `batch` (all of this class) through the driver's `cursor`, in the open transaction; return what
        hands out the results once it has committed. `dialect` has the columns' bind processors."""
        raise NotImplementedError


class Queued(Protocol):
    """What waits in a LeaderQueue: the leader marks it done, with the error that stopped it if any."""

    done: bool
    error: BaseException | None


Item = TypeVar("Item", bound=Queued)
Kept = TypeVar("Kept")


class LeaderQueue(Generic[Item]):
    """Items from many threads, written by one leader at a time: a thread queues its item and waits for the
    leader's lock; the one that gets it writes every item queued by then (`_write`), and the others find
    theirs done when the lock comes to them."""

    def __init__(self) -> None:
        self._queue: list[Item] = []
        self._queue_guard = threading.Lock()
        self._leader = threading.Lock()

    def submit(self, item: Item) -> None:
        """Write `item` (with whatever else is queued); raise what stopped it."""
        with self._queue_guard:
            self._queue.append(item)
        with self._leader:
            if not item.done:
                with self._queue_guard:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if item.error is not None:
            raise item.error

    def _write(self, batch: list[Item]) -> None:
        """Write `batch` and mark every item of it done."""
        raise NotImplementedError


class GroupWriter(LeaderQueue[Submission]):
    """Writes the submissions of one SQLite file for the threads of this process."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._engine = engine
        self._gate = _open_gate(engine.url.database)

    def _write(self, batch: list[Submission]) -> None:
        try:
            with self._turn():
                try:
                    self._write_together(batch)
                except Exception:
                    if len(batch) == 1:
                        raise
                    for submission in batch:
                        try:
                            self._write_together([submission])
                        except Exception as own_error:
                            submission.error = own_error
        except Exception as error:
            for submission in batch:
                if not submission.written and submission.error is None:
                    submission.error = error
        finally:
            for submission in batch:
                submission.done = True

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """This process's turn among the server's workers (SQLite's own lock still decides who writes)."""
        if self._gate is None:
            yield
            return
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)

    def _write_together(self, batch: list[Submission]) -> None:
        for submission in batch:
            submission.forget()
        kinds: dict[type[Submission], list[Submission]] = {}
        for submission in batch:
            kinds.setdefault(type(submission), []).append(submission)
        # The driver's connection, as the pool configured it (WAL, foreign keys), and its own BEGIN and COMMIT:
        # SQLAlchemy's Connection and transaction objects were a tenth of a write (py-spy), and the group is
        # written while every other writer waits. A driver error is raised as SQLAlchemy raises it.
        driver = self._engine.raw_connection()
        driver_error = self._engine.dialect.loaded_dbapi.Error
        try:
            cursor = driver.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                hand_outs = [kind.write_together(cursor, self._engine.dialect, group) for kind, group in kinds.items()]
                cursor.execute("COMMIT")
            except BaseException as error:
                with contextlib.suppress(driver_error):
                    cursor.execute("ROLLBACK")
                if isinstance(error, driver_error):
                    raise DBAPIError.instance("", None, error, driver_error, dialect=self._engine.dialect) from error
                raise
            finally:
                cursor.close()
        finally:
            driver.close()  # back to the pool
        # Committed: only now are the results handed out.
        for hand_out in hand_outs:
            hand_out()
        for submission in batch:
            submission.written = True


def _open_gate(database: str | None) -> IO[bytes] | None:
    """The lock file every process writing this database shares, or None (then only SQLite's lock orders them)."""
    try:
        found = os.stat(database or "")
        name = f"pactmock-writes-{found.st_dev}-{found.st_ino}.lock"
        return open(os.path.join(tempfile.gettempdir(), name), "a+b")  # open for the writer's life
    except OSError:
        return None


_kept_guard = threading.Lock()


def kept_on_pool(engine: Engine, attribute: str, make: Callable[[Engine], Kept]) -> Kept:
    """The object kept under `attribute` on `engine`'s pool, made by `make(engine)` the first time: one per
    process and engine, and a disposed engine's new pool gets a new one."""
    pool = engine.pool
    found: Kept | None = getattr(pool, attribute, None)
    if found is None:
        with _kept_guard:
            found = getattr(pool, attribute, None)
            if found is None:
                found = make(engine)
                setattr(pool, attribute, found)
    return found


def writer_for(engine: Engine) -> GroupWriter:
    """This process's writer for the SQLite file `engine` opens."""
    return kept_on_pool(engine, WRITER_ATTRIBUTE, GroupWriter)


def group_engine(bind: object, in_transaction: bool) -> Engine | None:
    """The engine a session's write may be grouped on: an SQLite file's, when the session holds no transaction.

    A session already in a transaction holds SQLite's write lock (or may take it): the group writer's own
    connection would wait for it. A database in memory is one per connection, so it has no writer of its own.
    """
    if in_transaction or not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        return None
    return bind if bind.url.database not in (None, "", ":memory:") else None
