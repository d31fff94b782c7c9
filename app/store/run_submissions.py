"""Run submissions on an SQLite file, as a kind of grouped write (group_commit.py).

A group of submissions is one job check, one counter update and one insert; each submission's runs get
consecutive ids, in order, and the ids are handed out only after the COMMIT.

The statements go to the driver's cursor as fixed SQL text. The group is written while every other writer of the
file waits (the leader holds SQLite's lock and the workers' gate), so its Python time bounds the rate of every
write: building and compiling the Core statements and reading their results was most of it (a py-spy profile
of POST /runs under load, bench/RESULTS.md). The columns' own bind processors still turn values into what the
ORM stores (UTC timestamps, JSON text), so rows read back the same whichever path wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor as Cursor

from ..domain.model import MAX_ID, NEW_STATUS
from .group_commit import Submission
from .tables import RunRow

RUNS = RunRow.metadata.tables["runs"]
ADVANCE = (
    "UPDATE id_counters SET next_value = next_value + ? WHERE name = 'runs' AND next_value <= ? "
    "RETURNING next_value - ?"
)
INSERT = (
    "INSERT INTO runs (id, job_id, user_id, request, status, status_ts, created_ts, user_deleted, "
    "epx_client_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class RunSubmission(Submission):
    """One POST /runs' requests and, once written, its ids (None: nothing written)."""

    __slots__ = ("client_version", "ids", "now", "requests", "user_id")

    def __init__(
        self, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
    ) -> None:
        super().__init__()
        self.requests = requests
        self.user_id = user_id
        self.client_version = client_version
        self.now = now
        self.ids: list[int] | None = None

    def forget(self) -> None:
        """Drop the ids of a try that was rolled back."""
        self.ids = None

    @classmethod
    def write_together(cls, cursor: Cursor, dialect: Dialect, batch: Sequence[Submission]) -> Callable[[], None]:
        """One job check, one counter update and one insert for the whole batch; ids handed out after the COMMIT."""
        submissions = [submission for submission in batch if isinstance(submission, RunSubmission)]
        taken = _take_ids(cursor, _with_their_jobs(cursor, submissions))
        row = _row_maker(dialect)
        rows = [row(submission, run_id, request) for submission, ids in taken for run_id, request in ids]
        if rows:
            cursor.executemany(INSERT, rows)

        def hand_out() -> None:
            for submission, ids in taken:
                submission.ids = [run_id for run_id, _ in ids]

        return hand_out


def _with_their_jobs(cursor: Cursor, batch: list[RunSubmission]) -> list[RunSubmission]:
    """The submissions whose every job exists and belongs to their caller."""
    job_ids = list({request["jobId"] for submission in batch for request in submission.requests})
    marks = ", ".join("?" * len(job_ids))
    cursor.execute(f"SELECT id, user_id FROM jobs WHERE id IN ({marks})", job_ids)
    owners = dict(cursor.fetchall())
    return [s for s in batch if all(owners.get(r["jobId"]) == s.user_id for r in s.requests)]


def _take_ids(
    cursor: Cursor, accepted: list[RunSubmission]
) -> list[tuple[RunSubmission, list[tuple[int, dict[str, Any]]]]]:
    """Each accepted submission with its requests numbered from the counter row, in order; one without room has none."""
    total = sum(len(s.requests) for s in accepted)
    first = _advance(cursor, total) if total else None
    taken = []
    for submission in accepted:
        count = len(submission.requests)
        if first is None:
            # No room for all of them (the counter is near its end): each in turn, so the ones that fit get theirs.
            own_first = _advance(cursor, count)
            if own_first is not None:
                taken.append((submission, list(zip(range(own_first, own_first + count), submission.requests))))
            continue
        taken.append((submission, list(zip(range(first, first + count), submission.requests))))
        first += count
    return taken


def _advance(cursor: Cursor, count: int) -> int | None:
    cursor.execute(ADVANCE, (count, MAX_ID - count, count))
    found = cursor.fetchone()
    return None if found is None else int(found[0])


def _row_maker(dialect: Dialect) -> Callable[[RunSubmission, int, dict[str, Any]], tuple[Any, ...]]:
    """Builds a run's row for INSERT, its values as the columns' types store them on this dialect."""
    timestamp = RUNS.c.status_ts.type.bind_processor(dialect) or _as_is
    document = RUNS.c.request.type.bind_processor(dialect) or _as_is
    flag = RUNS.c.user_deleted.type.bind_processor(dialect) or _as_is
    not_deleted = flag(False)

    def row(submission: RunSubmission, run_id: int, request: dict[str, Any]) -> tuple[Any, ...]:
        now = timestamp(submission.now)
        return (
            run_id,
            request["jobId"],
            submission.user_id,
            document(request),
            NEW_STATUS,
            now,
            now,
            not_deleted,
            submission.client_version,
        )

    return row


def _as_is(value: Any) -> Any:
    return value
