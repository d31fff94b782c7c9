"""Run submissions on an SQLite file, written in groups: one transaction for every submission waiting at the time.

SQLite has one writer at a time, so submissions queue whatever is done. Queued on SQLite's busy handler (the
driver's timeout), a waiting writer sleeps in steps of up to 100 ms and tries again, which is what made the tail
of POST /runs long (bench/sqlite_writes.py; docs/architecture.md, "Writes on SQLite"). Here the threads of a
process queue on a lock instead; the one that gets it (the leader) takes every submission queued by then, writes
them in one transaction (BEGIN IMMEDIATE, one job check, one counter update, one insert, COMMIT) and hands each
its ids; the others find theirs written when the lock comes to them. The worker processes of a server take turns
through an flock on a file named after the database's inode, so they too queue instead of sleeping.

Each submission is answered only after the COMMIT that holds it, so what is acknowledged is as durable as a
submission committed alone (store/engine.py says how durable that is). A group that fails is written again one
submission at a time, so one submission's failure is never another's.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Connection, Engine, insert, select, update

from ..domain.model import MAX_ID, NEW_STATUS
from .tables import IdCounter, JobRow, RunRow

RUNS = RunRow.metadata.tables["runs"]
# The attribute of an engine's connection pool that holds its writer: a disposed engine gets a new pool, and so
# a new writer (a session's file dropped and made again is a new file).
WRITER_ATTRIBUTE = "pactmock_group_writer"


class Submission:
    """One POST /runs' requests and, once written, its ids (None: nothing written) or the error that stopped it."""

    __slots__ = ("client_version", "done", "error", "ids", "now", "requests", "user_id")

    def __init__(
        self, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
    ) -> None:
        self.requests = requests
        self.user_id = user_id
        self.client_version = client_version
        self.now = now
        self.ids: list[int] | None = None
        self.error: BaseException | None = None
        self.done = False


class GroupWriter:
    """Writes the run submissions of one SQLite file for the threads of this process."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._queue: list[Submission] = []
        self._queue_guard = threading.Lock()
        self._leader = threading.Lock()
        self._gate = _open_gate(engine.url.database)

    def submit(self, submission: Submission) -> list[int] | None:
        """Write `submission` (with whatever else is queued) and return its ids; None when nothing was written."""
        with self._queue_guard:
            self._queue.append(submission)
        with self._leader:
            if not submission.done:
                with self._queue_guard:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if submission.error is not None:
            raise submission.error
        return submission.ids

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
                if submission.ids is None and submission.error is None:
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
            submission.ids = None
        with self._engine.connect() as connection, connection.begin():
            accepted = _with_their_jobs(connection, batch)
            taken = _take_ids(connection, accepted)
            rows = [_row(submission, run_id, request) for submission, ids in taken for run_id, request in ids]
            if rows:
                connection.execute(insert(RUNS), rows)
        # Committed: only now are the ids handed out.
        for submission, ids in taken:
            submission.ids = [run_id for run_id, _ in ids]


def _open_gate(database: str | None) -> IO[bytes] | None:
    """The lock file every process writing this database shares, or None (then only SQLite's lock orders them)."""
    try:
        found = os.stat(database or "")
        name = f"pactmock-writes-{found.st_dev}-{found.st_ino}.lock"
        return open(os.path.join(tempfile.gettempdir(), name), "a+b")  # open for the writer's life
    except OSError:
        return None


def _with_their_jobs(connection: Connection, batch: list[Submission]) -> list[Submission]:
    """The submissions whose every job exists and belongs to their caller."""
    job_ids = {request["jobId"] for submission in batch for request in submission.requests}
    owners = {
        job_id: user_id
        for job_id, user_id in connection.execute(select(JobRow.id, JobRow.user_id).where(JobRow.id.in_(job_ids)))
    }
    return [s for s in batch if all(owners.get(r["jobId"]) == s.user_id for r in s.requests)]


def _take_ids(
    connection: Connection, accepted: list[Submission]
) -> list[tuple[Submission, list[tuple[int, dict[str, Any]]]]]:
    """Each accepted submission with its requests numbered from the counter row, in order; one without room has none."""
    total = sum(len(s.requests) for s in accepted)
    first = _advance(connection, total) if total else None
    taken = []
    for submission in accepted:
        count = len(submission.requests)
        if first is None:
            # No room for all of them (the counter is near its end): each in turn, so the ones that fit get theirs.
            own_first = _advance(connection, count)
            if own_first is not None:
                taken.append((submission, list(zip(range(own_first, own_first + count), submission.requests))))
            continue
        taken.append((submission, list(zip(range(first, first + count), submission.requests))))
        first += count
    return taken


def _advance(connection: Connection, count: int) -> int | None:
    return connection.execute(
        update(IdCounter)
        .where(IdCounter.name == "runs", IdCounter.next_value <= MAX_ID - count)
        .values(next_value=IdCounter.next_value + count)
        .returning(IdCounter.next_value - count)
    ).scalar_one_or_none()


def _row(submission: Submission, run_id: int, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": run_id,
        "job_id": request["jobId"],
        "user_id": submission.user_id,
        "request": request,
        "status": NEW_STATUS,
        "status_ts": submission.now,
        "created_ts": submission.now,
        "user_deleted": False,
        "epx_client_version": submission.client_version,
    }


_writers_guard = threading.Lock()


def writer_for(engine: Engine) -> GroupWriter:
    """This process's writer for the SQLite file `engine` opens."""
    pool = engine.pool
    found: GroupWriter | None = getattr(pool, WRITER_ATTRIBUTE, None)
    if found is None:
        with _writers_guard:
            found = getattr(pool, WRITER_ATTRIBUTE, None)
            if found is None:
                found = GroupWriter(engine)
                setattr(pool, WRITER_ATTRIBUTE, found)
    return found
