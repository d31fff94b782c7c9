"""Generic items in the SQL store (app/store/items.py), on SQLite and PostgreSQL, and the memory store agreeing.

Each backend is a real database brought to head by the migrations; every test works on providers of its own,
so one database per backend serves the module. Concurrent tests use one thread per client, each with its own
connection and transaction, as the server's workers do.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from app.domain.errors import Invalid
from app.domain.ports import Store
from app.resources.ports import Item, Items
from app.store.unit_of_work import SqlStore
from tests.integration.conftest import fresh_postgres_database, sql_store
from tests.unit.domain.memory_store import MemoryStore

T = TypeVar("T")
CLIENTS = 32
# A connection for every concurrent client.
POOL = {"pool_size": CLIENTS, "max_overflow": 0}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        with sql_store(f"sqlite:///{tmp_path_factory.mktemp('items') / 'items.sqlite3'}", **POOL) as sqlite_store:
            yield sqlite_store
        return
    with fresh_postgres_database() as url, sql_store(url, **POOL) as postgres_store:
        yield postgres_store


@pytest.fixture
def provider() -> str:
    """A provider no other test writes to."""
    return f"provider-{uuid.uuid4().hex[:8]}"


def write(store: Store, action: Callable[[Items], T]) -> T:
    """Run `action` in one writing unit of work (committed when it returns)."""
    with store.writing() as uow:
        return action(uow.items)


def read(store: Store, action: Callable[[Items], T]) -> T:
    """Run `action` in a reading unit of work."""
    with store.reading() as uow:
        return action(uow.items)


@contextmanager
def writing(store: Store) -> Iterator[Items]:
    """The items of one writing unit of work, committed when the block ends."""
    with store.writing() as uow:
        yield uow.items


def ids(items: list[Item]) -> list[str]:
    """The items' ids, in the order given."""
    return [item.id for item in items]


def test_add_get_put_and_the_order_of_a_list(store: SqlStore, provider: str) -> None:
    first = write(store, lambda items: items.add(provider, "tasks", "t1", {"name": "one", "n": 2**62, "x": 0.1 + 0.2}))
    assert first is not None and (first.collection, first.id, first.version) == ("tasks", "t1", 1)
    assert first.document == {"name": "one", "n": 2**62, "x": 0.30000000000000004}
    assert write(store, lambda items: items.add(provider, "tasks", "t1", {"name": "other"})) is None
    assert read(store, lambda items: items.get(provider, "tasks", "t1")) == first

    for item_id in ("t3", "t2", "a0"):
        with writing(store) as items:
            items.add(provider, "tasks", item_id, {"name": item_id})
    write(store, lambda items: items.add(provider, "pods", "p1", {"name": "a pod"}))
    put = write(store, lambda items: items.put(provider, "tasks", "t3", {"name": "three", "extra": [1, {"k": None}]}))
    assert (put.version, put.document) == (2, {"name": "three", "extra": [1, {"k": None}]})
    fresh = write(store, lambda items: items.put(provider, "tasks", "t4", {"name": "four"}))
    assert fresh.version == 1

    # Oldest first; a put of an existing item keeps its place.
    assert ids(read(store, lambda items: items.list(provider, "tasks", {}))) == ["t1", "t3", "t2", "a0", "t4"]
    assert ids(read(store, lambda items: items.list(provider, "tasks", {}, offset=1, limit=2))) == ["t3", "t2"]
    assert ids(read(store, lambda items: items.list(provider, "tasks", {}, offset=4))) == ["t4"]
    assert read(store, lambda items: items.count(provider, "tasks", {})) == 5
    assert read(store, lambda items: items.get(provider, "tasks", "missing")) is None
    assert read(store, lambda items: items.get("another provider", "tasks", "t1")) is None


