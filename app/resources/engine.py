"""What a generic provider does with a request its contract allowed: create, read, list, change, remove, act.

One `Engine` per provider and process, over the shared store. Every operation is one unit of work, so a
write is atomic with its id counter; a change to an item is one conditional write on its version, tried again
when another request changed the item meanwhile (then read anew: a transition is applied once or refused,
never torn). The model (model.py) says what each collection and action does; making.py makes new items,
clocked.py brings them to where the clock says they are.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ..domain.errors import Conflict, Invalid, InvalidTransition, NotFound, WrongState
from ..domain.ports import Store
from .clocked import LiveItems, Presenter, catch_up, current, is_clocked
from .kept import KeptReads, NeedsWrite, announced, replayed_page
from .making import Maker
from .model import Action, Collection, ResourceModel
from .ports import Item, Items
from .timeline import entered
from .values import Given, as_field_type, key_of, resolve
from .virtual import TOMBSTONE, Virtual

# A periodic stop in a generated collection draws at most this many items to find one that is not terminal.
STOP_TRIES = 32
# Periodic stops in a generated collection draw among its generated items (kept as overlays once stopped);
# a stopped one keeps its hook-derived counters. Stored-only items of such a collection are not drawn yet.
STOP_GENERATED = True
# A change that lost the race for an item's version reads the item again, at most this many times.
CHANGE_ATTEMPTS = 20


class Engine:
    """One provider's state, as its model declares it."""

    def __init__(self, model: ResourceModel, store: Store) -> None:
        self.model = model
        self.store = store
        self.provider = model.provider
        self.maker = Maker(model)
        self.presenter = Presenter(self.maker, self.documents)
        self.virtual = Virtual(self.maker)
        self._started = False
        self.kept = KeptReads(store)  # plain reads, answered again until a write of items is announced

    # --- collections -------------------------------------------------------------------------------

    def create(self, name: str, given: Given) -> dict[str, Any]:
        """A new item from the request body, shaped like the contract's example; its children with it."""
        collection = self.collection(name)
        body = given.body_object()
        with self._writing(given) as uow:
            # A plain create is stored at once where the store can (making.py); the other creates take these steps.
            document = self.maker.created_at_once(uow.items, collection, body, given)
            if document is None:
                self.maker.auto_create(uow.items, collection, given)
                document = self.maker.new_document(uow.items, collection, body, given)
                self.maker.store_new(uow.items, collection, document)
                self.maker.create_children(uow.items, collection, document, body, given)
        return self.presenter.shown(collection, document, given)

    def read(self, name: str, given: Given) -> dict[str, Any]:
        """The item the path names, as the clock has it now."""
        collection = self.collection(name)
        writes = is_clocked(collection) or collection.generated is not None
        if not writes and not collection.hooks:
            document = self.kept.document((name, key_of(given.path.get("id") or "")), lambda: self._stored(name, given))
            return self.presenter.shown(collection, document, given)
        with self._writing(given) if writes else self._reading(given) as uow:
            catch_up(self.maker, uow.items, collection, given, self._live(uow.items, collection))
            item = self._item(uow.items, collection, given)
            document = current(self.maker, uow.items, collection, item, given) if item.version else item.document
        return self.presenter.shown(collection, document, given)

    def _stored(self, name: str, given: Given) -> dict[str, Any]:
        with self._reading(given) as uow:
            return self._item(uow.items, self.collection(name), given).document

    def listing(self, name: str, given: Given) -> Any:
        """The items the path and the query's filters select, in the collection's envelope."""
        collection = self.collection(name)
        if collection.generated is not None:
            return self._generated_listing(collection, given)
        where = self._where(collection, given)
        # A state the clock moves is filtered after it is worked out, not in the store.
        timed_field = collection.machine.field if collection.machine and collection.machine.timed else None
        stored_where = {k: v for k, v in where.items() if k != timed_field}
        with self._writing(given) if collection.auto_create or is_clocked(collection) else self._reading(given) as uow:
            self.maker.auto_create(uow.items, collection, given)
            catch_up(self.maker, uow.items, collection, given)
            documents = [
                current(self.maker, uow.items, collection, item, given)
                for item in uow.items.list(self.provider, name, stored_where)
            ]
        if timed_field in where:
            documents = [d for d in documents if d.get(timed_field) == where[timed_field]]
        shown = [self.presenter.shown(collection, document, given) for document in documents]
        if collection.envelope is None:
            return shown
        answer: dict[str, Any] = {collection.envelope: shown}
        if collection.total:
            answer[collection.total] = len(shown)
        return answer

    def _generated_listing(self, collection: Collection, given: Given) -> Any:
        page = (given.query, self._where(collection, given), given.now)
        try:
            documents, fields = replayed_page(self.kept, self.virtual, lambda: self._reading(given), collection, page)
        except NeedsWrite:
            with self._writing(given) as uow:
                catch_up(self.maker, uow.items, collection, given, self._live(uow.items, collection))
                documents, fields = self.virtual.page(uow.items, collection, *page)
        shown = self.virtual.shown.page(self.presenter, collection, documents, given)
        if collection.envelope is None:
            return shown
        # The page's own keys where the contract's example shows them; the total always, under its name.
        example = given.example()
        shows = set(example) if isinstance(example, dict) else set()
        answer: dict[str, Any] = {collection.envelope: shown}
        answer.update({key: value for key, value in fields.items() if key in shows and key != "total"})
        answer[collection.total or "total"] = fields["total"]
        return answer

    def documents(self, name: str, now: datetime) -> list[dict[str, Any]]:
        """Every item of the collection as a client would read it now (a hook's view of another collection)."""
        collection = self.collection(name)
        given = Given(None, {}, {}, now, lambda: None)
        with self._writing(now) as uow:
            if collection.generated is not None:
                found = self.virtual.every_item(uow.items, collection, now)
            else:
                catch_up(self.maker, uow.items, collection, now)
                found = [
                    current(self.maker, uow.items, collection, i, now) for i in uow.items.list(self.provider, name, {})
                ]
        return [self.presenter.shown(collection, document, given) for document in found]

    def count(self, name: str, now: datetime) -> int:
        """How many items a generated collection holds now."""
        with self._reading(now) as uow:
            return self.virtual.count(uow.items, self.collection(name))

    def stored_count(self, name: str, now: datetime) -> int:
        """How many items a stored collection holds."""
        with self._reading(now) as uow:
            return uow.items.count(self.provider, name, {})

    def set_count(self, name: str, count: int, now: datetime) -> None:
        """Change a generated collection's count at run time (the control plane's volume)."""
        collection = self.collection(name)
        if collection.generated is None:
            raise Invalid(f"collection {name!r} is not generated: its items are stored, not counted")
        with self._writing(now) as uow:
            self.virtual.set_count(uow.items, collection, count)

    def change(self, name: str, given: Given, merge: bool) -> dict[str, Any]:
        """PUT (the body replaces the item) or PATCH (the body's fields are merged in); the id stays."""
        collection = self.collection(name)
        body = given.body_object()

        def changed(document: dict[str, Any]) -> dict[str, Any]:
            updated = {**document, **body} if merge else {**body}
            updated[collection.ids.field] = document[collection.ids.field]
            machine = collection.machine
            if machine is not None:
                updated.setdefault(machine.field, document.get(machine.field))
                if updated[machine.field] != document.get(machine.field):
                    self._check_move(collection, document, updated[machine.field])
                    entered(updated, machine, given.now)
                else:
                    # The bookkeeping of when the state was entered is the mock's, whatever a PUT sends.
                    updated.update({k: v for k, v in document.items() if k.startswith("~")})
            return updated

        return self._update(collection, given, changed)

    def remove(self, name: str, given: Given) -> None:
        """Delete the item the path names."""
        collection = self.collection(name)
        with self._writing(given) as uow:
            item = self._item(uow.items, collection, given)
            if collection.generated is not None:
                uow.items.put(self.provider, name, item.id, {collection.ids.field: item.id, TOMBSTONE: True})
            else:
                uow.items.remove(self.provider, name, item.id)

    # --- actions -----------------------------------------------------------------------------------

    def act(self, action: Action, given: Given) -> Any:
        """Carry out an action; its answer is the item after it, a summary, its hook's, or the route's example."""
        answer = self._effect(action, given)
        if action.hook is not None:
            item = answer if isinstance(answer, dict) and action.summary is None else None
            return self.presenter.run(action.hook, item, given, action.path)
        return given.example() if answer is None else answer

    def _effect(self, action: Action, given: Given) -> Any:
        """What the action does; None when it only answers (reset, load, a hook alone)."""
        if action.reset:
            self.reset(given.now)
            return None
        if action.load:
            self.load(self.model.fixtures_named(action.load), given.now)
            return None
        if action.collection is None:
            return None
        collection = self.collection(action.collection)
        if action.summary is not None:
            return self._summary(action, collection, given)
        if action.claim is not None:
            return self._claim(action, collection, given)
        if not (action.to or action.to_from_body or action.set or action.set_from_body or action.guard):
            # A hook on an item: the item as it is now (an unknown id is a 404 before the hook runs).
            return self.read(collection.name, given) if "id" in given.path else None
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
            entered(updated, collection.machine, given.now)
        updated.update(self._settings(action, given))
        return updated

    def _settings(self, action: Action, given: Given) -> dict[str, Any]:
        values = {field: resolve(value, given) for field, value in action.set.items()}
        body = given.body_object() if action.set_from_body else {}
        values.update({field: body[field] for field in action.set_from_body if field in body})
        return values

    def _claim(self, action: Action, collection: Collection, given: Given) -> dict[str, Any]:
        assert action.claim is not None
        where = {**self.maker.path_fields(collection, given), **action.claim.where}
        changes = self._settings(action, given)
        with self._writing(given) as uow:
            self.maker.auto_create(uow.items, collection, given)
            item = uow.items.claim(self.provider, collection.name, where, changes)
            if item is not None:
                return self.presenter.shown(collection, item.document, given)
            if not action.claim.create_when_none:
                raise WrongState(f"no {collection.name} item is free: none has {where}")
            document = self.maker.new_document(uow.items, collection, {**where, **changes}, given)
            self.maker.store_new(uow.items, collection, document)
            return self.presenter.shown(collection, document, given)

    def _summary(self, action: Action, collection: Collection, given: Given) -> dict[str, Any]:
        assert action.summary is not None
        where = self.maker.path_fields(collection, given)
        listing = self.listing(collection.name, Given(None, {}, given.path, given.now, given.example))
        documents = listing[collection.envelope] if collection.envelope else listing
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

    def reset(self, now: datetime) -> None:
        """Every item gone, counters back at their start, the start fixtures loaded again."""
        with announced(self.store, self.store.writing()) as uow:
            uow.items.clear(self.provider)
            self.maker.load_fixtures(uow.items, self.maker.start_fixtures(), now)
            uow.items.mark_started(self.provider, True)
        self._started = True

    def load(self, fixtures: tuple[str, ...], now: datetime, remove: bool = False) -> None:
        """Put the items of these fixtures in the store, or take them out again (a provider state's teardown):
        an item the start fixtures hold goes back to its start version rather than away."""
        with self._writing(now) as uow:
            if not remove:
                self.maker.load_fixtures(uow.items, fixtures, now)
                return
            at_start = self.maker.fixture_documents(self.maker.start_fixtures())
            for key in self.maker.fixture_documents(fixtures):
                if key in at_start:
                    uow.items.put(self.provider, key[0], key[1], copy.deepcopy(at_start[key]))
                else:
                    uow.items.remove(self.provider, *key)

    # --- the parts ---------------------------------------------------------------------------------

    def collection(self, name: str) -> Collection:
        """The collection of this name (the model was checked: an unknown one is the mock's bug)."""
        return self.model.collections[name]

    def _writing(self, when: Given | datetime) -> Any:
        self._ensure_started(when)
        return announced(self.store, self.store.writing())

    def _reading(self, when: Given | datetime) -> Any:
        self._ensure_started(when)
        return announced(self.store, self.store.reading())

    def _ensure_started(self, when: Given | datetime) -> None:
        # The start fixtures are loaded once per database, by whichever worker serves the provider first.
        if self._started:
            return
        now = when.now if isinstance(when, Given) else when
        with announced(self.store, self.store.writing()) as uow:
            if not uow.items.is_started(self.provider):
                self.maker.load_fixtures(uow.items, self.maker.start_fixtures(), now)
                uow.items.mark_started(self.provider, True)
        self._started = True

    def _item(self, items: Items, collection: Collection, given: Given) -> Item:
        item_id = given.path.get("id")
        if item_id is None:
            item = None
        elif collection.generated is not None:
            item = self.virtual.find(items, collection, item_id, given.now)
        else:
            item = items.get(self.provider, collection.name, key_of(item_id))
        if item is None:
            raise NotFound(collection.name.rstrip("s") or collection.name, item_id)
        return item

    def _update(self, collection: Collection, given: Given, change: Any) -> dict[str, Any]:
        for _ in range(CHANGE_ATTEMPTS):
            with self._writing(given) as uow:
                item = self._item(uow.items, collection, given)
                if not item.version:
                    # A generated item's first change is stored as its overlay.
                    added = uow.items.add(self.provider, collection.name, item.id, change(copy.deepcopy(item.document)))
                    if added is not None:
                        return self.presenter.shown(collection, added.document, given)
                    continue
                # A client's move starts from the state the clock has brought the item to (stored now), and is
                # worked out from the version it is written over: a move another request made meanwhile
                # fails the conditional write, and this one is tried again from the new state.
                current(self.maker, uow.items, collection, item, given)
                latest = uow.items.get(self.provider, collection.name, item.id)
                if latest is None:
                    raise NotFound(collection.name.rstrip("s") or collection.name, given.path.get("id"))
                document = copy.deepcopy(latest.document)
                stored = uow.items.replace(self.provider, collection.name, item.id, change(document), latest.version)
                if stored is not None:
                    return self.presenter.shown(collection, stored.document, given)
        raise Conflict(f"{collection.name} item {given.path.get('id')} kept changing under this request")

    def _check_move(self, collection: Collection, document: dict[str, Any], target: object) -> None:
        machine = collection.machine
        assert machine is not None
        current_state = document.get(machine.field)
        allowed = machine.allowed_from(str(current_state))
        if target not in allowed:
            raise InvalidTransition(f"the {collection.name} item", current_state, target, allowed)

    def _live(self, items: Items, collection: Collection) -> LiveItems | None:
        """How a periodic stop chooses in a generated collection: a few items drawn at random, the first one the
        clock has not made terminal (listing them all for every period would cost a page per period)."""
        machine = collection.machine
        if collection.generated is None or machine is None or not STOP_GENERATED:
            return None

        def pick(at: datetime, draw: Any) -> tuple[str, dict[str, Any], int] | None:
            count = self.virtual.count(items, collection)
            for _ in range(STOP_TRIES):
                document = self.virtual.item(
                    items, collection, draw.randrange(count), self.virtual.epoch(items, collection, at), at
                )
                key = key_of(document[collection.ids.field])
                stored = items.get(self.provider, collection.name, key)
                if stored is not None:
                    if stored.document.get(TOMBSTONE):
                        continue
                    document = current(self.maker, items, collection, stored, at)
                if document.get(machine.field) not in machine.terminal:
                    return key, document, stored.version if stored is not None else 0
            return None

        return pick

    def _where(self, collection: Collection, given: Given) -> dict[str, Any]:
        where = self.maker.path_fields(collection, given)
        for entry in collection.filters:
            # "statuses=status": the query parameter `statuses` filters the field `status`.
            name, _, field = entry.partition("=")
            values = given.query.get(name)
            if values:
                field = field or name
                where[field] = as_field_type(values[0], collection.example.get(field, ""))
        return where
