"""The PostgreSQL forms of the two run writes that handle many rows or many requests: one statement each.

Submitting: the job check, the id counter and the insert are one statement on an autocommitting
connection. The counter row (the source of gap-free ids) is locked from that statement's UPDATE to its
commit, so every submission queues there; the statement commits without waiting for its WAL record to
reach the disk (`synchronous_commit` off, for this transaction only), which releases the row at once,
and a second statement then waits until the disk has it before the client is answered. Queued
submissions thus never wait for one another's disk flush, and concurrent flushes share one fsync
(group commit). Nothing acknowledged can be lost: the WAL is replayed in order after a crash, so a
commit that is on disk brings every earlier one with it, and ids stay gap-free too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.exc import IntegrityError

from .repositories import MAX_ID
from .types import UtcDateTime

# Writes nothing (returns no rows) when a job is missing or the counter has no room for every run: the
# UPDATE's condition fails, so the INSERT has no ids to join. A run's id is the counter's old value plus
# its position in the submission: gap-free, and in submission order.
SUBMIT = text(
    """
    WITH commit_without_waiting_for_the_disk AS (
        SELECT set_config('synchronous_commit', 'off', true)
    ),
    wanted AS (
        SELECT entry.job_id, CAST(entry.request AS JSON) AS request, entry.position - 1 AS offset_in_submission
        FROM commit_without_waiting_for_the_disk,
             unnest(CAST(:job_ids AS BIGINT[]), CAST(:requests AS TEXT[]))
                 WITH ORDINALITY AS entry(job_id, request, position)
    ),
    taken AS (
        UPDATE id_counters SET next_value = next_value + :count
        WHERE name = 'runs' AND next_value <= :highest_first_id
          AND NOT EXISTS (
              SELECT FROM wanted WHERE NOT EXISTS (SELECT FROM jobs WHERE jobs.id = wanted.job_id)
          )
        RETURNING next_value - :count AS first_id
    )
    INSERT INTO runs (id, job_id, user_id, request, status, status_ts, created_ts, user_deleted, epx_client_version)
    SELECT taken.first_id + wanted.offset_in_submission, wanted.job_id, :user_id, wanted.request,
           :status, :now, :now, FALSE, :client_version
    FROM taken CROSS JOIN wanted
    RETURNING id
    """
).bindparams(bindparam("now", type_=UtcDateTime()))

# A transaction that writes a WAL record and commits synchronously: its COMMIT returns once the WAL up
# to its own record, and so the submission committed before it on this connection, is on disk.
WAIT_FOR_THE_DISK = "SELECT pg_logical_emit_message(true, 'pactmock', 'durable')"

# Moves runs on only from the status they were read with; RETURNING names the ones that moved. The rows
# are locked in id order first, as every reader locks them, so two readers moving the same runs queue
# rather than deadlock.
ADVANCE = text(
    """
    WITH move AS (
        SELECT * FROM json_to_recordset(CAST(:moves AS JSON))
            AS move(id BIGINT, from_status TEXT, to_status TEXT, since TIMESTAMPTZ)
    ),
    locked AS (
        SELECT runs.id FROM runs JOIN move ON runs.id = move.id AND runs.status = move.from_status
        ORDER BY runs.id FOR UPDATE OF runs
    )
    UPDATE runs SET status = move.to_status, status_ts = move.since
    FROM move JOIN locked ON locked.id = move.id
    WHERE runs.id = move.id AND runs.status = move.from_status
    RETURNING runs.id
    """
)


def submit(
    engine: Engine, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
) -> list[int] | None:
    """The new runs' ids in request order, durably committed; None when nothing was written.

    `engine` autocommits (Database.autocommit_engine): each statement is a transaction of its own.
    """
    parameters = {
        "job_ids": [request["jobId"] for request in requests],
        # Each request as JSON text, cast to JSON (checked, not parsed) in the statement: a string the
        # database cannot turn into text ("\u0000") is stored as sent, as the column stores it anyway.
        "requests": [json.dumps(request) for request in requests],
        "count": len(requests),
        "highest_first_id": MAX_ID - len(requests),
        "user_id": user_id,
        "status": "NOT_STARTED",
        "now": now,
        "client_version": client_version,
    }
    with engine.connect() as connection:
        try:
            ids = sorted(connection.execute(SUBMIT, parameters).scalars())
        except IntegrityError:
            # A job deleted while the statement ran (its foreign key check failed): nothing was written.
            return None
        if ids:
            # No parameters and no result to read: the driver's own call skips SQLAlchemy's statement handling.
            connection.exec_driver_sql(WAIT_FOR_THE_DISK)
    return ids or None


def advance(connection: Connection, moves: Sequence[tuple[int, str, str, datetime]]) -> set[int]:
    """Store (id, from status, to status, since) moves; the ids of the runs that moved."""
    payload = [
        {"id": run_id, "from_status": old, "to_status": new, "since": since.isoformat()}
        for run_id, old, new, since in moves
    ]
    return set(connection.execute(ADVANCE, {"moves": json.dumps(payload)}).scalars())
