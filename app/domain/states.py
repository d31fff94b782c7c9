"""Provider states the Pact verifier asks for, as data in the database.

Setting a state up creates what its name says exists; tearing it down removes it again. States
the mock does not know are still recorded: they steer which interaction answers a request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..store.models import RunRow
from ..store.repositories import IdAllocator, JobRepository, ProviderStateRepository
from ..store.runs import RunRepository
from .services import MAX_ID, Policy

JOB_EXISTS = re.compile(r"job (\d+) exists")
JOB_HAS_RUN = re.compile(r"job (\d+) has run (\d+)")

# The run a "job N has run M" state stands for: what the epx client submits for a small simulation.
EXAMPLE_RUN_REQUEST: dict[str, Any] = {
    "workingDir": "/home/epx/run",
    "size": "hot",
    "fredVersion": "latest",
    "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
    "fredArgs": [{"flag": "-p", "value": "main.fred"}],
    "fredFiles": ["/home/epx/main.fred"],
}


class UnknownId(ValueError):
    """A state names an id no column can hold."""


def apply_state(
    session: Session, policy: Policy, name: str, params: dict[str, Any], setup: bool, now: datetime
) -> bool:
    """Set up or tear down one state; True when the mock knows what data the state names."""
    states = ProviderStateRepository(session)
    if setup:
        states.activate(name, params, now)
    else:
        states.deactivate(name)
    for pattern, handler in HANDLERS:
        found = pattern.fullmatch(name.strip())
        if found:
            ids = [int(group) for group in found.groups()]
            # The counter moves past a state's id, so the largest id itself cannot be named.
            if any(not 0 < i < MAX_ID for i in ids):
                raise UnknownId(f"provider state {name!r} names an id outside 1..{MAX_ID - 1}")
            handler(session, policy, ids, setup, now)
            return True
    return False


def _job_exists(session: Session, policy: Policy, ids: list[int], setup: bool, now: datetime) -> None:
    [job_id] = ids
    jobs = JobRepository(session)
    if not setup:
        jobs.delete(job_id)
        return
    if jobs.get(job_id) is None:
        jobs.add(job_id, policy.user_id, [], now)
        IdAllocator(session).reserve("jobs", job_id)


def _job_has_run(session: Session, policy: Policy, ids: list[int], setup: bool, now: datetime) -> None:
    job_id, run_id = ids
    runs = RunRepository(session)
    if not setup:
        runs.delete(run_id)
        JobRepository(session).delete(job_id)
        return
    _job_exists(session, policy, [job_id], True, now)
    run = runs.get(run_id)
    if run is not None and run.job_id != job_id:
        session.delete(run)
        session.flush()
        run = None
    if run is None:
        runs.add(
            RunRow(
                id=run_id,
                job_id=job_id,
                user_id=policy.user_id,
                request={"jobId": job_id, **EXAMPLE_RUN_REQUEST},
                status="RUNNING",
                status_ts=now,
                created_ts=now,
                user_deleted=False,
                epx_client_version="1.2.3",
            )
        )
        IdAllocator(session).reserve("runs", run_id)


HANDLERS: list[tuple[re.Pattern[str], Callable[[Session, Policy, list[int], bool, datetime], None]]] = [
    (JOB_EXISTS, _job_exists),
    (JOB_HAS_RUN, _job_has_run),
]
