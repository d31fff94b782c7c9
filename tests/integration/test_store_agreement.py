"""The in-memory store the domain's unit tests use agrees with the SQL store, on SQLite and on PostgreSQL.

One scenario (jobs, runs, the lifecycle, uploads, provider states, ids near their end, a conflict and a
rollback) runs through the domain's services against each store, and every answer or refusal it sees is
compared. A difference means the unit tests in tests/unit/domain prove less than they claim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from app.domain import services
from app.domain.errors import DomainError
from app.domain.lifecycle import Durations
from app.domain.model import MAX_ID, Job, Policy
from app.domain.ports import Store
from app.domain.provider_states import active_provider_states, apply_provider_state
from tests.integration.conftest import fresh_postgres_database, sql_store
from tests.unit.domain.memory_store import MemoryStore

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
POLICY = Policy(user_id=456, durations=Durations(not_started=1, queued=2, running=3), max_job_upload_bytes=16)


def at(seconds: int) -> datetime:
    """START plus some seconds."""
    return START + timedelta(seconds=seconds)


class Recorder:
    """What the scenario saw, step by step: each step's value, or the kind of error it raised."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def __call__(self, step: str, action: Callable[[], Any]) -> Any:
        try:
            value = action()
        except DomainError as exc:
            value = ("refused", type(exc).__name__, str(exc))
        except Exception as exc:
            # Storage errors carry the driver's words, which differ by backend: only their kind must agree.
            value = ("failed", type(exc).__name__)
        self.seen.append((step, value))
        return value


def scenario(store: Store) -> list[tuple[str, Any]]:
    """Everything the domain asks of a store, in the order a verifier run and a client would ask it."""
    see = Recorder()
    see("register", lambda: services.register_job(store, POLICY, ["flu", {"k": 1}], START))
    see("register again", lambda: services.register_job(store, POLICY, [], START))
    requests: list[dict[str, Any]] = [
        {"jobId": 123, "size": "hot"},
        {"jobId": 124},
        {"jobId": 123, "fredArgs": [{"flag": "-p"}]},
    ]
    see("submit", lambda: services.submit_runs(store, POLICY, requests, "1.2.3", START))
    see(
        "submit to an unknown job",
        lambda: services.submit_runs(store, POLICY, [{"jobId": 124}, {"jobId": 9}], None, START),
    )
    see("submit after a refusal", lambda: services.submit_runs(store, POLICY, [{"jobId": 124}], None, START))
    for seconds in (0, 1, 4, 0, 60):
        see(f"runs of 123 at {seconds}s", partial(services.runs_of, store, POLICY, 123, at(seconds)))
    see("latest runs of 124", lambda: services.runs_of(store, replace(POLICY, max_listed_runs=1), 124, at(2)))

    see("run upload key", lambda: services.upload_key(store, 123, "run", "config", 978))
    see("run upload key of another job", lambda: services.upload_key(store, 124, "run", "config", 978))
    see("upload", lambda: services.store_upload(store, POLICY, 123, "job_input", b"abc", "text/plain", START))
    first = services.upload_of(store, 123, "job_input")
    see("upload to a run", lambda: services.store_upload(store, POLICY, 123, "run_978_config", b"{}", None, START))
    see("replace", lambda: services.store_upload(store, POLICY, 123, "job_input", b"abcdefgh", None, at(1)))
    see("over the job's quota", lambda: services.store_upload(store, POLICY, 123, "job_config", b"x" * 7, None, START))
    over_total = replace(POLICY, max_total_upload_bytes=12)
    see("over the total quota", lambda: services.store_upload(store, over_total, 124, "job_input", b"xyz", None, START))
    see(
        "within the total quota", lambda: services.store_upload(store, over_total, 124, "job_input", b"xy", None, START)
    )
    see("upload read back", lambda: services.upload_of(store, 123, "job_input"))
    see("chunk", lambda: services.upload_chunk(store, services.upload_of(store, 123, "job_input"), 2, 3))
    see("chunk past the end", lambda: services.upload_chunk(store, services.upload_of(store, 123, "job_input"), 6, 9))
    see("chunk of a replaced upload", lambda: services.upload_chunk(store, first, 0, 3))
    see("uploads of 123", lambda: services.uploads_of(store, 123))

    for name in ("job 500 exists", "job 501 has run 2000", "the moon is full"):
        see(f"set up {name!r}", partial(apply_provider_state, store, POLICY, name, {"n": 1}, True, START))
    see("set up an id out of range", lambda: apply_provider_state(store, POLICY, "job 0 exists", {}, True, START))
    see("active states", lambda: active_provider_states(store))
    see("runs of 501", lambda: services.runs_of(store, POLICY, 501, START))
    see("register after states", lambda: services.register_job(store, POLICY, [], START))
    see("submit after states", lambda: services.submit_runs(store, POLICY, [{"jobId": 500}], None, START))
    see("upload to 500", lambda: services.store_upload(store, POLICY, 500, "job_config", b"cfg", None, START))
    for name in ("job 501 has run 2000", "job 500 exists", "the moon is full"):
        see(f"tear down {name!r}", partial(apply_provider_state, store, POLICY, name, {}, False, START))
    see("runs of 501 after tear-down", lambda: services.runs_of(store, POLICY, 501, START))
    see("uploads of 500 after tear-down", lambda: services.uploads_of(store, 500))
    see("active states after tear-down", lambda: active_provider_states(store))

    see("a duplicate job", lambda: _add_job(store, 123))
    see("a rolled-back registration", lambda: _register_then_fail(store))
    see("register after the rollback", lambda: services.register_job(store, POLICY, [], START))

    see(
        "take the last job id", lambda: apply_provider_state(store, POLICY, f"job {MAX_ID - 1} exists", {}, True, START)
    )
    see("register with no ids left", lambda: services.register_job(store, POLICY, [], START))
    see(
        "take all but one run id",
        lambda: apply_provider_state(store, POLICY, f"job 7 has run {MAX_ID - 2}", {}, True, START),
    )
    see("submit two with room for one", lambda: services.submit_runs(store, POLICY, [{"jobId": 7}] * 2, None, START))
    see("submit the last one", lambda: services.submit_runs(store, POLICY, [{"jobId": 7}], None, START))
    see("submit with no ids left", lambda: services.submit_runs(store, POLICY, [{"jobId": 7}], None, START))
    see("runs of 7", lambda: services.runs_of(store, POLICY, 7, START))
    return see.seen


