"""Run submissions on PostgreSQL, grouped: every submission a worker's threads have waiting shares one round trip.

A submission is one string of statements (runs_postgresql.py says why: the counter row's lock is held for one
statement, never across a round trip or a flush). Under load a worker's threads each sent their own string,
and most of a request's time went to waiting for a thread while the others waited on their round trips
(bench/RESULTS.md, "Where the misses of issue 15 meet a floor"). Here the threads of a process queue on a lock
instead; the one that gets it (the leader) sends every submission queued by then as one string, so the
statement's parse, plan, transaction, WAL flush and wake-up are paid once for the group.

Each submission still stands alone: its runs are written only if every job it names is the submitter's, the
runs of the submissions written get consecutive ids in submission order (gap-free across the group), and
each is answered only after the disk has the commit that holds it. A group that fails on something one
submission could cause (a job missing, another user's or deleted meanwhile, an id already taken, no room left
in the counter) is written again one submission at a time, so one submission's failure is never another's. A load of submissions
naming missing jobs thus costs two round trips each; valid ones, the load a mock is for, cost a share of one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..domain.model import MAX_ID, NEW_STATUS
from .group_commit import LeaderQueue, kept_on_pool

FOREIGN_KEY_VIOLATION = "23503"  # PostgreSQL's SQLSTATE for a row whose referenced row is gone

# Every request of every submission is one row of `wanted`, in submission order, with its submission's user,
# client version and time. The group is written only if every job it names is its submitter's and the counter
# has room for all its runs: the UPDATE's condition fails otherwise, so the INSERT has no ids to join, and the
# first id carried back is empty (the writer then tries each submission alone). A run's id is the counter's
# old value plus its position in the group: gap-free, and in submission order. The first id travels to the
# last statement in a setting of this session (set_config(..., false) outlives the transaction; every group
# writes it, so it never holds an earlier one's). Checking the group as a whole keeps the statement as cheap
# as one for a single submission: per-submission checks (a window over the rows, a list of refusals carried
# back) cost the database a third more for a lone submission (pgbench, bench/RESULTS.md).
SUBMIT = """
BEGIN;
SET LOCAL synchronous_commit TO off;
WITH wanted AS (
    SELECT entry.job_id, CAST(entry.request AS JSON) AS request, entry.user_id, entry.client_version,
           entry.submitted_at, entry.position - 1 AS offset_in_group
    FROM unnest(CAST(%(job_ids)s AS BIGINT[]), CAST(%(requests)s AS TEXT[]), CAST(%(user_ids)s AS BIGINT[]),
                CAST(%(client_versions)s AS TEXT[]), CAST(%(times)s AS TIMESTAMPTZ[]))
        WITH ORDINALITY AS entry(job_id, request, user_id, client_version, submitted_at, position)
),
taken AS (
    UPDATE id_counters SET next_value = next_value + %(count)s
    WHERE name = 'runs' AND next_value <= %(highest_first_id)s
      AND NOT EXISTS (
          SELECT FROM wanted
          WHERE NOT EXISTS (SELECT FROM jobs WHERE jobs.id = wanted.job_id AND jobs.user_id = wanted.user_id)
      )
    RETURNING next_value - %(count)s AS first_id
),
inserted AS (
    INSERT INTO runs (id, job_id, user_id, request, status, status_ts, created_ts, user_deleted, epx_client_version)
    SELECT taken.first_id + wanted.offset_in_group, wanted.job_id, wanted.user_id, wanted.request,
           %(status)s, wanted.submitted_at, wanted.submitted_at, FALSE, wanted.client_version
    FROM taken CROSS JOIN wanted
    RETURNING id
)
SELECT set_config('pactmock.first_run_id', COALESCE(CAST(MIN(id) AS TEXT), ''), false) FROM inserted;
COMMIT;
SELECT current_setting('pactmock.first_run_id'), pg_logical_emit_message(true, 'pactmock', 'durable');
"""
# pg_logical_emit_message(true, ...) writes a WAL record in its transaction, so that transaction commits
# synchronously: it returns once the WAL up to its own record, and so the group before it, is on disk.


class RunBatch:
    """One POST /runs' requests waiting for its group, and once written its ids (None: nothing written)."""

    __slots__ = ("client_version", "done", "error", "ids", "now", "requests", "user_id")

    def __init__(self, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime):
        self.requests, self.user_id, self.client_version, self.now = requests, user_id, client_version, now
        self.ids: list[int] | None = None
        self.error: BaseException | None = None
        self.done = False


