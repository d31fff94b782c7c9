"""The run lifecycle: steps follow elapsed time, only ever forward, with a consistent pod phase."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.lifecycle import FINAL, STEPS, Durations, advance, pod_phase, rank

START = datetime(2026, 1, 1, tzinfo=UTC)
DURATIONS = Durations(not_started=1, queued=2, running=3)


def at(seconds: float) -> datetime:
    """START plus some seconds."""
    return START + timedelta(seconds=seconds)


def test_each_step_lasts_its_configured_time() -> None:
    assert advance("NOT_STARTED", START, at(0.99), DURATIONS) == ("NOT_STARTED", START)
    assert advance("NOT_STARTED", START, at(1), DURATIONS) == ("QUEUED", at(1))
    assert advance("NOT_STARTED", START, at(2.5), DURATIONS) == ("QUEUED", at(1))
    assert advance("NOT_STARTED", START, at(3), DURATIONS) == ("RUNNING", at(3))
    assert advance("NOT_STARTED", START, at(5.99), DURATIONS) == ("RUNNING", at(3))
    assert advance("NOT_STARTED", START, at(6), DURATIONS) == ("DONE", at(6))
    assert advance("NOT_STARTED", START, at(10_000), DURATIONS) == ("DONE", at(6))


def test_the_outcome_can_be_error() -> None:
    failing = Durations(0, 0, 0, outcome="ERROR")
    assert advance("NOT_STARTED", START, START, failing) == ("ERROR", START)


def test_a_finished_run_stays_finished_whatever_the_durations() -> None:
    assert advance("DONE", START, at(1), Durations(100, 100, 100)) == ("DONE", START)
    assert advance("ERROR", START, at(1), DURATIONS) == ("ERROR", START)


def test_pod_phase_follows_status() -> None:
    phases = {status: pod_phase(status) for status in (*STEPS, *FINAL)}
    assert phases == {
        "NOT_STARTED": "Pending",
        "QUEUED": "Pending",
        "RUNNING": "Running",
        "DONE": "Succeeded",
        "ERROR": "Failed",
    }


@given(
    st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), min_size=1, max_size=20),
    st.tuples(*(st.floats(min_value=0, max_value=10, allow_nan=False) for _ in range(3))),
)
def test_reading_at_later_times_never_moves_a_run_backwards(
    offsets: list[float], steps: tuple[float, float, float]
) -> None:
    not_started, queued, running = steps
    durations = Durations(not_started, queued, running)
    status, since = "NOT_STARTED", START
    for offset in sorted(offsets):
        new_status, new_since = advance(status, since, at(offset), durations)
        assert rank(new_status) >= rank(status)
        assert new_since >= since
        status, since = new_status, new_since