def test_filters_compare_typed_json_values(store: SqlStore, provider: str) -> None:
    documents: dict[str, dict[str, Any]] = {
        "string": {"v": "1", "w": "x"},
        "integer": {"v": 1, "w": "x"},
        "true": {"v": True},
        "null": {"v": None},
        "missing": {"w": "x"},
        "false": {"v": False},
        "zero": {"v": 0},
        "real": {"v": 1.0},
        "list": {"v": [1]},
        "object": {"v": {"v": 1}},
    }
    for item_id, document in documents.items():
        with writing(store) as items:
            items.add(provider, "t", item_id, document)

    def matching(**where: Any) -> list[str]:
        return ids(read(store, lambda items: items.list(provider, "t", where)))

    assert matching(v="1") == ["string"]
    assert matching(v=1) == ["integer", "real"]  # numbers compare as numbers, never as strings or booleans
    assert matching(v=True) == ["true"]
    assert matching(v=None) == ["null"]  # a missing field is not null
    assert matching(v=False) == ["false"]
    assert matching(v=0) == ["zero"]
    assert matching(v=1, w="x") == ["integer"]
    assert matching(w="x") == ["string", "integer", "missing"]
    assert matching(v="one") == []
    assert read(store, lambda items: items.count(provider, "t", {"v": 1})) == 2
    with pytest.raises(TypeError):
        read(store, lambda items: items.list(provider, "t", {"v": [1]}))


def test_field_names_are_data_not_sql_or_json_paths(store: SqlStore, provider: str) -> None:
    names = ['a"b', "$.usage", "x') OR 1=1 --", '"]', "a.b", "a[0]", "é\n", ""]
    for position, name in enumerate(names):
        document = {name: "yes", "usage": "free", "a": {"b": "yes"}, "position": position}
        with writing(store) as items:
            items.add(provider, "odd", f"item-{name}", document)
    for name in names:
        with store.reading() as uow:
            assert ids(uow.items.list(provider, "odd", {name: "yes"})) == [f"item-{name}"], name
    # `$.usage` is a field name, not the path to `usage`; `a.b` is not the nested field b of a.
    assert ids(read(store, lambda items: items.list(provider, "odd", {"$.usage": "free"}))) == []
    assert read(store, lambda items: items.count(provider, "odd", {"a.b": "yes"})) == 1
    claimed = write(store, lambda items: items.claim(provider, "odd", {'a"b': "yes"}, {'a"b': "taken", "$.x": 1}))
    assert claimed is not None and claimed.id == 'item-a"b'
    assert claimed.document[('a"b')] == "taken" and claimed.document["$.x"] == 1
    assert read(store, lambda items: items.count(provider, "odd", {})) == len(names)


def test_replace_is_conditional_on_the_version(store: SqlStore, provider: str) -> None:
    write(store, lambda items: items.add(provider, "tasks", "t", {"status": "pending"}))
    replaced = write(store, lambda items: items.replace(provider, "tasks", "t", {"status": "running"}, 1))
    assert replaced is not None and (replaced.version, replaced.document) == (2, {"status": "running"})
    assert write(store, lambda items: items.replace(provider, "tasks", "t", {"status": "failed"}, 1)) is None
    assert write(store, lambda items: items.replace(provider, "tasks", "nobody", {"status": "failed"}, 1)) is None
    stored = read(store, lambda items: items.get(provider, "tasks", "t"))
    assert stored is not None and (stored.version, stored.document) == (2, {"status": "running"})


def test_claim_merges_top_level_keys_into_the_oldest_match(store: SqlStore, provider: str) -> None:
    for item_id in ("p2", "p1", "p3"):
        document = {"usage": "free", "meta": {"a": 1, "b": 2}, "keep": 2**62, "gone": "no"}
        with writing(store) as items:
            items.add(provider, "pods", item_id, document)
    write(store, lambda items: items.add(provider, "other", "o1", {"usage": "free"}))
    changes = {"usage": "used", "meta": {"a": None}, "gone": None, "claimedBy": "me"}
    claimed = write(store, lambda items: items.claim(provider, "pods", {"usage": "free"}, changes))
    assert claimed is not None and (claimed.id, claimed.version) == ("p2", 2)
    # Replaced, not merged deeper; null is a value, not a removal.
    assert claimed.document == {"usage": "used", "meta": {"a": None}, "keep": 2**62, "gone": None, "claimedBy": "me"}
    assert read(store, lambda items: items.get(provider, "pods", "p2")) == claimed
    for expected in ("p1", "p3", None):
        again = write(store, lambda items: items.claim(provider, "pods", {"usage": "free"}, {"usage": "used"}))
        assert (again.id if again else None) == expected
    assert read(store, lambda items: items.count(provider, "other", {"usage": "free"})) == 1


