"""Periodic stops of generated items (the Teraslice example's `every: 180 s, stop 0.5`), over the in-memory
store: a stopped generated execution is stored as an overlay, moves on to `stopped` in listings and reads
alike, keeps its slice counters, and the same clock gives the same stops in another worker and after a
restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.resources.engine import Engine
from app.resources.modelfile import read_model_file
from app.resources.values import Given
from tests.unit.domain.memory_store import MemoryStore

MODEL = Path(__file__).resolve().parents[3] / "examples" / "teraslice" / "ts-topy-Teraslice.model.yaml"
START = datetime(2030, 1, 1, tzinfo=UTC)
TERMINAL = {"completed", "stopped", "failed", "terminated", "rejected"}


def executions(engine: Engine, minutes: int) -> dict[str, dict[str, Any]]:
    now = START + timedelta(minutes=minutes)
    listing = engine.listing("executions", Given(None, {"size": ["400"]}, {}, now, lambda: []))
    return {ex["ex_id"]: ex for ex in listing}


def history(engine: Engine, minutes: range) -> list[tuple[int, str, str, str, int, int]]:
    """(minute, ex_id, state before, state after, processed before, processed after) of each change."""
    seen: dict[str, dict[str, Any]] = {}
    changes = []
    for minute in minutes:
        for ex_id, ex in executions(engine, minute).items():
            before = seen.get(ex_id)
            if before is not None and before["_status"] != ex["_status"]:
                counts = before["_slicer_stats"]["processed"], ex["_slicer_stats"]["processed"]
                changes.append((minute, ex_id, before["_status"], ex["_status"], *counts))
            seen[ex_id] = ex
    return changes


def test_generated_executions_are_stopped_then_stopped_for_good_keeping_their_counters() -> None:
    model = read_model_file(MODEL, "Teraslice")
    engine = Engine(model, MemoryStore())
    changes = history(engine, range(0, 17))
    # Stops up to minute 15: each has the next minute's listing to show it stopped.
    stops = [change for change in changes if change[2:4] == ("running", "stopping") and change[0] <= 15]
    assert len(stops) >= 2, changes
    for minute, ex_id, _, _, processed_before, processed_after in stops:
        assert processed_after >= processed_before, "a stopped execution's counters do not restart"
        ended = [c for c in changes if c[1] == ex_id and c[2:4] == ("stopping", "stopped")]
        assert ended and ended[0][0] == minute + 1, "stopping -> stopped after 60 s, seen in the listing"
        read = engine.read("executions", Given(None, {}, {"id": ex_id}, START + timedelta(minutes=20), lambda: None))
        assert read["_status"] == "stopped" and read["_slicer_stats"]["processed"] >= processed_after
    # Terminal executions never change, stopped or not.
    assert not [c for c in changes if c[2] in TERMINAL], changes


def test_the_same_clock_gives_the_same_stops_in_another_worker_and_after_a_restart() -> None:
    model = read_model_file(MODEL, "Teraslice")
    store = MemoryStore()
    first = history(Engine(model, store), range(0, 16))
    elsewhere = history(Engine(model, MemoryStore()), range(0, 16))
    assert first == elsewhere and any(c[3] == "stopping" for c in first)
    # A restart: a new engine over the same store reads what the first one stored.
    restarted = Engine(model, store)
    again, before = executions(restarted, 15), executions(Engine(model, store), 15)
    assert again == before
    assert {ex_id for minute, ex_id, _, after, *_ in first if after == "stopping" and minute < 15} <= {
        ex_id for ex_id, ex in again.items() if ex["_status"] == "stopped"
    }
