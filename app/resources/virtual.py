"""Generated collections: N items made on demand from (seed, collection, index), never stored, paged at a
cost that does not depend on the offset.

Their times are anchored at the collection's epoch (the mock's clock when the collection was first read,
kept in the store), so an item's age and its timed state move on with the clock, and the same seed and
epoch give the same pages in any worker, after a restart and on either backend. A write to a generated
item is stored under its id (an overlay) and wins from then on; a removed one leaves a tombstone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..domain.errors import Invalid
from .clocked import current
from .drawn import copied
from .generate import count_of, generated_item, index_of
from .making import Maker
from .model import MAX_GENERATED, Collection, Page
from .paging import page_fields, requested_page
from .ports import Item, Items
from .shown_page import SHOWN
from .timeline import advanced, entered
from .values import key_of

# Settings items (clocked.SETTINGS) of generated collections: the control plane's count, the epoch.
SETTINGS = "~settings"
TOMBSTONE = "~removed"
# A filtered listing of a generated collection reads items in order until its page is full: at most this many.
SCAN_LIMIT = 200_000
# Generated items a process keeps as made (about 2 KB each), whichever engine or session made them: a page asked
# again shows the same items, and making one is a seeded draw per field (issue 17). Past it they are made again.
MADE_KEPT = 4096
# (seed, id(collection), index, epoch) -> (the collection, held so that its id names no other, the document)
_MADE: dict[tuple[int, int, int, datetime], tuple[Collection, dict[str, Any]]] = {}


class Virtual:
    """Reads of one provider's generated collections."""

    def __init__(self, maker: Maker) -> None:
        self.maker = maker
        self.model = maker.model
        self.provider = maker.provider
        self._parents: dict[tuple[int, str], tuple[int, datetime]] = {}
        # The items of its pages as shown, their hooks' values kept where no request changes them.
        self.shown = SHOWN

    def count(self, items: Items, collection: Collection) -> int:
        """How many items the collection holds now (the control plane may have changed the model's count)."""
        override = items.get(self.provider, SETTINGS, f"count/{collection.name}")
        return count_of(collection, int(override.document["count"]) if override else None)

    def set_count(self, items: Items, collection: Collection, count: int) -> None:
        """Change the count at run time, for every worker."""
        if not 1 <= count <= MAX_GENERATED:
            raise Invalid(f"a generated collection holds 1 to {MAX_GENERATED:,} items, not {count:,}")
        items.put(self.provider, SETTINGS, f"count/{collection.name}", {"count": count})

    def epoch(self, items: Items, collection: Collection, now: datetime) -> datetime:
        """When the collection was first read: generated times count back from here."""
        key = f"epoch/{collection.name}"
        stored = items.get(self.provider, SETTINGS, key)
        if stored is None:
            items.add(self.provider, SETTINGS, key, {"at": now.isoformat()})
            stored = items.get(self.provider, SETTINGS, key)
        return datetime.fromisoformat(stored.document["at"]) if stored else now

    def item(self, items: Items, collection: Collection, index: int, epoch: datetime, now: datetime) -> dict:
        """Item `index` as the clock has it now (not stored). Shared with every reader of the same item: nobody
        changes a document it is given (the presenter and a change make new ones)."""
        document = self._generated(collection, index, epoch)
        generated = collection.generated
        machine = collection.machine
        inherits = generated is not None and bool(generated.parent and generated.inherit)
        if not inherits and (machine is None or not machine.timed):
            return document
        document = copied(document)  # a parent's fields and the clock's state are this read's own
        if inherits:
            assert generated is not None and generated.parent is not None
            parent = self.maker.collection(generated.parent)
            parent_count, parent_epoch = self._parent(items, parent, now)
            source = generated_item(self.model, parent, index % parent_count, parent_epoch)
            document.update({own: copy.deepcopy(source.get(theirs)) for own, theirs in generated.inherit.items()})
        if machine is not None and machine.timed:
            # Born in the state the generation drew (or the initial one) when its age says it was born.
            born = _born(document, collection, epoch)
            document.setdefault(machine.field, machine.initial)
            if document[machine.field] not in machine.states:
                document[machine.field] = machine.initial
            entered(document, machine, born)
            advanced(document, machine, self.model.seed, f"{collection.name}/{document[collection.ids.field]}", now)
        return document

    def _generated(self, collection: Collection, index: int, epoch: datetime) -> dict[str, Any]:
        """generated_item's document, kept once made: it depends on nothing but the seed, the collection, the index
        and the epoch (the count only says which indexes exist)."""
        key = (self.model.seed, id(collection), index, epoch)
        held = _MADE.get(key)
        if held is not None and held[0] is collection:
            return held[1]
        if len(_MADE) >= MADE_KEPT:
            _MADE.clear()
        document = generated_item(self.model, collection, index, epoch)
        _MADE[key] = (collection, document)
        return document

    def _parent(self, items: Items, parent: Collection, now: datetime) -> tuple[int, datetime]:
        """The parent's count and epoch, read once per unit of work (a page reads them for every item)."""
        key = (id(items), parent.name)
        cached = self._parents.get(key)
        if cached is None:
            if len(self._parents) > 64:  # keyed by unit of work: keep the memo small
                self._parents.clear()
            cached = self._parents[key] = (self.count(items, parent), self.epoch(items, parent, now))
        return cached

    def _fresh(self, items: Items) -> None:
        """Forget what an earlier unit of work read (its repository's id may be reused)."""
        for key in [key for key in self._parents if key[0] == id(items)]:
            self._parents.pop(key, None)

    def find(self, items: Items, collection: Collection, value: str, now: datetime) -> Item | None:
        """The item whose id (or a lookup field) is `value`: its overlay if one is stored, else the generated
        item as an Item of version 0 (not stored); None when no item has it."""
        self._fresh(items)
        stored = items.get(self.provider, collection.name, key_of(value))
        if stored is not None:
            return None if stored.document.get(TOMBSTONE) else stored
        count = self.count(items, collection)
        index = None
        for field in (collection.ids.field, *collection.lookup):
            index = index_of(self.model, collection, field, str(value), count)
            if index is not None:
                break
        if index is None:
            return None
        document = self.item(items, collection, index, self.epoch(items, collection, now), now)
        the_id = key_of(document[collection.ids.field])
        overlay = items.get(self.provider, collection.name, the_id)
        if overlay is not None:
            return None if overlay.document.get(TOMBSTONE) else overlay
        return Item(collection.name, the_id, document, 0, index)

    def page(
        self, items: Items, collection: Collection, query: Mapping[str, list[str]], where: dict[str, Any], now: datetime
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """(documents of the page, the keys the answer carries besides them) for this query."""
        self._fresh(items)
        page = collection.page or Page()
        count = self.count(items, collection)
        overlays = self._overlays(items, collection, now)
        extras = [
            d for key, d in overlays.items() if not d.get(TOMBSTONE) and not self._is_generated(collection, key, count)
        ]
        total = count + len(extras)
        offset, limit = requested_page(page, query, self.model.seed, collection.name, total)
        epoch = self.epoch(items, collection, now)
        if where:
            documents, total = self._scan(items, collection, where, overlays, extras, offset, limit, epoch, now)
        else:
            documents = []
            for index in range(offset, min(offset + limit, count)):
                document = self.item(items, collection, index, epoch, now)
                document = overlays.get(key_of(document[collection.ids.field]), document)
                if not document.get(TOMBSTONE):
                    documents.append(document)
            documents += extras[max(0, offset - count) : max(0, offset + limit - count)]
        return documents, page_fields(page, offset, limit, total, self.model.seed, collection.name)

    def _scan(
        self,
        items: Items,
        collection: Collection,
        where: dict[str, Any],
        overlays: dict[str, dict[str, Any]],
        extras: list[dict[str, Any]],
        offset: int,
        limit: int,
        epoch: datetime,
        now: datetime,
    ) -> tuple[list[dict[str, Any]], int]:
        count = self.count(items, collection)
        if count > SCAN_LIMIT:
            raise Invalid(
                f"a filter on {collection.name} reads its items one by one, and it holds {count:,} "
                f"(at most {SCAN_LIMIT:,} can be filtered); ask without a filter, or for fewer items"
            )
        matched: list[dict[str, Any]] = []
        for index in range(count):
            document = self.item(items, collection, index, epoch, now)
            document = overlays.get(key_of(document[collection.ids.field]), document)
            if not document.get(TOMBSTONE) and _matches(document, where):
                matched.append(document)
        matched += [d for d in extras if _matches(d, where)]
        return matched[offset : offset + limit], len(matched)

    def every_item(self, items: Items, collection: Collection, now: datetime) -> list[dict[str, Any]]:
        """Every item, overlays applied (a hook's view): at most SCAN_LIMIT of them."""
        self._fresh(items)
        overlays = self._overlays(items, collection, now)
        epoch = self.epoch(items, collection, now)
        found = []
        for index in range(min(self.count(items, collection), SCAN_LIMIT)):
            document = self.item(items, collection, index, epoch, now)
            document = overlays.get(key_of(document[collection.ids.field]), document)
            if not document.get(TOMBSTONE):
                found.append(document)
        count = self.count(items, collection)
        return found + [
            d for k, d in overlays.items() if not d.get(TOMBSTONE) and not self._is_generated(collection, k, count)
        ]

    def _overlays(self, items: Items, collection: Collection, now: datetime) -> dict[str, dict[str, Any]]:
        """The stored items (overlays, tombstones and items made by clients) by id, each where the clock has
        taken it by now: a generated item stopped by a periodic event moves on to stopped in a listing too."""
        stored = items.list(self.provider, collection.name, {})
        if collection.machine is None or not collection.machine.timed:
            return {item.id: item.document for item in stored}
        return {
            item.id: item.document
            if item.document.get(TOMBSTONE)
            else current(self.maker, items, collection, item, now)
            for item in stored
        }

    def _is_generated(self, collection: Collection, key: str, count: int) -> bool:
        return index_of(self.model, collection, collection.ids.field, key, count) is not None


def _matches(document: dict[str, Any], where: dict[str, Any]) -> bool:
    return all(document.get(field) == value for field, value in where.items())


def _born(document: dict[str, Any], collection: Collection, epoch: datetime) -> datetime:
    """The earliest time among the item's generated date-times (its creation), else the epoch."""
    times = []
    for value in document.values():
        if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if moment.tzinfo is not None:
                times.append(moment)
    return min(times, default=epoch)
