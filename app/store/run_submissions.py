"""Run submissions on an SQLite file, as a kind of grouped write (group_commit.py).

A group of submissions is one job check, one counter update and one insert; each submission's runs get
consecutive ids, in order, and the ids are handed out only after the COMMIT.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..domain.model import MAX_ID, NEW_STATUS
from .group_commit import Submission
from .tables import IdCounter, JobRow, RunRow

RUNS = RunRow.metadata.tables["runs"]


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
        self.ids = None

    @classmethod
    def write_together(cls, connection: Connection, batch: Sequence[Submission]) -> Callable[[], None]:
        submissions = [submission for submission in batch if isinstance(submission, RunSubmission)]
        taken = _take_ids(connection, _with_their_jobs(connection, submissions))
        rows = [_row(submission, run_id, request) for submission, ids in taken for run_id, request in ids]
        if rows:
            connection.execute(insert(RUNS), rows)

        def hand_out() -> None:
            for submission, ids in taken:
                submission.ids = [run_id for run_id, _ in ids]

        return hand_out


def _with_their_jobs(connection: Connection, batch: list[RunSubmission]) -> list[RunSubmission]:
    """The submissions whose every job exists and belongs to their caller."""
    job_ids = {request["jobId"] for submission in batch for request in submission.requests}
    owners = {
        job_id: user_id
        for job_id, user_id in connection.execute(select(JobRow.id, JobRow.user_id).where(JobRow.id.in_(job_ids)))
    }
    return [s for s in batch if all(owners.get(r["jobId"]) == s.user_id for r in s.requests)]


def _take_ids(
    connection: Connection, accepted: list[RunSubmission]
) -> list[tuple[RunSubmission, list[tuple[int, dict[str, Any]]]]]:
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


def _row(submission: RunSubmission, run_id: int, request: dict[str, Any]) -> dict[str, Any]:
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