def test_remove_and_clear(store: SqlStore, provider: str) -> None:
    neighbour = f"{provider}-neighbour"
    for owner in (provider, neighbour):
        with writing(store) as items:
            items.add(owner, "tasks", "t1", {})
            items.add(owner, "tasks", "t2", {})
            items.next_number(owner, "tasks", 10)
            items.mark_started(owner, True)
    assert write(store, lambda items: items.remove(provider, "tasks", "t1")) is True
    assert write(store, lambda items: items.remove(provider, "tasks", "t1")) is False
    assert ids(read(store, lambda items: items.list(provider, "tasks", {}))) == ["t2"]

    write(store, lambda items: items.clear(provider))
    assert read(store, lambda items: items.count(provider, "tasks", {})) == 0
    assert read(store, lambda items: items.is_started(provider)) is False
    assert write(store, lambda items: items.next_number(provider, "tasks", 10)) == 10  # the counter went too
    assert read(store, lambda items: items.count(neighbour, "tasks", {})) == 2
    assert read(store, lambda items: items.is_started(neighbour)) is True
    assert write(store, lambda items: items.next_number(neighbour, "tasks", 10)) == 11


def test_the_started_marker(store: SqlStore, provider: str) -> None:
    assert read(store, lambda items: items.is_started(provider)) is False
    write(store, lambda items: items.mark_started(provider, True))
    write(store, lambda items: items.mark_started(provider, True))
    assert read(store, lambda items: items.is_started(provider)) is True
    write(store, lambda items: items.mark_started(provider, False))
    assert read(store, lambda items: items.is_started(provider)) is False


def test_id_numbers_are_gap_free_per_collection(store: SqlStore, provider: str) -> None:
    taken = [write(store, lambda items: items.next_number(provider, "tasks", 100)) for _ in range(3)]
    assert taken == [100, 101, 102]
    assert write(store, lambda items: items.next_number(provider, "pods", 1)) == 1
    with pytest.raises(RuntimeError), store.writing() as uow:
        assert uow.items.next_number(provider, "tasks", 100) == 103
        uow.items.add(provider, "tasks", "103", {})
        raise RuntimeError("the request failed after taking a number")
    # The rolled-back number (and its item) are given back.
    assert write(store, lambda items: items.next_number(provider, "tasks", 100)) == 103
    assert read(store, lambda items: items.get(provider, "tasks", "103")) is None


def test_a_nul_character_is_stored_or_refused_as_invalid_input(store: SqlStore, provider: str) -> None:
    document = {"name": "a\x00b"}
    if store.backend == "sqlite":
        assert write(store, lambda items: items.add(provider, "t", "nul", document)) is not None
        assert read(store, lambda items: items.get(provider, "t", "nul")).document == document  # type: ignore[union-attr]
        return
    # JSONB has no room for U+0000: the client is told its input cannot be stored, and nothing is.
    with pytest.raises(Invalid):
        write(store, lambda items: items.add(provider, "t", "nul", document))
    assert read(store, lambda items: items.count(provider, "t", {})) == 0


def concurrently(action: Callable[[int], T]) -> list[T]:
    """Run action(0..CLIENTS-1) on CLIENTS threads that start together."""
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> T:
        start.wait()
        return action(number)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(client, range(CLIENTS)))


def test_concurrent_claims_never_share_an_item(store: SqlStore, provider: str) -> None:
    def add_pool(items: Items) -> None:
        for number in range(40):
            items.add(provider, "pods", f"pod-{number:02}", {"usage": "free", "pool": "default"})
        items.add(provider, "pods", "elsewhere", {"usage": "free", "pool": "other"})

    write(store, add_pool)

    def claim(client: int) -> Item | None:
        with store.writing() as uow:
            claimed = uow.items.claim(provider, "pods", {"usage": "free", "pool": "default"}, {"usage": f"c{client}"})
            time.sleep(0.01)  # hold the claim a while, so the transactions overlap
            return claimed

    claimed = concurrently(claim)
    assert all(item is not None for item in claimed)
    assert len({item.id for item in claimed if item}) == CLIENTS
    assert read(store, lambda items: items.count(provider, "pods", {"usage": "free", "pool": "default"})) == 8
    assert read(store, lambda items: items.count(provider, "pods", {"pool": "other", "usage": "free"})) == 1
    with store.reading() as uow:
        for client, item in enumerate(claimed):
            stored = uow.items.get(provider, "pods", item.id) if item else None
            assert stored is not None and stored.document["usage"] == f"c{client}" and stored.version == 2


