"""Provider states the Pact verifier (or a test) asks for, as data in the store.

Setting a state up creates what its name says exists; tearing it down removes it again. States
the mock does not know are still recorded: they steer which interaction answers a request.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .cached import kept
from .errors import Conflict, UnknownId
from .model import MAX_ID, Job, Policy, Run
from .ports import Store, UnitOfWork

JOB_EXISTS = re.compile(r"job (\d+) exists")
JOB_HAS_RUN = re.compile(r"job (\d+) has run (\d+)")
JOB_HAS_DONE_RUN = re.compile(r"job (\d+) has run (\d+) that is done")
JOB_HAS_FAILED_RUN = re.compile(r"job (\d+) has run (\d+) that failed")
JOB_OF_ANOTHER_USER = re.compile(r"job (\d+) belongs to another user")
JOB_DOES_NOT_EXIST = re.compile(r"job (\d+) does not exist")
# Parallel test workers set up the same state at once: the loser of that race (a duplicate key, a deadlock,
# or a row the other one just deleted) runs again, after a short random pause, and finds the winner's rows.
STATE_ATTEMPTS = 10

# The run a "job N has run M" state stands for: what the epx client submits for a small simulation.
EXAMPLE_RUN_REQUEST: dict[str, Any] = {
    "workingDir": "/home/epx/run",
    "size": "hot",
    "fredVersion": "latest",
    "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
    "fredArgs": [{"flag": "-p", "value": "main.fred"}],
    "fredFiles": ["/home/epx/main.fred"],
}
EXAMPLE_CLIENT_VERSION = "1.2.3"
# The tags of the job a provider state creates: the contract's example job (listings filter by them).
EXAMPLE_TAGS = ["info_job"]


def apply_provider_state(
    store: Store, policy: Policy, name: str, params: dict[str, Any], setup: bool, now: datetime
) -> bool:
    """Set up or tear down one state; True when the mock knows what data the state names."""
    for attempt in range(1, STATE_ATTEMPTS + 1):
        try:
            with store.writing() as uow:
                return _apply(uow, policy, name, params, setup, now)
        except Conflict:
            if attempt == STATE_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.001, 0.01 * attempt))
    raise AssertionError("unreachable")


def active_provider_states(store: Store) -> frozenset[str]:
    """The states set up now; kept in the store, so every worker process routes by the same ones.

    The router asks on every request to a route whose interactions name provider states: the web app's store
    keeps them per process and session until the control plane announces a change (cached.py).
    """
    return kept(store, "provider_states", lambda: stored_provider_states(store))


def stored_provider_states(store: Store) -> frozenset[str]:
    """The states set up now, as the store holds them (a query)."""
    with store.reading() as uow:
        return uow.provider_states.active()


def _apply(uow: UnitOfWork, policy: Policy, name: str, params: dict[str, Any], setup: bool, now: datetime) -> bool:
    if setup:
        uow.provider_states.activate(name, params, now)
    else:
        uow.provider_states.deactivate(name)
    for pattern, handler in HANDLERS:
        found = pattern.fullmatch(name.strip())
        if found:
            ids = [int(group) for group in found.groups()]
            # The counter moves past a state's id, so the largest id itself cannot be named.
            if any(not 0 < i < MAX_ID for i in ids):
                raise UnknownId(f"provider state {name!r} names an id outside 1..{MAX_ID - 1}")
            handler(uow, policy, ids, setup, now)
            return True
    return False


def _job_exists(uow: UnitOfWork, policy: Policy, ids: list[int], setup: bool, now: datetime) -> None:
    _job_of(uow, ids[0], policy.user_id, setup, now)


def _job_of_another_user(uow: UnitOfWork, policy: Policy, ids: list[int], setup: bool, now: datetime) -> None:
    # Any user but the default one, whom a token without a user id (the verifier's, say) names.
    _job_of(uow, ids[0], policy.user_id + 1 if policy.user_id < MAX_ID else 1, setup, now)


def _job_does_not_exist(uow: UnitOfWork, policy: Policy, ids: list[int], setup: bool, now: datetime) -> None:
    if setup:
        uow.jobs.delete(ids[0])


def _job_of(uow: UnitOfWork, job_id: int, user_id: int, setup: bool, now: datetime) -> None:
    if not setup:
        uow.jobs.delete(job_id)
        return
    job = uow.jobs.get(job_id)
    if job is not None and job.user_id != user_id:
        uow.jobs.delete(job_id)
        job = None
    if job is None:
        uow.jobs.add(Job(job_id, user_id, list(EXAMPLE_TAGS), now))
        uow.ids.reserve("jobs", job_id)


def _run_in(status: str) -> Callable[[UnitOfWork, Policy, list[int], bool, datetime], None]:
    def job_has_run(uow: UnitOfWork, policy: Policy, ids: list[int], setup: bool, now: datetime) -> None:
        job_id, run_id = ids
        if not setup:
            uow.runs.delete(run_id)
            uow.jobs.delete(job_id)
            return
        _job_of(uow, job_id, policy.user_id, True, now)
        run = uow.runs.get(run_id)
        if run is not None and (run.job_id != job_id or run.status != status):
            uow.runs.delete(run_id)
            run = None
        if run is None:
            request = {"jobId": job_id, **EXAMPLE_RUN_REQUEST}
            uow.runs.add(Run(run_id, job_id, policy.user_id, request, status, now, now, False, EXAMPLE_CLIENT_VERSION))
            uow.ids.reserve("runs", run_id)

    return job_has_run


# The first pattern that matches the whole name wins: the longer names come before their prefixes.
HANDLERS: list[tuple[re.Pattern[str], Callable[[UnitOfWork, Policy, list[int], bool, datetime], None]]] = [
    (JOB_EXISTS, _job_exists),
    (JOB_OF_ANOTHER_USER, _job_of_another_user),
    (JOB_DOES_NOT_EXIST, _job_does_not_exist),
    (JOB_HAS_DONE_RUN, _run_in("DONE")),
    (JOB_HAS_FAILED_RUN, _run_in("ERROR")),
    (JOB_HAS_RUN, _run_in("RUNNING")),
]
