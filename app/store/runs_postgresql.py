"""The PostgreSQL forms of the two run writes that handle many rows or many requests: one statement each.

Submitting is one round trip: a string of statements the server runs in turn (the simple query protocol).
The job check, the id counter and the insert are one statement in a transaction that commits without
waiting for its WAL record to reach the disk (`synchronous_commit` off, for that transaction only). The
counter row (the source of gap-free ids) is locked from that statement's UPDATE to its commit, so every
submission queues there; not waiting for the disk releases it at once. The last statement then waits until
the disk has the submission before the client is answered, and carries its first id back (the server
answers only the last statement of such a string). Queued submissions thus never wait for one another's
disk flush, and concurrent flushes share one fsync (group commit). Nothing acknowledged can be lost: the
WAL is replayed in order after a crash, so a commit that is on disk brings every earlier one with it, and
ids stay gap-free too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..domain.model import MAX_ID

# Writes nothing when a job is missing (or another user's) or the counter has no room for every run: the UPDATE's condition
# fails, so the INSERT has no ids to join, and the first id carried back is empty. A run's id is the
# counter's old value plus its position in the submission: gap-free, and in submission order. The first
# id travels to the last statement in a setting of this session (set_config(..., false) outlives the
# transaction); it is written by every submission, so it never holds an earlier one's.
SUBMIT = """
BEGIN;
SET LOCAL synchronous_commit TO off;
WITH wanted AS (
    SELECT entry.job_id, CAST(entry.request AS JSON) AS request, entry.position - 1 AS offset_in_submission
    FROM unnest(CAST(%(job_ids)s AS BIGINT[]), CAST(%(requests)s AS TEXT[]))
        WITH ORDINALITY AS entry(job_id, request, position)
),
taken AS (
    UPDATE id_counters SET next_value = next_value + %(count)s
    WHERE name = 'runs' AND next_value <= %(highest_first_id)s
      AND NOT EXISTS (
          SELECT FROM wanted
          WHERE NOT EXISTS (SELECT FROM jobs WHERE jobs.id = wanted.job_id AND jobs.user_id = %(user_id)s)
      )
    RETURNING next_value - %(count)s AS first_id
),
inserted AS (
    INSERT INTO runs (id, job_id, user_id, request, status, status_ts, created_ts, user_deleted, epx_client_version)
    SELECT taken.first_id + wanted.offset_in_submission, wanted.job_id, %(user_id)s, wanted.request,
           %(status)s, %(now)s, %(now)s, FALSE, %(client_version)s
    FROM taken CROSS JOIN wanted
    RETURNING id
)
SELECT set_config('pactmock.first_run_id', COALESCE(CAST(MIN(id) AS TEXT), ''), false) FROM inserted;
COMMIT;
SELECT current_setting('pactmock.first_run_id'), pg_logical_emit_message(true, 'pactmock', 'durable');
"""
# pg_logical_emit_message(true, ...) writes a WAL record in its transaction, so that transaction commits
# synchronously: it returns once the WAL up to its own record, and so the submission before it, is on disk.


def submit(
    engine: Engine, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
) -> list[int] | None:
    """The new runs' ids in request order, durably committed; None when nothing was written.

    `engine` autocommits (Database.autocommit_engine), so the statements' own BEGIN and COMMIT rule.
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
        "now": now.astimezone(UTC),
        "client_version": client_version,
    }
    with engine.connect() as connection:
        try:
            first = connection.exec_driver_sql(SUBMIT, parameters).scalar_one()
        except IntegrityError:
            # A job deleted while the statement ran (its foreign key check failed): nothing was written.
            _end_failed_transaction(connection)
            return None
        except DBAPIError as exc:
            # A lock or statement timeout, a cancel, a full disk...: the string's own transaction is left
            # open and failed, and the pool's reset cannot end it on an autocommitting connection.
            if not exc.connection_invalidated:
                _end_failed_transaction(connection)
            raise
    if not first:
        return None
    return list(range(int(first), int(first) + len(requests)))


def _end_failed_transaction(connection: Connection) -> None:
    try:
        connection.exec_driver_sql("ROLLBACK")
    except DBAPIError:
        connection.invalidate()  # the pool then opens a new one; engine.py also checks at checkout


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


def advance(connection: Connection, moves: Sequence[tuple[int, str, str, datetime]]) -> set[int]:
    """Store (id, from status, to status, since) moves; the ids of the runs that moved."""
    payload = [
        {"id": run_id, "from_status": old, "to_status": new, "since": since.isoformat()}
        for run_id, old, new, since in moves
    ]
    return set(connection.execute(ADVANCE, {"moves": json.dumps(payload)}).scalars())
