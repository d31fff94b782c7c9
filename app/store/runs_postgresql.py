"""The PostgreSQL forms of the two run writes that handle many rows or many requests.

Submitting is one round trip: a string of statements the server runs in turn (the simple query protocol),
shared by every submission the process's threads have waiting (run_batches_postgresql.py). The job check, the
id counter and the insert are one statement in a transaction that commits without waiting for its WAL record
to reach the disk (`synchronous_commit` off, for that transaction only). The counter row (the source of
gap-free ids) is locked from that statement's UPDATE to its commit, so every submission queues there; not
waiting for the disk releases it at once. The last statement then waits until the disk has the submission
before the client is answered, and carries its ids back (the server answers only the last statement of such a
string). Queued submissions thus never wait for one another's disk flush, and concurrent flushes share one
fsync (group commit). Nothing acknowledged can be lost: the WAL is replayed in order after a crash, so a
commit that is on disk brings every earlier one with it, and ids stay gap-free too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from .run_batches_postgresql import RunBatch, writer_for


def submit(
    engine: Engine, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
) -> list[int] | None:
    """The new runs' ids in request order, durably committed; None when nothing was written.

    `engine` autocommits (Database.autocommit_engine), so the statements' own BEGIN and COMMIT rule.
    """
    return writer_for(engine).submit_runs(RunBatch(requests, user_id, client_version, now))


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
