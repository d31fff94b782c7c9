"""Run submissions sent at once share a write (SQLite's group writer, PostgreSQL's run writer): each must still get
what it would get alone, even when others in its group name a job that does not exist.

Every client submits to job 123 (set up by the provider state) and, every third time, a submission that also names
a job that does not exist. That one is refused whole with a 404 and stores nothing; the others are written, with ids
that stay gap-free across everything acknowledged. `--threads 8` lets each worker hold up to 8 submissions at once,
so they are written in groups.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.integration.conftest import RunningMock

from .conftest import FIRST_JOB_ID, FIRST_RUN_ID, Connection, as_json, compare_ids, contiguous_from, query, run_request
from .conftest import set_up_state as set_up
from .test_concurrency import ok, run_clients

CLIENTS = 24
SUBMISSIONS_PER_CLIENT = 60
REFUSED_EVERY = 3
MISSING_JOB = 987_654_321


@dataclass
class Outcome:
    """What one client was told: acknowledged runs (id -> working directory) and the refused submissions' tags."""

    runs: dict[int, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)


def submit_some_refused(url: str, index: int, start: threading.Barrier) -> Outcome:
    connection = Connection(url)
    seen = Outcome()
    start.wait()
    for number in range(SUBMISSIONS_PER_CLIENT):
        tag = f"g{index}/s{number}"
        if number % REFUSED_EVERY == REFUSED_EVERY - 1:
            sent = [run_request(FIRST_JOB_ID, f"{tag}/0"), run_request(MISSING_JOB, f"{tag}/1")]
            reply = connection.epx("POST", "/runs", {"runRequests": sent})
            assert reply.status == 404, str(reply)
            assert str(MISSING_JOB) in reply.json()["detail"], str(reply)
            seen.refused.append(tag)
            continue
        sent = [run_request(FIRST_JOB_ID, f"{tag}/{position}") for position in range(1 + number % 2)]
        responses = ok(connection.epx("POST", "/runs", {"runRequests": sent}))["runResponses"]
        assert [r["status"] for r in responses] == ["Submitted"] * len(sent), responses
        ids = [r["runId"] for r in responses]
        assert ids == list(range(ids[0], ids[0] + len(ids))), f"one submission's ids are not consecutive: {ids}"
        seen.runs.update({run_id: request["workingDir"] for run_id, request in zip(ids, sent, strict=True)})
    connection.close()
    return seen


def test_submissions_written_together_each_get_their_own_answer_and_refusals_store_nothing(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url, "--threads", "8")
    set_up(mock, f"job {FIRST_JOB_ID} exists")

    outcomes, _ = run_clients(CLIENTS, lambda index, start: submit_some_refused(mock.url, index, start))

    acknowledged: dict[int, str] = {}
    for outcome in outcomes:
        assert not acknowledged.keys() & outcome.runs.keys(), "a run id acknowledged to two clients"
        acknowledged.update(outcome.runs)
    assert contiguous_from(FIRST_RUN_ID, list(acknowledged)) == []
    stored = {row.id: as_json(row.request)["workingDir"] for row in query(database_url, "SELECT id, request FROM runs")}
    assert compare_ids("run", acknowledged, stored) == []
    refused = {tag for outcome in outcomes for tag in outcome.refused}
    assert len(refused) == CLIENTS * (SUBMISSIONS_PER_CLIENT // REFUSED_EVERY)
    stored_submissions = {path.removeprefix("/home/epx/").rsplit("/", 1)[0] for path in stored.values()}
    assert stored_submissions & refused == set(), "runs of a refused submission were stored"
