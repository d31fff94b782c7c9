"""Provider states over the in-memory store: the data a state names appears and goes, and races are retried."""

from __future__ import annotations

import re

import pytest

from app.domain import provider_states, services
from app.domain.errors import Conflict, NotFound, UnknownId
from app.domain.model import MAX_ID
from app.domain.provider_states import EXAMPLE_RUN_REQUEST, active_provider_states, apply_provider_state

from .conftest import POLICY, START, USER_ID
from .memory_store import MemoryStore


def set_up(store: MemoryStore, name: str, params: dict[str, object] | None = None) -> bool:
    """What the verifier's state-change call with setup does."""
    return apply_provider_state(store, POLICY, name, params or {}, True, START)


def tear_down(store: MemoryStore, name: str) -> bool:
    """What the verifier's state-change call with teardown does."""
    return apply_provider_state(store, POLICY, name, {}, False, START)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses between retries, recorded instead of slept."""
    paused: list[float] = []
    monkeypatch.setattr(provider_states.time, "sleep", paused.append)
    return paused


def test_job_exists_creates_the_job_and_tear_down_removes_it(store: MemoryStore) -> None:
    assert set_up(store, "job 42 exists")
    assert services.runs_of(store, POLICY, 42, START).runs == []
    assert active_provider_states(store) == {"job 42 exists"}
    assert tear_down(store, "job 42 exists")
    with pytest.raises(NotFound):
        services.runs_of(store, POLICY, 42, START)
    assert active_provider_states(store) == frozenset()


def test_setting_a_state_up_twice_is_the_same_as_once(store: MemoryStore) -> None:
    set_up(store, "job 42 exists")
    set_up(store, "job 42 exists")
    assert [job_id for job_id in store.contents().jobs] == [42]


def test_job_has_run_creates_a_running_run_with_the_example_request(store: MemoryStore) -> None:
    assert set_up(store, " job 7 has run 8 ")
    [run] = services.runs_of(store, POLICY, 7, START).runs
    assert (run.id, run.job_id, run.user_id, run.status, run.status_ts) == (8, 7, USER_ID, "RUNNING", START)
    assert run.request == {"jobId": 7, **EXAMPLE_RUN_REQUEST}
    assert tear_down(store, " job 7 has run 8 ")
    contents = store.contents()
    assert (contents.jobs, contents.runs) == ({}, {})


def test_a_run_named_by_a_state_moves_to_the_job_the_state_names(store: MemoryStore) -> None:
    set_up(store, "job 7 has run 8")
    set_up(store, "job 9 has run 8")
    assert services.runs_of(store, POLICY, 7, START).runs == []
    assert [run.id for run in services.runs_of(store, POLICY, 9, START).runs] == [8]


def test_ids_a_state_chooses_are_never_handed_out_again(store: MemoryStore) -> None:
    set_up(store, "job 500 has run 2000")
    assert services.register_job(store, POLICY, [], START).id == 501
    [run] = services.submit_runs(store, POLICY, [{"jobId": 500}], None, START)
    assert run.id == 2001
    # A state naming an id below the counter leaves it where it is.
    set_up(store, "job 5 exists")
    assert services.register_job(store, POLICY, [], START).id == 502


def test_unknown_states_are_recorded_but_create_nothing(store: MemoryStore) -> None:
    assert not set_up(store, "the moon is full", {"phase": 1})
    assert active_provider_states(store) == {"the moon is full"}
    assert store.contents().provider_states["the moon is full"] == ({"phase": 1}, START)
    assert store.contents().jobs == {}
    assert not tear_down(store, "the moon is full")
    assert active_provider_states(store) == frozenset()


@pytest.mark.parametrize("name", ["job 0 exists", f"job {MAX_ID} exists", "job 1 has run 0", f"job 1 has run {10**30}"])
def test_ids_outside_what_a_column_holds_are_refused_and_nothing_is_recorded(store: MemoryStore, name: str) -> None:
    with pytest.raises(UnknownId, match=re.escape(f"outside 1..{MAX_ID - 1}")):
        set_up(store, name)
    assert store.contents() == MemoryStore().contents()


def test_the_largest_id_a_state_may_name(store: MemoryStore) -> None:
    assert set_up(store, f"job {MAX_ID - 1} has run {MAX_ID - 1}")
    assert [run.id for run in services.runs_of(store, POLICY, MAX_ID - 1, START).runs] == [MAX_ID - 1]


def test_a_conflict_is_retried_until_the_state_is_set_up(store: MemoryStore, sleeps: list[float]) -> None:
    store.fail_next_writes(3)
    assert set_up(store, "job 42 exists")
    assert len(sleeps) == 3
    assert active_provider_states(store) == {"job 42 exists"}
    assert 42 in store.contents().jobs


def test_a_conflict_that_persists_is_raised_and_nothing_is_kept(store: MemoryStore, sleeps: list[float]) -> None:
    store.fail_next_writes(provider_states.STATE_ATTEMPTS)
    with pytest.raises(Conflict):
        set_up(store, "job 42 exists")
    assert len(sleeps) == provider_states.STATE_ATTEMPTS - 1
    assert store.contents() == MemoryStore().contents()