def parameters_of(batches: Sequence[RunBatch]) -> dict[str, Any]:
    """SUBMIT's parameters for `batches`, in their order: one row per request."""
    rows = [(batch, request) for batch in batches for request in batch.requests]
    return {
        "job_ids": [request["jobId"] for _, request in rows],
        # Each request as JSON text, cast to JSON (checked, not parsed) in the statement: a string the
        # database cannot turn into text ("\u0000") is stored as sent, as the column stores it anyway.
        "requests": [json.dumps(request) for _, request in rows],
        "user_ids": [batch.user_id for batch, _ in rows],
        "client_versions": [batch.client_version for batch, _ in rows],
        "times": [batch.now.astimezone(UTC) for batch, _ in rows],
        "count": len(rows),
        "highest_first_id": MAX_ID - len(rows),
        "status": NEW_STATUS,
    }


class RunWriter(LeaderQueue[RunBatch]):
    """Writes the run submissions of one PostgreSQL database for the threads of this process."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._engine = engine

    def submit_runs(self, batch: RunBatch) -> list[int] | None:
        """`batch`'s ids, durably committed with whatever else was queued; None when nothing was written."""
        self.submit(batch)
        return batch.ids

    def _write(self, group: list[RunBatch]) -> None:
        try:
            if not self._write_together(group) and len(group) > 1:
                self._write_one_by_one(group)
        except IntegrityError as error:
            # A job deleted while the statement ran, or an id already taken (a run put there behind the
            # counter's back): alone, that submission wrote nothing, or is refused with the error.
            if len(group) > 1:
                self._write_one_by_one(group)
            elif not _job_deleted(error):
                group[0].error = error
        except BaseException as error:
            # Not something one submission causes (a lost database, a timeout): every submission hears it.
            for batch in group:
                batch.error = error
        finally:
            for batch in group:
                batch.done = True

    def _write_one_by_one(self, group: list[RunBatch]) -> None:
        """Each submission alone: the group held one that could not be written (a job missing, deleted or
        another user's, an id already taken, no room left in the counter), and only that one may fail."""
        for batch in group:
            try:
                self._write_together([batch])
            except IntegrityError as error:
                if not _job_deleted(error):
                    batch.error = error
            except BaseException as error:
                batch.error = error

    def _write_together(self, group: list[RunBatch]) -> bool:
        """Send `group` as one string and hand out its ids; False when nothing was written."""
        with self._engine.connect() as connection:
            try:
                first = connection.exec_driver_sql(SUBMIT, parameters_of(group)).scalar_one()
            except DBAPIError as exc:
                # A job deleted meanwhile (its foreign key check failed), a lock or statement timeout, a
                # cancel, a full disk...: the string's own transaction is left open and failed, and the
                # pool's reset cannot end it on an autocommitting connection.
                if not exc.connection_invalidated:
                    _end_failed_transaction(connection)
                raise
        if not first:
            return False
        next_id = int(first)
        for batch in group:
            batch.ids = list(range(next_id, next_id + len(batch.requests)))
            next_id += len(batch.requests)
        return True


def _job_deleted(error: IntegrityError) -> bool:
    """Whether the statement met a job deleted while it ran (its runs' foreign key), not a taken id."""
    return getattr(error.orig, "pgcode", None) == FOREIGN_KEY_VIOLATION


def _end_failed_transaction(connection: Connection) -> None:
    try:
        connection.exec_driver_sql("ROLLBACK")
    except DBAPIError:
        connection.invalidate()  # the pool then opens a new one; engine.py also checks at checkout


WRITER_ATTRIBUTE = "pactmock_run_writer"


def writer_for(engine: Engine) -> RunWriter:
    """This process's run writer for the database `engine` autocommits on."""
    return kept_on_pool(engine, WRITER_ATTRIBUTE, RunWriter)
