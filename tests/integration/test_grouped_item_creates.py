"""Generic creates on an SQLite file written in groups (app/store/items_sqlite.py), through the store's own API.

As for run submissions (test_grouped_run_writes.py), the groups are made for certain: a second connection holds
SQLite's write lock while the first create waits for it, so the creates sent meanwhile queue behind it. What a
caller sees must be what a create written alone gives: its own gap-free number, the id written into its document,
and, when a fixture already holds that id, no number (the caller tries again) without failing the others.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.resources.numbered import NumberedDocument
from app.store.unit_of_work import SqlStore
from tests.integration.test_grouped_run_writes import OWNER, Grouped, in_one_group, sqlite_grouped, submit

PROVIDER = "Flow"
# A prefixed id, as `task_0042`: the id field holds it as a JSON string, and "{id}" in a default holds its text.
PREFIXED = NumberedDocument(
    json.dumps({"id": "FIELD", "url": "/tasks/TEXT", "name": "n"})
    .replace('"FIELD"', NumberedDocument.field_mark)
    .replace("TEXT", NumberedDocument.text_mark),
    prefix="task_",
    width=4,
    quoted=True,
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Grouped]:
    grouped = sqlite_grouped(tmp_path / "grouped-items.sqlite3", [(123, OWNER)])
    yield grouped
    grouped.store.database.engine.dispose()


def create(store: SqlStore, item: NumberedDocument = PREFIXED, collection: str = "tasks") -> int | None:
    with store.writing() as uow:
        assert uow.items.creates_numbered
        return uow.items.create_numbered(PROVIDER, collection, 40, item)


def stored(path: Path) -> list[tuple[str, dict, int]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT id, document, seq FROM items WHERE collection = 'tasks' ORDER BY seq")
        return [(item_id, json.loads(document), seq) for item_id, document, seq in rows]


def test_creates_written_together_get_gap_free_numbers_and_their_ids_in_their_documents(database) -> None:
    store, path = database.store, database.path
    assert path is not None
    outcomes = in_one_group(database, [lambda: create(store) for _ in range(5)])
    assert outcomes[0] == 40  # the collection's first number is the model's start
    assert sorted(outcomes) == [40, 41, 42, 43, 44]
    items = stored(path)
    assert [seq for _, _, seq in items] == [1, 2, 3, 4, 5]
    for item_id, document, _ in items:
        assert document == {"id": item_id, "url": f"/tasks/{item_id}", "name": "n"}
    assert {item_id for item_id, _, _ in items} == {f"task_{number:04d}" for number in range(40, 45)}


def test_a_counter_id_is_written_as_a_number(database) -> None:
    store, path = database.store, database.path
    assert path is not None
    counter = NumberedDocument(
        json.dumps({"id": "FIELD", "name": "n"}).replace('"FIELD"', NumberedDocument.field_mark), "", 0, False
    )
    assert create(store, counter) == 40
    assert stored(path) == [("40", {"id": 40, "name": "n"}, 1)]


def test_a_create_whose_id_a_fixture_holds_gets_no_number_and_the_others_are_stored(database) -> None:
    store, path = database.store, database.path
    assert path is not None
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO items (provider, collection, id, document, version, seq) "
            "VALUES ('Flow', 'tasks', 'task_0042', '{\"id\": \"task_0042\", \"fixture\": true}', 1, 1)"
        )
    outcomes = in_one_group(database, [lambda: create(store) for _ in range(4)])
    assert sorted(outcome for outcome in outcomes if outcome is not None) == [40, 41, 43]
    assert outcomes.count(None) == 1
    by_id = {item_id: document for item_id, document, _ in stored(path)}
    assert by_id["task_0042"] == {"id": "task_0042", "fixture": True}  # not overwritten
    assert sorted(by_id) == ["task_0040", "task_0041", "task_0042", "task_0043"]
    assert create(store) == 44  # the counter moved past the taken id


def test_runs_and_creates_queued_together_are_both_written(database) -> None:
    store, path = database.store, database.path
    assert path is not None
    outcomes = in_one_group(database, [lambda: create(store), lambda: submit(store, [123]), lambda: create(store)])
    assert outcomes[0] == 40
    assert outcomes[1] == [978]
    assert outcomes[2] == 41
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT id, job_id FROM runs").fetchall() == [(978, 123)]


def test_outside_a_file_or_inside_a_transaction_the_create_is_not_grouped(database) -> None:
    store = database.store
    with store.writing() as uow:
        uow.items.get(PROVIDER, "tasks", "task_0001")  # the unit of work's transaction is open now
        assert not uow.items.creates_numbered