def _add_job(store: Store, job_id: int) -> Job:
    with store.writing() as uow:
        return uow.jobs.add(Job(job_id, 1, [], START))


def _register_then_fail(store: Store) -> None:
    with store.writing() as uow:
        uow.jobs.add(Job(uow.ids.take("jobs"), POLICY.user_id, [], START))
        raise RuntimeError("the request failed after the job was added")


@pytest.fixture(scope="module")
def in_memory() -> list[tuple[str, Any]]:
    """What the scenario sees on the in-memory store (once: it is the reference for both backends)."""
    return scenario(MemoryStore())


def test_the_scenario_sees_what_the_api_promises(in_memory: list[tuple[str, Any]]) -> None:
    seen = dict(in_memory)
    assert [job.id for job in (seen["register"], seen["register again"])] == [123, 124]
    assert [run.id for run in seen["submit"]] == [978, 979, 980]
    assert seen["submit to an unknown job"][:2] == ("refused", "NotFound")
    assert [run.id for run in seen["submit after a refusal"]] == [981]
    assert [run.status for run in seen["runs of 123 at 4s"].runs] == ["RUNNING", "RUNNING"]
    assert [run.status for run in seen["runs of 123 at 0s"].runs] == ["RUNNING", "RUNNING"]
    assert seen["over the job's quota"][:2] == ("refused", "QuotaExceeded")
    assert seen["over the total quota"][:2] == ("refused", "QuotaExceeded")
    assert seen["chunk"] == b"cde"
    assert seen["chunk of a replaced upload"][:2] == ("refused", "Changed")
    assert seen["active states"] == {"job 500 exists", "job 501 has run 2000", "the moon is full"}
    assert seen["register after states"].id == 502
    assert [run.id for run in seen["submit after states"]] == [2001]
    assert seen["a duplicate job"] == ("failed", "Conflict")
    assert seen["register after the rollback"].id == 503
    assert seen["register with no ids left"][:2] == ("refused", "IdsExhausted")
    assert seen["submit two with room for one"][:2] == ("refused", "IdsExhausted")
    assert [run.id for run in seen["runs of 7"].runs] == [MAX_ID - 2, MAX_ID - 1]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_sql_store_sees_the_same(backend: str, tmp_path: Path, in_memory: list[tuple[str, Any]]) -> None:
    with _database(backend, tmp_path) as url, sql_store(url) as store:
        on_sql = scenario(store)
    assert [step for step, _ in on_sql] == [step for step, _ in in_memory]
    for (step, expected), (_, actual) in zip(in_memory, on_sql, strict=True):
        assert actual == expected, f"{step}: {backend} saw {actual!r}, the memory store {expected!r}"


@contextmanager
def _database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'agreement.sqlite3'}"
        return
    with fresh_postgres_database() as url:
        yield url
