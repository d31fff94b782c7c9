"""Generated collections through the engine, over the in-memory store: pages at any offset, lookups by id
and name, writes stored as overlays, removals, counts changed at run time, states moved by the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.errors import Invalid, InvalidTransition, NotFound
from app.resources.engine import Engine
from app.resources.model import Collection, Generated, IdRule, Page, ResourceModel, StateMachine, Timed
from app.resources.values import Given
from tests.unit.domain.memory_store import MemoryStore

NOW = datetime(2030, 1, 1, tzinfo=UTC)
STATUS = {"match": "regex", "regex": "^(PENDING|RUNNING|COMPLETED|FAILED)$"}
WORKFLOW = {"id": 1, "name": "wf", "status": "RUNNING", "submit_time": "2029-12-31T00:00:00Z", "gpus": 8}
LIST_EXAMPLE = {"workflows": [WORKFLOW], "total": 1, "offset": 0, "limit": 20}


def model(count: int = 1_000_000, machine: StateMachine | None = None) -> ResourceModel:
    workflows = Collection(
        "workflows",
        "/api/workflow",
        "/api/workflow/{id}",
        ids=IdRule("id", "counter", start=1),
        envelope="workflows",
        total="total",
        filters=("statuses=status",),
        machine=machine,
        generated=Generated(count, {"submit_time": {"age": [60, 86_400 * 90]}}),
        page=Page("offset", "offset", "limit", 20, 1000),
        lookup=("name",),
        example=WORKFLOW,
        rules={"status": (STATUS,), "gpus": ({"match": "integer"},)},
    )
    return ResourceModel("OSMO", {"workflows": workflows}, seed=7)


def given(
    query: dict[str, list[str]] | None = None, path: dict[str, str] | None = None, body: Any = None, now: datetime = NOW
) -> Given:
    return Given(body, query or {}, path or {}, now, lambda: LIST_EXAMPLE)


def test_a_page_far_down_a_million_items_is_as_complete_as_the_first() -> None:
    engine = Engine(model(), MemoryStore())
    first = engine.listing("workflows", given({"offset": ["0"], "limit": ["20"]}))
    last = engine.listing("workflows", given({"offset": ["999980"], "limit": ["20"]}))
    assert (first["total"], first["offset"], first["limit"], len(first["workflows"])) == (1_000_000, 0, 20, 20)
    assert [w["id"] for w in last["workflows"]] == list(range(999_981, 1_000_001))
    assert {w["status"] for w in first["workflows"]} <= {"PENDING", "RUNNING", "COMPLETED", "FAILED"}
    # The same seed and epoch: the same page again.
    assert engine.listing("workflows", given({"offset": ["0"], "limit": ["20"]})) == first


def test_items_are_found_by_id_and_by_name_and_absent_ones_are_not_found() -> None:
    engine = Engine(model(), MemoryStore())
    [item] = engine.listing("workflows", given({"offset": ["41"], "limit": ["1"]}))["workflows"]
    assert engine.read("workflows", given(path={"id": str(item["id"])})) == item
    assert engine.read("workflows", given(path={"id": item["name"]})) == item
    for absent in ("0", "1000001", "nope"):
        with pytest.raises(NotFound):
            engine.read("workflows", given(path={"id": absent}))


def test_a_write_is_an_overlay_that_wins_and_a_removal_hides_the_item() -> None:
    engine = Engine(model(count=100), MemoryStore())
    changed = engine.change("workflows", given(path={"id": "5"}, body={"gpus": 1000}), merge=True)
    assert changed["gpus"] == 1000
    assert engine.read("workflows", given(path={"id": "5"}))["gpus"] == 1000
    page = engine.listing("workflows", given({"offset": ["4"], "limit": ["1"]}))
    assert page["workflows"][0]["gpus"] == 1000
    engine.remove("workflows", given(path={"id": "6"}))
    with pytest.raises(NotFound):
        engine.read("workflows", given(path={"id": "6"}))


def test_the_count_changes_at_run_time_and_filters_read_item_by_item() -> None:
    engine = Engine(model(count=100), MemoryStore())
    engine.set_count("workflows", 250, NOW)
    assert engine.listing("workflows", given())["total"] == 250
    running = engine.listing("workflows", given({"statuses": ["RUNNING"], "limit": ["1000"]}))
    assert 0 < running["total"] < 250 and {w["status"] for w in running["workflows"]} == {"RUNNING"}
    with pytest.raises(Invalid):
        engine.set_count("workflows", 10_000_001, NOW)
    big = Engine(model(), MemoryStore())
    with pytest.raises(Invalid, match="filter"):
        big.listing("workflows", given({"statuses": ["RUNNING"]}))


def test_bad_pages_are_refused() -> None:
    engine = Engine(model(), MemoryStore())
    for query in (
        {"offset": ["-1"]},
        {"limit": ["1001"]},
        {"limit": ["0"]},
        {"offset": ["x"]},
        {"offset": ["99999999999"]},
    ):
        with pytest.raises(Invalid):
            engine.listing("workflows", given(query))


def test_generated_states_move_with_the_clock_and_terminal_ones_stay() -> None:
    machine = StateMachine(
        "status",
        "PENDING",
        ("PENDING", "RUNNING", "COMPLETED", "FAILED"),
        frozenset({"COMPLETED", "FAILED"}),
        {"PENDING": ("RUNNING",), "RUNNING": ("COMPLETED", "FAILED")},
        {
            "PENDING": Timed(3, 4, (("RUNNING", 1.0),)),
            "RUNNING": Timed(3600, 3600, (("COMPLETED", 0.5), ("FAILED", 0.5))),
        },
    )
    engine = Engine(model(count=200, machine=machine), MemoryStore())
    at_first = engine.listing("workflows", given({"limit": ["200"]}))["workflows"]
    later = engine.listing("workflows", given({"limit": ["200"]}, now=NOW + timedelta(hours=2)))["workflows"]
    assert {w["status"] for w in at_first} <= {"RUNNING", "COMPLETED", "FAILED"}  # born hours to months ago
    assert all(w["status"] in ("COMPLETED", "FAILED") for w in later)
    with pytest.raises(InvalidTransition):
        engine.change(
            "workflows", given(path={"id": "3"}, body={"status": "PENDING"}, now=NOW + timedelta(hours=2)), merge=True
        )
