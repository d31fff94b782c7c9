"""Time's part in a read: items brought to the state the clock says, periodic events caught up, hooks run.

All of it happens when a collection is read (nothing polls) and is stored, so what one read worked out
every later read sees, in any worker: the state never goes backwards.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .hooks import Hook, hook_call, load_hook
from .making import Maker
from .model import Collection
from .ports import Item, Items
from .timeline import advanced, entered, entered_at, seeded, visible
from .values import Given

# Periodic events and settings are kept as items of this collection.
SETTINGS = "~settings"
# A read applies at most this many periods of a periodic event; older ones are skipped (a clock moved by months).
MAX_PERIODS = 1_000


def is_clocked(collection: Collection) -> bool:
    """Whether reading the collection may change what is stored (timed moves or periodic events)."""
    return bool(collection.every) or bool(collection.machine is not None and collection.machine.timed)


def current(maker: Maker, items: Items, collection: Collection, item: Item, when: Given | datetime) -> dict[str, Any]:
    """The item's document as the clock has it now; stored when that changed it."""
    document = item.document
    machine = collection.machine
    if machine is None or not machine.timed:
        return document
    now = when.now if isinstance(when, Given) else when
    document = copy.deepcopy(document)
    if advanced(document, machine, maker.model.seed, f"{collection.name}/{item.id}", now):
        # Another request may have stored the same move first: its version wins, and it says the same.
        items.replace(maker.provider, collection.name, item.id, document, item.version)
    return document


# Chooses the item a periodic stop stops at a time, with a seeded random: (id, document, version; 0 for a
# generated item not stored), or None when none is live.
LiveItems = Callable[[datetime, Any], tuple[str, dict[str, Any], int] | None]


def catch_up(
    maker: Maker, items: Items, collection: Collection, when: Given | datetime, live: LiveItems | None = None
) -> None:
    """Apply each periodic event's periods that have passed since the last read (or since it was first seen).

    `live` lists the items a stop may choose from (a generated collection's engine gives its own); by default
    the stored items.
    """
    if not collection.every:
        return
    now = when.now if isinstance(when, Given) else when
    for index, every in enumerate(collection.every):
        key = f"every/{collection.name}/{index}"
        marker = items.get(maker.provider, SETTINGS, key)
        if marker is None:
            items.add(maker.provider, SETTINGS, key, {"epoch": now.isoformat(), "done": 0})
            continue
        epoch = datetime.fromisoformat(marker.document["epoch"])
        done = int(marker.document["done"])
        due = int((now - epoch).total_seconds() // every.seconds)
        if due <= done:
            continue
        # Taking the periods is one conditional write: of two workers reading at once, one applies them.
        if items.replace(maker.provider, SETTINGS, key, {**marker.document, "done": due}, marker.version) is None:
            continue
        for period in range(max(done + 1, due - MAX_PERIODS + 1), due + 1):
            at = epoch + timedelta(seconds=period * every.seconds)
            roll = seeded(maker.model.seed, key, period).random()
            if roll < every.start:
                maker.make(items, collection, 1, {}, Given(None, {}, {}, at, lambda: collection.example))
            elif roll < every.start + every.stop and every.stop_to and collection.machine is not None:
                draw = seeded(maker.model.seed, key, period, "stop")
                chosen = (live or _stored(maker, items, collection))(at, draw)
                if chosen is not None:
                    _stop_one(maker, items, collection, at, every.stop_to, chosen)


def _stored(maker: Maker, items: Items, collection: Collection) -> LiveItems:
    machine = collection.machine
    assert machine is not None

    def pick(at: datetime, draw: Any) -> tuple[str, dict[str, Any], int] | None:
        live = [
            (item.id, document, item.version)
            for item in items.list(maker.provider, collection.name, {})
            if (document := current(maker, items, collection, item, at)).get(machine.field) not in machine.terminal
        ]
        return live[draw.randrange(len(live))] if live else None

    return pick


def _stop_one(
    maker: Maker, items: Items, collection: Collection, at: datetime, to: str, chosen: tuple[str, dict[str, Any], int]
) -> None:
    machine = collection.machine
    assert machine is not None
    item_id, document, version = chosen
    document = {**document, machine.field: to}
    entered(document, machine, at)
    if version == 0:
        # A generated item stopped: its overlay is stored from now on.
        items.put(maker.provider, collection.name, item_id, document)
        return
    fresh = items.get(maker.provider, collection.name, item_id)
    if fresh is not None:
        items.replace(maker.provider, collection.name, item_id, document, fresh.version)


class Presenter:
    """A document as a client sees it: bookkeeping keys left out, hooked fields worked out."""

    def __init__(self, maker: Maker, items_of: Callable[[str, datetime], list[dict[str, Any]]]) -> None:
        self.maker = maker
        self.items_of = items_of
        self._hooks: dict[str, Hook] = {}

    def shown(self, collection: Collection, document: dict[str, Any], given: Given) -> dict[str, Any]:
        """The answer for one item."""
        seen = in_example_order(visible(document), collection.example)
        hooks = hooks_of(collection)
        if not hooks:
            return seen
        seen = dict(seen)
        item_id = seen.get(collection.ids.field)
        since = entered_at(document, collection.machine) if collection.machine is not None else None
        for field, reference in hooks.items():
            seen[field] = self.run(reference, seen, given, f"{collection.name}/{item_id}/{field}", since)
        return seen

    def run(
        self, reference: str, item: dict[str, Any] | None, given: Given, place: str, since: datetime | None = None
    ) -> Any:
        """What the hook answers for this item and request; its random is seeded from the model and `place`."""
        draw = seeded(self.maker.model.seed, place)
        item = dict(item) if item else None
        now = given.now

        def listing(name: str) -> list[dict[str, Any]]:
            return self.items_of(name, now)

        call = hook_call(given.call, item, given.now, draw, since, given.body, given.query, given.path, listing)
        return self.hook(reference)(call)

    def hook(self, reference: str) -> Hook:
        """The callable a reference names, imported once (beside the model file first)."""
        if reference not in self._hooks:
            source = Path(self.maker.model.source)
            self._hooks[reference] = load_hook(reference, source.parent if source.suffix else Path.cwd())
        return self._hooks[reference]


def hooks_of(collection: Collection) -> dict[str, str]:
    """The collection's hooked fields in the order they run: its hooks, then its generated fields' hooks."""
    hooks = dict(collection.hooks)
    if collection.generated is not None:
        hooks.update({f: rule["hook"] for f, rule in collection.generated.fields.items() if "hook" in rule})
    return hooks


def in_example_order(document: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    """The keys in the contract example's order, then the others sorted: PostgreSQL's JSONB keeps no order of
    its own, so without this the same item would read back in another order on each backend."""
    ordered = {key: document[key] for key in example if key in document}
    ordered.update((key, document[key]) for key in sorted(document) if key not in ordered)
    return ordered
