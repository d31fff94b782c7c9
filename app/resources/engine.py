"""What a generic provider does with a request its contract allowed: create, read, list, change, remove, act.

One `Engine` per provider and process, over the shared store. Every operation is one unit of work, so a
write is atomic with its id counter; a change to an item is one conditional write on its version, tried again
when another request changed the item meanwhile (then read anew: a transition is applied once or refused,
never torn). The model (model.py) says what each collection and action does.
"""

from __future__ import annotations

import copy
from typing import Any

from ..domain.errors import AlreadyExists, CapacityReached, Conflict, Invalid, InvalidTransition, NotFound, WrongState
from ..domain.ports import Store
from .model import Action, Collection, ResourceModel
from .ports import Item, Items
from .values import Given, as_field_type, fresh_times, key_of, new_id, resolve

# A change that lost the race for an item's version reads the item again, at most this many times.
CHANGE_ATTEMPTS = 20
# A new id skips ids fixtures took; past this many in a row, the collection is taken to be full of them.
ID_ATTEMPTS = 10_000
# The items of the auto-creation markers: one per (collection, path value) ever named.
AUTO_MARKERS = "~auto"


class Engine:
    """One provider's state, as its model declares it."""

    def __init__(self, model: ResourceModel, store: Store) -> None:
        self.model = model
        self.store = store
        self.provider = model.provider
        self._started = False

    # --- collections -------------------------------------------------------------------------------

    def create(self, name: str, given: Given) -> dict[str, Any]:
        """A new item from the request body, shaped like the contract's example; its children with it."""
        collection = self.collection(name)
        body = given.body_object()
        with self._writing() as uow:
            self._auto_create(uow.items, collection, given)
            document = self._new_document(uow.items, collection, body, given)
            self._store_new(uow.items, collection, document)
            self._create_children(uow.items, collection, document, body, given)
        return document

    def read(self, name: str, given: Given) -> dict[str, Any]:
        """The item the path names."""
        collection = self.collection(name)
        with self._reading() as uow:
            return self._item(uow.items, collection, given).document

    def listing(self, name: str, given: Given) -> Any:
        """The items the path and the query's filters select, in the collection's envelope."""
        collection = self.collection(name)
        where = self._where(collection, given)
        with self._writing() if collection.auto_create else self._reading() as uow:
            self._auto_create(uow.items, collection, given)
            documents = [item.document for item in uow.items.list(self.provider, name, where)]
        if collection.envelope is None:
            return documents
        answer: dict[str, Any] = {collection.envelope: documents}
        if collection.total:
            answer[collection.total] = len(documents)
        return answer

    def change(self, name: str, given: Given, merge: bool) -> dict[str, Any]:
        """PUT (the body replaces the item) or PATCH (the body's fields are merged in); the id stays."""
        collection = self.collection(name)
        body = given.body_object()

        def changed(document: dict[str, Any]) -> dict[str, Any]:
            updated = {**document, **body} if merge else {**body}
            updated[collection.ids.field] = document[collection.ids.field]
            machine = collection.machine
            if machine is not None:
                if machine.field not in updated:
                    updated[machine.field] = document.get(machine.field)
                if updated[machine.field] != document.get(machine.field):
                    self._check_move(collection, document, updated[machine.field])
            return updated

        return self._update(collection, given, changed)

    def remove(self, name: str, given: Given) -> None:
        """Delete the item the path names."""
        collection = self.collection(name)
        with self._writing() as uow:
            item = self._item(uow.items, collection, given)
            uow.items.remove(self.provider, name, item.id)

    # --- actions -----------------------------------------------------------------------------------

    def act(self, action: Action, given: Given) -> Any:
        """Carry out an action; its answer is the item after it, a summary, or the route's example."""
        if action.reset:
            self.reset()
            return given.example()
        if action.load:
            self.load(self.model.fixtures_named(action.load))
            return given.example()
        collection = self.collection(action.collection or "")
        if action.summary is not None:
            return self._summary(action, collection, given)
        if action.claim is not None:
            return self._claim(action, collection, given)
        return self._update(collection, given, lambda document: self._acted_on(action, collection, document, given))

    def _acted_on(self, action: Action, collection: Collection, document: dict[str, Any], given: Given) -> dict:
        for field, allowed in action.guard.items():
            if document.get(field) not in allowed:
                shown = ", ".join(map(repr, allowed))
                raise WrongState(f"{collection.name} item's {field} is {document.get(field)!r}, not one of {shown}")
        updated = dict(document)
        target = action.to
        if action.to_from_body:
            target = given.body_object().get(action.to_from_body)
            if not isinstance(target, str):
                raise Invalid(f'the body\'s "{action.to_from_body}" must name a state, not {target!r}')
        if target is not None and collection.machine is not None:
            self._check_move(collection, document, target)
            updated[collection.machine.field] = target
        updated.update(self._settings(action, given))
        return updated

    def _settings(self, action: Action, given: Given) -> dict[str, Any]:
        values = {field: resolve(value, given) for field, value in action.set.items()}
        body = given.body_object() if action.set_from_body else {}
        values.update({field: body[field] for field in action.set_from_body if field in body})
        return values

    def _claim(self, action: Action, collection: Collection, given: Given) -> dict[str, Any]:
        assert action.claim is not None
        where = {**self._path_fields(collection, given), **action.claim.where}
        changes = self._settings(action, given)
        with self._writing() as uow:
            self._auto_create(uow.items, collection, given)
            item = uow.items.claim(self.provider, collection.name, where, changes)
            if item is not None:
                return item.document
            if not action.claim.create_when_none:
                raise WrongState(f"no {collection.name} item is free: none has {where}")
            document = self._new_document(uow.items, collection, {**where, **changes}, given)
            self._store_new(uow.items, collection, document)
            return document

    def _summary(self, action: Action, collection: Collection, given: Given) -> dict[str, Any]:
        assert action.summary is not None
        where = self._path_fields(collection, given)
        with self._writing() if collection.auto_create else self._reading() as uow:
            self._auto_create(uow.items, collection, given)
            documents = [item.document for item in uow.items.list(self.provider, collection.name, where)]
        answer: dict[str, Any] = dict(where)
        for key, counted in action.summary.totals.items():
            if counted == "*":
                answer[key] = len(documents)
            else:
                answer[key] = sum(all(d.get(f) == v for f, v in counted.items()) for d in documents)
        if action.summary.items:
            answer[action.summary.items] = documents
        return answer

    # --- fixtures ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Every item gone, counters back at their start, the start fixtures loaded again."""
        with self.store.writing() as uow:
            uow.items.clear(self.provider)
            self._load(uow.items, self._start_fixtures())
            uow.items.mark_started(self.provider, True)
        self._started = True

    def load(self, fixtures: tuple[str, ...], remove: bool = False) -> None:
        """Put the items of these fixtures in the store, or take them out again (a provider state's teardown):
        an item the start fixtures hold goes back to its start version rather than away."""
        with self._writing() as uow:
            if not remove:
                self._load(uow.items, fixtures)
                return
            at_start = self._documents(self._start_fixtures())
            for key, document in self._documents(fixtures).items():
                if key in at_start:
                    uow.items.put(self.provider, key[0], key[1], copy.deepcopy(at_start[key]))
                elif document is not None:
                    uow.items.remove(self.provider, *key)

    def _documents(self, fixtures: tuple[str, ...]) -> dict[tuple[str, str], dict[str, Any] | None]:
        """(collection, id) -> document of every fixture item that names its id."""
        found: dict[tuple[str, str], dict[str, Any] | None] = {}
        for name in fixtures:
            for collection, documents in self.model.fixtures.get(name, {}).items():
                field = self.collection(collection).ids.field
                for document in documents:
                    if field in document:
                        found[(collection, key_of(document[field]))] = document
        return found

    def _start_fixtures(self) -> tuple[str, ...]:
        return tuple(name for start in self.model.start for name in self.model.fixtures_named(start))

    def _load(self, items: Items, fixtures: tuple[str, ...]) -> None:
        for name in fixtures:
            for collection_name, documents in self.model.fixtures.get(name, {}).items():
                collection = self.collection(collection_name)
                for document in documents:
                    stored = copy.deepcopy(document)
                    if collection.ids.field not in stored:
                        stored[collection.ids.field] = new_id(collection, self._counter(items, collection))
                    items.put(self.provider, collection_name, key_of(stored[collection.ids.field]), stored)

    # --- the parts ---------------------------------------------------------------------------------

    def collection(self, name: str) -> Collection:
        """The collection of this name (the model was checked: an unknown one is the mock's bug)."""
        return self.model.collections[name]

    def _writing(self) -> Any:
        self._ensure_started()
        return self.store.writing()

    def _reading(self) -> Any:
        self._ensure_started()
        return self.store.reading()

    def _ensure_started(self) -> None:
        # The start fixtures are loaded once per database, by whichever worker serves the provider first.
        if self._started:
            return
        with self.store.writing() as uow:
            if not uow.items.is_started(self.provider):
                self._load(uow.items, self._start_fixtures())
                uow.items.mark_started(self.provider, True)
        self._started = True

    def _item(self, items: Items, collection: Collection, given: Given) -> Item:
        item_id = given.path.get("id")
        item = items.get(self.provider, collection.name, key_of(item_id)) if item_id is not None else None
        if item is None:
            raise NotFound(collection.name.rstrip("s") or collection.name, item_id)
        return item

    def _update(self, collection: Collection, given: Given, change: Any) -> dict[str, Any]:
        for _ in range(CHANGE_ATTEMPTS):
            with self._writing() as uow:
                item = self._item(uow.items, collection, given)
                updated = change(copy.deepcopy(item.document))
                stored = uow.items.replace(self.provider, collection.name, item.id, updated, item.version)
                if stored is not None:
                    return stored.document
        raise Conflict(f"{collection.name} item {given.path.get('id')} kept changing under this request")

    def _check_move(self, collection: Collection, document: dict[str, Any], target: object) -> None:
        machine = collection.machine
        assert machine is not None
        current = document.get(machine.field)
        allowed = machine.allowed_from(str(current))
        if target not in allowed:
            raise InvalidTransition(f"the {collection.name} item", current, target, allowed)

    def _path_fields(self, collection: Collection, given: Given) -> dict[str, Any]:
        return {name: given.path[name] for name in collection.path_fields() if name in given.path}

    def _where(self, collection: Collection, given: Given) -> dict[str, Any]:
        where = self._path_fields(collection, given)
        for name in collection.filters:
            values = given.query.get(name)
            if values:
                where[name] = as_field_type(values[0], collection.example.get(name, ""))
        return where

    def _counter(self, items: Items, collection: Collection) -> Any:
        return lambda: items.next_number(self.provider, collection.name, collection.ids.start)

    def _new_document(self, items: Items, collection: Collection, body: dict, given: Given) -> dict[str, Any]:
        example = given.example()
        shape = example if isinstance(example, dict) and collection.ids.field in example else collection.example
        if collection.ids.strategy == "given":
            if body.get(collection.ids.field) in (None, ""):
                raise Invalid(f'the body must give the {collection.name} item\'s "{collection.ids.field}"')
            item_id = body[collection.ids.field]
        else:
            item_id = self._free_id(items, collection)
        defaults = templated(collection.defaults, str(item_id))
        document = {**copy.deepcopy(shape), **defaults, **body, **self._path_fields(collection, given)}
        fresh_times(document, shape, {**defaults, **body}, given.now)
        if collection.machine is not None:
            document[collection.machine.field] = collection.machine.initial
        document[collection.ids.field] = item_id
        return document

    def _free_id(self, items: Items, collection: Collection) -> Any:
        """A generated id no item has: fixtures may hold ids the counter has not reached yet (task_000001)."""
        for _ in range(ID_ATTEMPTS):
            item_id = new_id(collection, self._counter(items, collection))
            if items.get(self.provider, collection.name, key_of(item_id)) is None:
                return item_id
        raise Conflict(f"no free id for a new {collection.name} item after {ID_ATTEMPTS} tries")

    def _store_new(self, items: Items, collection: Collection, document: dict[str, Any]) -> None:
        if collection.capacity is not None and items.count(self.provider, collection.name, {}) >= collection.capacity:
            raise CapacityReached(collection.name, collection.capacity)
        key = key_of(document[collection.ids.field])
        if items.add(self.provider, collection.name, key, document) is None:
            raise AlreadyExists(f"{collection.name} item {key!r} already exists")

    def _create_children(
        self, items: Items, collection: Collection, document: dict[str, Any], body: dict, given: Given
    ) -> None:
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
        self._make(items, child, count, {children.field: parent_id}, given)

    def _auto_create(self, items: Items, collection: Collection, given: Given) -> None:
        fields = self._path_fields(collection, given)
        if not collection.auto_create or not fields:
            return
        marker = f"{collection.name}/" + "/".join(str(value) for value in fields.values())
        # The marker is taken with an insert that does nothing when it exists: one request creates, once.
        if items.add(self.provider, AUTO_MARKERS, marker, {}) is None:
            return
        if items.count(self.provider, collection.name, fields):
            return
        self._make(items, collection, collection.auto_create, fields, given)

    def _make(self, items: Items, collection: Collection, count: int, fields: dict[str, Any], given: Given) -> None:
        base = Given(None, {}, given.path, given.now, lambda: collection.example)
        for _ in range(count):
            document = self._new_document(items, collection, dict(fields), base)
            self._store_new(items, collection, document)


def templated(value: Any, item_id: str) -> Any:
    """Defaults with `{id}` in their text made the item's own (`https://{id}.pods.example.test`)."""
    if isinstance(value, str):
        return value.replace("{id}", item_id)
    if isinstance(value, dict):
        return {templated(k, item_id): templated(v, item_id) for k, v in value.items()}
    if isinstance(value, list):
        return [templated(v, item_id) for v in value]
    return value