def test_concurrent_writers_take_distinct_consecutive_numbers(store: SqlStore, provider: str) -> None:
    def take(_: int) -> int:
        with store.writing() as uow:
            number = uow.items.next_number(provider, "tasks", 1)
            uow.items.add(provider, "tasks", str(number), {"n": number})
            time.sleep(0.01)
            return number

    assert sorted(concurrently(take)) == list(range(1, CLIENTS + 1))
    assert read(store, lambda items: items.count(provider, "tasks", {})) == CLIENTS


# --- the memory store of the unit tests agrees ---


def sequence(store: Store) -> list[tuple[str, Any]]:
    """What a generic provider asks of its items, and what each step saw (seq left out: it is the backend's)."""
    seen: list[tuple[str, Any]] = []
    provider = f"agreement-{uuid.uuid4().hex[:8]}"

    def see(step: str, method: str, *args: Any, writes: bool = True) -> None:
        """Call items.<method>(provider, *args) in a unit of work of its own and record what came back."""
        try:
            with store.writing() if writes else store.reading() as uow:
                value = getattr(uow.items, method)(provider, *args)
        except Exception as exc:
            value = ("failed", type(exc).__name__)
        if isinstance(value, Item):
            value = (value.collection, value.id, value.document, value.version)
        elif isinstance(value, list):
            value = [(item.id, item.document, item.version) for item in value]
        seen.append((step, value))

    see("started at first", "is_started", writes=False)
    see("mark started", "mark_started", True)
    for number, status in enumerate(["pending", "running", "pending", "done"]):
        see(f"number {number}", "next_number", "tasks", 7)
        document = {"status": status, "n": number, "flag": number % 2 == 0, "none": None, 'q"': "1"}
        see(f"add {number}", "add", "tasks", f"t{number}", document)
    see("add a taken id", "add", "tasks", "t1", {})
    see("put over t2", "put", "tasks", "t2", {"status": "pending", "n": "2"})
    see("put a new one", "put", "tasks", "t9", {"status": "pending"})
    for where in ({}, {"status": "pending"}, {"n": 2}, {"n": "2"}, {"flag": True}, {"flag": 1}, {"none": None}):
        see(f"list {where}", "list", "tasks", where, writes=False)
        see(f"count {where}", "count", "tasks", where, writes=False)
    see("list a page", "list", "tasks", {}, 1, 2, writes=False)
    see("list with a list value", "list", "tasks", {"n": [1]}, writes=False)
    see("claim", "claim", "tasks", {"status": "pending"}, {"status": "mine", "x": {}})
    see("claim again", "claim", "tasks", {"status": "pending"}, {"status": "mine"})
    see("replace stale", "replace", "tasks", "t0", {"status": "late"}, 1)
    see("replace", "replace", "tasks", "t0", {"status": "ok"}, 2)
    see("remove", "remove", "tasks", "t3")
    see("remove again", "remove", "tasks", "t3")
    see("all", "list", "tasks", {}, writes=False)
    see("clear", "clear")
    see("started after clear", "is_started", writes=False)
    see("number after clear", "next_number", "tasks", 7)
    see("all after clear", "list", "tasks", {}, writes=False)
    return seen


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_memory_store_agrees_with_the_sql_store(backend: str, tmp_path: Path) -> None:
    in_memory = sequence(MemoryStore())
    assert dict(in_memory)["claim"] == ("tasks", "t0", {**dict(in_memory)["add 0"][2], "status": "mine", "x": {}}, 2)
    with _database(backend, tmp_path) as url, sql_store(url, **POOL) as store:
        on_sql = sequence(store)
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
