"""After submission: one run's status, stopping, retrying, deleting, listing jobs and finished runs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain import run_control, services
from app.domain.errors import Forbidden, NotFound, WrongState
from app.domain.lifecycle import Durations
from app.domain.model import Policy
from app.domain.provider_states import apply_provider_state

from .conftest import POLICY, START, USER_ID, at
from .memory_store import MemoryStore

OTHER = USER_ID + 1
FAILING = Policy(user_id=USER_ID, durations=Durations(not_started=1, queued=2, running=3, outcome="ERROR"))


def _job_with_runs(store: MemoryStore, count: int, policy: Policy = POLICY) -> tuple[int, list[int]]:
    job = services.register_job(store, policy, ["info_job"], START, caller=USER_ID)
    runs = services.submit_runs(store, policy, [{"jobId": job.id}] * count, None, START, caller=USER_ID)
    return job.id, [run.id for run in runs]


def test_a_run_by_id_is_brought_up_to_date_and_an_unknown_one_is_no_run(store: MemoryStore) -> None:
    _, [run_id] = _job_with_runs(store, 1)
    assert [r.status for r in run_control.run_by_id(store, POLICY, run_id, at(1.5), caller=USER_ID)] == ["QUEUED"]
    assert [r.status for r in run_control.run_by_id(store, POLICY, run_id, at(0), caller=USER_ID)] == ["QUEUED"]
    assert run_control.run_by_id(store, POLICY, 5555, at(0), caller=USER_ID) == []
    with pytest.raises(Forbidden):
        run_control.run_by_id(store, POLICY, run_id, at(0), caller=OTHER)


def test_stopping_ends_runs_under_way_and_says_why_others_were_not(store: MemoryStore) -> None:
    job_id, [first, second] = _job_with_runs(store, 2)
    report = run_control.stop_runs(store, POLICY, [first, second, 5555], at(4), caller=USER_ID)
    assert report.stopped == [first, second] and report.failed == [(5555, "NotFound")]
    runs = services.runs_of(store, POLICY, job_id, at(100), caller=USER_ID).runs
    # Stopped for good: the clock no longer moves them on to DONE.
    assert [(r.status, r.user_deleted) for r in runs] == [("ERROR", True), ("ERROR", True)]
    again = run_control.stop_runs(store, POLICY, [first], at(101), caller=USER_ID)
    assert again.stopped == [] and again.failed == [(first, "Forbidden")]
    assert run_control.stop_runs(store, POLICY, [first], at(101), caller=OTHER).failed == [(first, "Forbidden")]


def test_a_finished_run_cannot_be_stopped(store: MemoryStore) -> None:
    _, [run_id] = _job_with_runs(store, 1)
    report = run_control.stop_runs(store, POLICY, [run_id], at(6), caller=USER_ID)
    assert report.stopped == [] and report.failed == [(run_id, "Forbidden")]


def test_retrying_restarts_failed_runs_all_or_none(store: MemoryStore) -> None:
    job_id, [first, second] = _job_with_runs(store, 2, FAILING)
    assert run_control.retry_runs(store, FAILING, [first, second], at(6), caller=USER_ID) == [first, second]
    statuses = [r.status for r in services.runs_of(store, FAILING, job_id, at(6.5), caller=USER_ID).runs]
    assert statuses == ["NOT_STARTED", "NOT_STARTED"]
    # A run that has not failed (again) is refused, and so is the whole request: nothing moves.
    before = store.contents()
    with pytest.raises(WrongState, match=f"run {first} is QUEUED"):
        run_control.retry_runs(store, FAILING, [first], at(7.5), caller=USER_ID)
    with pytest.raises(NotFound):
        run_control.retry_runs(store, FAILING, [5555], at(7.5), caller=USER_ID)
    with pytest.raises(Forbidden):
        run_control.retry_runs(store, FAILING, [first], at(20), caller=OTHER)
    assert store.contents() == before


def test_finished_runs_are_those_whose_results_can_be_fetched(store: MemoryStore) -> None:
    job_id, [first, _second] = _job_with_runs(store, 2)
    assert run_control.finished_runs(store, POLICY, job_id, at(5), caller=USER_ID) == []
    run_control.stop_runs(store, POLICY, [first], at(5), caller=USER_ID)
    finished = run_control.finished_runs(store, POLICY, job_id, at(6), caller=USER_ID)
    assert [(r.id, r.status) for r in finished] == [(first, "ERROR"), (first + 1, "DONE")]
    with pytest.raises(NotFound):
        run_control.finished_runs(store, POLICY, 999, at(6), caller=USER_ID)


def test_deleting_takes_the_job_with_it_and_twice_is_not_found(store: MemoryStore) -> None:
    job_id, _ = _job_with_runs(store, 1)
    with pytest.raises(Forbidden):
        run_control.delete_job(store, job_id, caller=OTHER)
    run_control.delete_job(store, job_id, caller=USER_ID)
    with pytest.raises(NotFound):
        run_control.delete_job(store, job_id, caller=USER_ID)
    assert store.contents().runs == {}


def test_jobs_are_listed_per_user_by_tags_and_creation_time(store: MemoryStore) -> None:
    old = services.register_job(store, POLICY, ["a", "b"], START, caller=USER_ID)
    new = services.register_job(store, POLICY, ["a"], START + timedelta(days=2), caller=USER_ID)
    services.register_job(store, POLICY, ["a"], START + timedelta(days=3), caller=OTHER)
    assert [j.id for j in run_control.jobs_of(store, ["a"], None, None, caller=USER_ID)] == [new.id, old.id]
    assert [j.id for j in run_control.jobs_of(store, ["a", "b"], None, None, caller=USER_ID)] == [old.id]
    day_after = START + timedelta(days=1)
    assert [j.id for j in run_control.jobs_of(store, [], day_after, None, caller=USER_ID)] == [new.id]
    assert [j.id for j in run_control.jobs_of(store, [], None, day_after, caller=USER_ID)] == [old.id]
    assert run_control.latest_job(store, ["a"], caller=USER_ID).id == new.id
    with pytest.raises(NotFound):
        run_control.latest_job(store, ["zzz"], caller=USER_ID)


@pytest.mark.parametrize(
    ("state", "status", "owner"),
    [
        ("job 123 has run 978", "RUNNING", USER_ID),
        ("job 123 has run 978 that is done", "DONE", USER_ID),
        ("job 123 has run 978 that failed", "ERROR", USER_ID),
    ],
)
def test_provider_states_set_up_runs_in_the_status_they_name(
    store: MemoryStore, state: str, status: str, owner: int
) -> None:
    assert apply_provider_state(store, POLICY, state, {}, True, START)
    [run] = run_control.run_by_id(store, POLICY, 978, START, caller=owner)
    assert (run.job_id, run.status) == (123, status)


def test_a_job_of_another_user_is_forbidden_and_a_job_that_does_not_exist_is_gone(store: MemoryStore) -> None:
    apply_provider_state(store, POLICY, "job 123 belongs to another user", {}, True, START)
    with pytest.raises(Forbidden):
        services.runs_of(store, POLICY, 123, START, caller=USER_ID)
    apply_provider_state(store, POLICY, "job 123 exists", {}, True, START)
    assert services.runs_of(store, POLICY, 123, START, caller=USER_ID).runs == []
    apply_provider_state(store, POLICY, "job 123 does not exist", {}, True, START)
    with pytest.raises(NotFound):
        services.runs_of(store, POLICY, 123, START, caller=USER_ID)
