"""Reads kept by the engine (resources/kept.py): a plain item read and a generated page are answered again without a
unit of work until a write of items is announced; every write the engine makes announces itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.cached import Freshness, keep_for
from app.resources.engine import Engine
from app.resources.model import StateMachine, Timed
from app.resources.modelfile import read_model_file
from app.resources.values import Given
from tests.unit.domain.memory_store import MemoryStore, MemoryUnitOfWork
from tests.unit.generic.test_virtual import model

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
PAGE = {"offset": ["40"], "limit": ["20"]}


class Signal:
    """A change signal of one process: the generation of item writes moves with every announcement."""

    def __init__(self) -> None:
        self.announced = 0

    def items_generation(self) -> int:
        return self.announced

    def announce_items(self) -> None:
        self.announced += 1


class CountingStore(MemoryStore):
    """Counts the units of work opened: a kept read opens none."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    @contextmanager
    def reading(self) -> Iterator[MemoryUnitOfWork]:
        self.opened += 1
        with super().reading() as uow:
            uow.items.wrote = False  # type: ignore[attr-defined]  # as SqlItems says: the memory store fails a write
            yield uow

    @contextmanager
    def writing(self) -> Iterator[MemoryUnitOfWork]:
        self.opened += 1
        with super().writing() as uow:
            yield uow


def registered() -> tuple[CountingStore, Signal]:
    store, signal = CountingStore(), Signal()
    keep_for(store, Freshness(lambda: "control", lambda: "default", items=signal))
    return store, signal


def given(query: Any = None, path: Any = None, body: Any = None, example: Any = None) -> Given:
    return Given(body, query or {}, path or {}, NOW, lambda: example)


def test_a_generated_page_again_opens_no_unit_of_work_until_a_write_is_announced() -> None:
    store, signal = registered()
    engine = Engine(model(), store)
    first = engine.listing("workflows", given(PAGE))  # writes the collection's epoch, which is announced
    assert engine.listing("workflows", given(PAGE)) == first  # reads what the next pages replay
    opened = store.opened
    assert engine.listing("workflows", given(PAGE)) == first
    assert store.opened == opened

    engine.change("workflows", given(path={"id": "45"}, body={"status": "FAILED", "gpus": 1}), merge=True)
    assert signal.announced >= 1
    changed = engine.listing("workflows", given(PAGE))
    assert next(w for w in changed["workflows"] if w["id"] == 45)["gpus"] == 1
    assert next(w for w in first["workflows"] if w["id"] == 45)["gpus"] != 1


def test_a_page_the_clock_may_change_is_worked_out_in_a_unit_of_work_every_time() -> None:
    store, _ = registered()
    machine = StateMachine(
        "status",
        "PENDING",
        ("PENDING", "RUNNING", "COMPLETED", "FAILED"),
        frozenset({"COMPLETED", "FAILED"}),
        {"PENDING": ("RUNNING",), "RUNNING": ("COMPLETED", "FAILED")},
        {"RUNNING": Timed(3600, 3600, (("COMPLETED", 1.0),))},
    )
    engine = Engine(model(machine=machine), store)
    engine.listing("workflows", given(PAGE))
    opened = store.opened
    engine.listing("workflows", given(PAGE))
    assert store.opened > opened


def test_an_item_read_again_is_kept_until_an_action_moves_it() -> None:
    store, signal = registered()
    engine = Engine(read_model_file(EXAMPLES / "flow" / "FlowUI-Flow.model.yaml", "Flow"), store)
    engine.load(("running_task",), NOW)
    path = {"id": "task_000001"}
    assert engine.read("tasks", given(path=path))["status"] == "running"
    opened = store.opened
    assert engine.read("tasks", given(path=path))["status"] == "running"
    assert store.opened == opened

    move = next(a for a in engine.model.actions if a.path == "/api/v1/demo/transition_task/{id}")
    announced = signal.announced
    engine.act(move, given(path=path, body={"status": "preempting"}))
    assert signal.announced > announced
    assert engine.read("tasks", given(path=path))["status"] == "preempting"


def test_a_store_nobody_registered_is_read_every_time() -> None:
    store = CountingStore()
    engine = Engine(model(), store)
    engine.listing("workflows", given(PAGE))
    opened = store.opened
    engine.listing("workflows", given(PAGE))
    assert store.opened == opened + 1
