"""Runs: submitting them (the hot write path) and reading a job's runs, both without the ORM's per-row cost.

A submission takes its ids from the counter row (`id_counters`, see IdAllocator) as its last step and
commits at once: every submission queues on that row's lock, so it must be held for as short a time as
possible. On PostgreSQL the whole submission is one statement (runs_postgresql.py), so the lock is never
held while a Python thread waits for the GIL to send the next statement or COMMIT (with 4.5 of 8 backends
queued on the lock, that wait was what bounded throughput; bench/RESULTS.md, part c.). On an SQLite file the
submissions waiting at once share one transaction (group_commit.py, run_submissions.py), so they queue on a lock, not SQLite's
busy handler.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..domain.model import MAX_ID, NEW_STATUS, Move, Run
from . import group_commit, runs_postgresql
from .database import AUTOCOMMIT_ENGINE
from .run_submissions import RunSubmission
from .tables import IdCounter, JobRow, RunRow

# Core statements on the table itself: no ORM unit of work on the hot paths.
RUNS = RunRow.metadata.tables["runs"]
COLUMNS = (
    RunRow.id,
    RunRow.job_id,
    RunRow.user_id,
    RunRow.request,
    RunRow.status,
    RunRow.status_ts,
    RunRow.created_ts,
    RunRow.user_deleted,
    RunRow.epx_client_version,
)


class SqlRuns:
    """Runs in the `runs` table (the Runs port)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def submit(
        self, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
    ) -> list[Run] | None:
        """Store one run per request (each names its job as "jobId") and commit; None when nothing was written.

        Nothing is written when any named job does not exist or the id counter has no room: the caller
        finds out which. The runs are committed when this returns: on PostgreSQL in a transaction of their
        own, elsewhere with whatever else the session holds.
        """
        if not requests:
            return []
        autocommit = self.session.info.get(AUTOCOMMIT_ENGINE)
        if autocommit is not None and autocommit.dialect.name == "postgresql":
            ids = runs_postgresql.submit(autocommit, requests, user_id, client_version, now)
        elif (engine := group_commit.group_engine(self.session.get_bind(), self.session.in_transaction())) is not None:
            submission = RunSubmission(requests, user_id, client_version, now)
            group_commit.writer_for(engine).submit(submission)
            ids = submission.ids
        else:
            ids = self._submit_in_transaction(requests, user_id, client_version, now)
        if ids is None:
            return None
        return [
            Run(run_id, request["jobId"], user_id, request, NEW_STATUS, now, now, False, client_version)
            for run_id, request in zip(ids, requests, strict=True)
        ]

    def _submit_in_transaction(
        self, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
    ) -> list[int] | None:
        # SQLite: the writer holds the database's write lock from BEGIN IMMEDIATE, so the order within the
        # transaction matters less than committing as soon as the rows are in.
        job_ids = {request["jobId"] for request in requests}
        found = self.session.execute(
            select(func.count()).select_from(JobRow).where(JobRow.id.in_(job_ids), JobRow.user_id == user_id)
        ).scalar_one()
        if found != len(job_ids):
            return None
        count = len(requests)
        first_id = self.session.execute(
            update(IdCounter)
            .where(IdCounter.name == "runs", IdCounter.next_value <= MAX_ID - count)
            .values(next_value=IdCounter.next_value + count)
            .returning(IdCounter.next_value - count)
        ).scalar_one_or_none()
        if first_id is None:
            return None
        ids = list(range(first_id, first_id + count))
        rows = [
            _row(Run(run_id, request["jobId"], user_id, request, NEW_STATUS, now, now, False, client_version))
            for run_id, request in zip(ids, requests, strict=True)
        ]
        self.session.execute(insert(RUNS), rows)
        self.session.commit()
        return ids

    def add(self, run: Run) -> None:
        """Insert the run with the id it carries (flushed at once, so a duplicate id raises here)."""
        self.session.execute(insert(RUNS), [_row(run)])

    def get(self, run_id: int) -> Run | None:
        """The run, or None."""
        row = self.session.execute(select(*COLUMNS).where(RunRow.id == run_id)).one_or_none()
        return None if row is None else Run(*row)

    def latest_of_job(self, job_id: int, limit: int) -> list[Run]:
        """The job's `limit` most recent runs, oldest first."""
        rows = self.session.execute(
            select(*COLUMNS).where(RunRow.job_id == job_id).order_by(RunRow.id.desc()).limit(limit)
        )
        return [Run(*row) for row in reversed(list(rows))]

    def count_of_job(self, job_id: int) -> int:
        """How many runs the job has."""
        return int(self.session.execute(select(func.count()).where(RunRow.job_id == job_id)).scalar_one())

    def advance(self, moves: Sequence[Move]) -> None:
        """Store each move made from the status its run was read with, and bring the runs up to date.

        A run another request has moved meanwhile keeps that request's step: it is read back instead.
        """
        if not moves:
            return
        rows = [(m.run.id, m.run.status, m.status, m.since) for m in moves]
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            moved = runs_postgresql.advance(connection, rows)
        else:
            moved = self._advance_all_at_once(rows)
        for move in moves:
            move.run.status, move.run.status_ts = move.status, move.since
        missed = {move.run.id: move.run for move in moves if move.run.id not in moved}
        if missed:
            stored = self.session.execute(
                select(RunRow.id, RunRow.status, RunRow.status_ts).where(RunRow.id.in_(missed))
            )
            for run_id, status, status_ts in stored:
                missed[run_id].status, missed[run_id].status_ts = status, status_ts

    def _advance_all_at_once(self, rows: Sequence[tuple[int, str, str, datetime]]) -> set[int]:
        # SQLite is in-process, so many statements cost no round trips. When not every run moved, the
        # caller reads them all back rather than find out which.
        statement = (
            update(RUNS)
            .where(RUNS.c.id == bindparam("moved_id"), RUNS.c.status == bindparam("from_status"))
            .values(status=bindparam("to_status"), status_ts=bindparam("since"))
        )
        parameters = [
            {"moved_id": run_id, "from_status": old, "to_status": new, "since": since}
            for run_id, old, new, since in rows
        ]
        result = self.session.connection().execute(statement, parameters)
        return {run_id for run_id, *_ in rows} if result.rowcount == len(rows) else set()

    def set_status(self, run_id: int, status: str, since: datetime, user_deleted: bool) -> None:
        """Put the run in `status` from `since` (a stop or a retry: not a step of the lifecycle)."""
        self.session.execute(
            update(RUNS).where(RUNS.c.id == run_id).values(status=status, status_ts=since, user_deleted=user_deleted)
        )

    def delete(self, run_id: int) -> None:
        """Remove the run."""
        self.session.execute(delete(RunRow).where(RunRow.id == run_id))


def _row(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "job_id": run.job_id,
        "user_id": run.user_id,
        "request": run.request,
        "status": run.status,
        "status_ts": run.status_ts,
        "created_ts": run.created_ts,
        "user_deleted": run.user_deleted,
        "epx_client_version": run.epx_client_version,
    }
