"""How items come to be: new documents shaped like the contract's example, ids, children, auto-created
items, and the fixtures a model names. Shared by the engine's creates, claims, periodic events and resets."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from ..domain.errors import AlreadyExists, CapacityReached, Conflict, Invalid
from .model import MAX_GENERATED, Collection, ResourceModel
from .numbered import FIELD_MARK, TEXT_MARK, CreatesNumbered, NumberedDocument
from .ports import Items
from .timeline import entered
from .values import Given, fresh_times, key_of, new_id

# A new id skips ids fixtures took; past this many in a row, the collection is taken to be full of them.
ID_ATTEMPTS = 10_000
# The items of the auto-creation markers: one per (collection, path value) ever named.
AUTO_MARKERS = "~auto"


class Maker:
    """Makes and stores the new items of one provider's collections."""

    def __init__(self, model: ResourceModel) -> None:
        self.model = model
        self.provider = model.provider
        # The ids fixtures give their items: only a counter that reaches one of them must look before it takes it.
        self._fixture_ids = {
            collection: {key for (name, key) in self.fixture_documents(tuple(model.fixtures)) if name == collection}
            for collection in model.collections
        }

    def collection(self, name: str) -> Collection:
        """The collection of this name (the model was checked: an unknown one is the mock's bug)."""
        return self.model.collections[name]

    def path_fields(self, collection: Collection, given: Given) -> dict[str, Any]:
        """The item fields the request's path names (`pool` of `/pools/{pool}/workspaces`)."""
        return {name: given.path[name] for name in collection.path_fields() if name in given.path}

    def new_document(self, items: Items, collection: Collection, body: dict, given: Given) -> dict[str, Any]:
        """A new item: the example's shape, the model's defaults, what the client sent, a fresh id and times."""
        if collection.ids.strategy == "given":
            if body.get(collection.ids.field) in (None, ""):
                raise Invalid(f'the body must give the {collection.name} item\'s "{collection.ids.field}"')
            item_id = body[collection.ids.field]
        else:
            item_id = self._free_id(items, collection)
        return self._drafted(collection, body, given, item_id, str(item_id))

    def created_at_once(self, items: Items, collection: Collection, body: dict, given: Given) -> dict[str, Any] | None:
        """A plain create of a numbered item stored at once where the store can (PostgreSQL: one statement; an
        SQLite file: a group of creates): the document, or None where it cannot or the collection asks more of a
        create (capacity, children, auto-creation, an id not made from a number)."""
        rule = collection.ids
        if (
            not getattr(items, "creates_numbered", False)  # a Protocol isinstance costs 2% of a create
            or rule.strategy not in ("counter", "prefixed")
            or rule.start < 0  # a negative number's digits pad differently in SQL
            or collection.capacity is not None
            or collection.children is not None
            or (collection.auto_create and self.path_fields(collection, given))
        ):
            return None
        # Drafted only to be written as text at once: the example's nested values need no copy of their own.
        text = json.dumps(self._drafted(collection, body, given, FIELD_MARK, TEXT_MARK, private=False))
        prefixed = rule.strategy == "prefixed"
        marked = NumberedDocument(text, rule.prefix if prefixed else "", rule.width if prefixed else 0, prefixed)
        for _ in range(ID_ATTEMPTS):
            taken = cast(CreatesNumbered, items).create_numbered(
                self.provider, collection.name, self._start(collection), marked
            )
            if taken is not None:
                item_id = new_id(collection, _taken(taken), self.model.seed)
                filled = text.replace(marked.field_mark, json.dumps(item_id))
                return dict(json.loads(filled.replace(TEXT_MARK, json.dumps(str(item_id))[1:-1])))
        raise Conflict(f"no free id for a new {collection.name} item after {ID_ATTEMPTS} tries")

    def _drafted(
        self, collection: Collection, body: dict, given: Given, item_id: object, id_text: str, private: bool = True
    ) -> dict[str, Any]:
        """The new item's document; `private`: none of its values is shared with the example it is shaped on."""
        example = given.example()
        shape = example if isinstance(example, dict) and collection.ids.field in example else collection.example
        defaults = templated(collection.defaults, id_text)
        document = {
            **(copy.deepcopy(shape) if private else shape),
            **defaults,
            **body,
            **self.path_fields(collection, given),
        }
        fresh_times(document, shape, {**defaults, **body}, given.now)
        if collection.machine is not None:
            document[collection.machine.field] = collection.machine.initial
            entered(document, collection.machine, given.now)
        document[collection.ids.field] = item_id
        return document

    def _free_id(self, items: Items, collection: Collection) -> Any:
        """A generated id no item has: fixtures may hold ids the counter has not reached yet (task_000001)."""
        taken = self._fixture_ids.get(collection.name, set())
        for _ in range(ID_ATTEMPTS):
            item_id = new_id(collection, self._counter(items, collection), self.model.seed)
            if key_of(item_id) not in taken or items.get(self.provider, collection.name, key_of(item_id)) is None:
                return item_id
        raise Conflict(f"no free id for a new {collection.name} item after {ID_ATTEMPTS} tries")

    def _counter(self, items: Items, collection: Collection) -> Any:
        start = self._start(collection)
        return lambda: items.next_number(self.provider, collection.name, start)

    @staticmethod
    def _start(collection: Collection) -> int:
        # A generated collection's own ids take its first numbers, whatever its count: stored items come after.
        return collection.ids.start + (MAX_GENERATED if collection.generated else 0)

    def store_new(self, items: Items, collection: Collection, document: dict[str, Any]) -> None:
        """Store a new item: refused when the collection is full or the id is taken."""
        if collection.capacity is not None and items.count(self.provider, collection.name, {}) >= collection.capacity:
            raise CapacityReached(collection.name, collection.capacity)
        key = key_of(document[collection.ids.field])
        if items.add(self.provider, collection.name, key, document) is None:
            raise AlreadyExists(f"{collection.name} item {key!r} already exists")

    def create_children(
        self, items: Items, collection: Collection, document: dict[str, Any], body: dict, given: Given
    ) -> None:
        """The items a created item comes with (a pool's pods)."""
        children = collection.children
        if children is None:
            return
        count = body.get(children.count_from, children.count) if children.count_from else children.count
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 10_000:
            raise Invalid(f'"{children.count_from}" must be a whole number from 0 to 10000, not {count!r}')
        child = self.collection(children.collection)
        parent_id = document[collection.ids.field]
        # Named now: a later request naming this parent must not auto-create more.
        items.add(self.provider, AUTO_MARKERS, f"{child.name}/{parent_id}", {})
        self.make(items, child, count, {children.field: parent_id}, given)

    def auto_create(self, items: Items, collection: Collection, given: Given) -> None:
        """The items of a {param} value named for the first time (a pool's 3 pods)."""
        fields = self.path_fields(collection, given)
        if not collection.auto_create or not fields:
            return
        marker = f"{collection.name}/" + "/".join(str(value) for value in fields.values())
        # The marker is taken with an insert that does nothing when it exists: one request creates, once.
        if items.add(self.provider, AUTO_MARKERS, marker, {}) is None:
            return
        if items.count(self.provider, collection.name, fields):
            return
        self.make(items, collection, collection.auto_create, fields, given)

    def make(self, items: Items, collection: Collection, count: int, fields: dict[str, Any], given: Given) -> None:
        """`count` new items of the collection with these fields, shaped like its example."""
        base = Given(None, {}, given.path, given.now, lambda: collection.example)
        for _ in range(count):
            document = self.new_document(items, collection, dict(fields), base)
            self.store_new(items, collection, document)

    # --- fixtures ----------------------------------------------------------------------------------

    def start_fixtures(self) -> tuple[str, ...]:
        """The fixtures loaded when the provider first serves and on reset."""
        return tuple(name for start in self.model.start for name in self.model.fixtures_named(start))

    def load_fixtures(self, items: Items, fixtures: tuple[str, ...], now: datetime) -> None:
        """Put every item of these fixtures in the store (replacing what holds its id)."""
        for name in fixtures:
            for collection_name, documents in self.model.fixtures.get(name, {}).items():
                collection = self.collection(collection_name)
                for document in documents:
                    stored = copy.deepcopy(document)
                    if collection.ids.field not in stored:
                        stored[collection.ids.field] = new_id(
                            collection, self._counter(items, collection), self.model.seed
                        )
                    if collection.machine is not None:
                        entered(stored, collection.machine, now)
                    items.put(self.provider, collection_name, key_of(stored[collection.ids.field]), stored)

    def fixture_documents(self, fixtures: tuple[str, ...]) -> dict[tuple[str, str], dict[str, Any]]:
        """(collection, id) -> document of every fixture item that names its id."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for name in fixtures:
            for collection, documents in self.model.fixtures.get(name, {}).items():
                field = self.collection(collection).ids.field
                for document in documents:
                    if field in document:
                        found[(collection, key_of(document[field]))] = document
        return found


def _taken(number: int) -> Callable[[], int]:
    """The number the store took, as `new_id` asks for one."""
    return lambda: number


def templated(value: Any, item_id: str) -> Any:
    """Defaults with `{id}` in their text made the item's own (`https://{id}.pods.example.test`)."""
    if isinstance(value, str):
        return value.replace("{id}", item_id)
    if isinstance(value, dict):
        return {templated(k, item_id): templated(v, item_id) for k, v in value.items()}
    if isinstance(value, list):
        return [templated(v, item_id) for v in value]
    return value
