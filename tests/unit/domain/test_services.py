"""The Epistemix services over the in-memory store: what a client of the API would see, without a database."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.domain import services
from app.domain.errors import IdsExhausted, Invalid, NotFound
from app.domain.model import MAX_ID
from app.domain.provider_states import apply_provider_state

from .conftest import POLICY, START, USER_ID, at
from .memory_store import MemoryStore


def run_request(job_id: int, **extra: Any) -> dict[str, Any]:
    """A run request as the epx client sends it, naming its job."""
    return {"jobId": job_id, "size": "hot", **extra}


def register(store: MemoryStore, count: int = 1) -> list[int]:
    """Register `count` jobs; their ids."""
    return [services.register_job(store, POLICY, [], START).id for _ in range(count)]


def listed_ids(store: MemoryStore, job_id: int) -> list[int]:
    """The ids GET /runs?job_id= would list."""
    return [run.id for run in services.runs_of(store, POLICY, job_id, START).runs]


def test_jobs_get_the_contracts_example_ids_first_then_the_next_ones() -> None:
    store = MemoryStore()
    first = services.register_job(store, POLICY, ["a", {"b": 1}], START)
    second = services.register_job(store, POLICY, [], START)
    assert (first.id, first.user_id, first.tags, first.created_ts) == (123, USER_ID, ["a", {"b": 1}], START)
    assert second.id == 124


def test_submitted_runs_get_ids_in_request_order_without_gaps(store: MemoryStore) -> None:
    job_a, job_b = register(store, 2)
    first = services.submit_runs(
        store, POLICY, [run_request(job_a), run_request(job_b), run_request(job_a)], "1.0", START
    )
    second = services.submit_runs(store, POLICY, [run_request(job_b, size="cold")], None, START)
    assert [(run.id, run.job_id) for run in first] == [(978, job_a), (979, job_b), (980, job_a)]
    assert [(run.id, run.request["size"], run.epx_client_version) for run in second] == [(981, "cold", None)]
    assert all((run.status, run.user_id, run.created_ts) == ("NOT_STARTED", USER_ID, START) for run in first)
    assert listed_ids(store, job_a) == [978, 980]
    assert listed_ids(store, job_b) == [979, 981]


def test_a_submission_naming_one_unknown_job_writes_no_run_and_spends_no_id(store: MemoryStore) -> None:
    [job] = register(store)
    before = store.contents()
    with pytest.raises(NotFound, match="job 999 does not exist"):
        services.submit_runs(store, POLICY, [run_request(job), run_request(999)], None, START)
    assert store.contents() == before
    assert [run.id for run in services.submit_runs(store, POLICY, [run_request(job)], None, START)] == [978]


def test_an_empty_submission_creates_nothing(store: MemoryStore) -> None:
    assert services.submit_runs(store, POLICY, [], None, START) == []


def test_a_client_version_longer_than_the_column_is_invalid(store: MemoryStore) -> None:
    [job] = register(store)
    with pytest.raises(Invalid, match="65 characters"):
        services.submit_runs(store, POLICY, [run_request(job)], "v" * 65, START)
    [run] = services.submit_runs(store, POLICY, [run_request(job)], "v" * 64, START)
    assert (run.id, run.epx_client_version) == (978, "v" * 64)


@pytest.mark.parametrize("job_id", [0, -1, MAX_ID + 1, 2**64, 10**30])
def test_a_job_id_no_column_can_hold_names_no_job(store: MemoryStore, job_id: int) -> None:
    register(store)
    with pytest.raises(NotFound) as refused:
        services.submit_runs(store, POLICY, [run_request(job_id)], None, START)
    assert refused.value.ident == job_id
    with pytest.raises(NotFound):
        services.runs_of(store, POLICY, job_id, START)


def test_jobs_run_out_of_ids_after_a_provider_state_takes_the_last_one(store: MemoryStore) -> None:
    assert apply_provider_state(store, POLICY, f"job {MAX_ID - 1} exists", {}, True, START)
    before = store.contents()
    with pytest.raises(IdsExhausted):
        services.register_job(store, POLICY, [], START)
    assert store.contents() == before


def test_runs_run_out_of_ids_and_a_submission_that_does_not_fit_writes_nothing(store: MemoryStore) -> None:
    [job] = register(store)
    apply_provider_state(store, POLICY, f"job {job} has run {MAX_ID - 2}", {}, True, START)
    before = store.contents()
    with pytest.raises(IdsExhausted, match="2 more run ids"):
        services.submit_runs(store, POLICY, [run_request(job), run_request(job)], None, START)
    assert store.contents() == before
    [last] = services.submit_runs(store, POLICY, [run_request(job)], None, START)
    assert last.id == MAX_ID - 1
    with pytest.raises(IdsExhausted):
        services.submit_runs(store, POLICY, [run_request(job)], None, START)
    assert listed_ids(store, job) == [MAX_ID - 2, MAX_ID - 1]


def test_listing_moves_runs_through_their_lifecycle_with_the_clock(store: MemoryStore) -> None:
    [job] = register(store)
    services.submit_runs(store, POLICY, [run_request(job)], None, START)

    def seen(seconds: float) -> tuple[str, Any]:
        [run] = services.runs_of(store, POLICY, job, at(seconds)).runs
        return run.status, run.status_ts

    assert seen(0.5) == ("NOT_STARTED", START)
    assert seen(1) == ("QUEUED", at(1))
    assert seen(2.9) == ("QUEUED", at(1))
    assert seen(3) == ("RUNNING", at(3))
    assert seen(5.99) == ("RUNNING", at(3))
    assert seen(6) == ("DONE", at(6))
    assert seen(600) == ("DONE", at(6))


def test_a_step_once_stored_is_not_undone_by_a_read_at_an_earlier_time(store: MemoryStore) -> None:
    [job] = register(store)
    services.submit_runs(store, POLICY, [run_request(job)], None, START)
    services.runs_of(store, POLICY, job, at(4))
    [run] = services.runs_of(store, POLICY, job, at(0)).runs
    assert (run.status, run.status_ts) == ("RUNNING", at(3))
    with store.reading() as uow:
        stored = uow.runs.get(run.id)
    assert stored is not None and stored.status == "RUNNING"


def test_runs_can_end_in_error_when_the_settings_say_so(store: MemoryStore) -> None:
    [job] = register(store)
    failing = replace(POLICY, durations=replace(POLICY.durations, outcome="ERROR"))
    services.submit_runs(store, failing, [run_request(job)], None, START)
    [run] = services.runs_of(store, failing, job, at(60)).runs
    assert (run.status, run.status_ts) == ("ERROR", at(6))


def test_a_long_listing_shows_the_latest_runs_and_counts_them_all(store: MemoryStore) -> None:
    [job] = register(store)
    services.submit_runs(store, POLICY, [run_request(job) for _ in range(5)], None, START)
    listing = services.runs_of(store, replace(POLICY, max_listed_runs=2), job, START)
    assert ([run.id for run in listing.runs], listing.total) == ([981, 982], 5)
    listing = services.runs_of(store, POLICY, job, START)
    assert ([run.id for run in listing.runs], listing.total) == ([978, 979, 980, 981, 982], 5)


def test_listing_the_runs_of_an_unknown_job_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFound, match="register one with POST /jobs/register"):
        services.runs_of(store, POLICY, 123, START)
