"""Item reads kept per engine (a worker's, in one session), and the announcement of every write of items.

A plain read of a stored item paid a thread hand-off, a unit of work and a round trip to answer what the stub
path answers from memory (bench/RESULTS.md, issue 16). A worker now keeps what it read, at the generation of
item writes it was read at (domain/cached.py), and reads the store again only when a write was announced since:
each unit of work of the engine that wrote items announces itself once it is over, the control plane announces
its own changes, and the signal reaches every worker and server (web/change_signal.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, TypeVar

from ..domain.cached import items_generation, items_written
from .model import Collection

T = TypeVar("T")
# What a listing may not do if it is to be kept: the Items port's writes.
WRITES = frozenset({"add", "put", "replace", "claim", "remove", "clear", "next_number", "mark_started"})

# Item reads one engine keeps at once; past it they start again.
KEPT_READS = 10_000


@contextmanager
def announced(store: object, scope: AbstractContextManager[Any]) -> Iterator[Any]:
    """The unit of work; once it is over, its writes of items (if any) announced to every worker and server, so
    none answers a kept read of what changed. Announced even when it failed: part of it may be committed (a
    one-statement create), and a needless announcement costs a read, a missing one a wrong answer."""
    uow = None
    try:
        with scope as uow:
            yield uow
    finally:
        items = getattr(uow, "items", None) if uow is not None else None
        if items is not None and getattr(items, "wrote", True):
            items_written(store)


class KeptReads:
    """(collection, id) -> (the generation of item writes it was read at, the stored document)."""

    def __init__(self, store: object) -> None:
        self.store = store
        self._held: dict[tuple[str, str], tuple[object, Any]] = {}

    def document(self, key: tuple[str, str], read: Callable[[], T]) -> T:
        """The document as last read while no write of items has been announced since, else `read()`'s.

        The generation is taken before the store is read: a write committed meanwhile moves it, so what was read
        is then kept at an old generation and read again next time. The document is shared by the answers made
        from it; none changes it (the presenter and the answer's shaping make new objects). A store nobody
        registered, and the control plane, always read.
        """
        generation = items_generation(self.store)
        held = self._held.get(key)
        if generation is not None and held is not None and held[0] == generation:
            kept: T = held[1]
            return kept
        document = read()
        if generation is not None:
            if len(self._held) >= KEPT_READS:
                self._held.clear()
            self._held[key] = (generation, document)
        return document


class NotKept(Exception):
    """A replayed listing asked for something no earlier one read: read the store."""


class NeedsWrite(Exception):
    """A replayed listing would write (a generated collection's first epoch): take the writing path."""


class Replayed:
    """The reads a generated page makes (its count, epoch and overlays), answered from those an earlier page made
    at the same generation of item writes, else from `items` (None: nothing to fall back on) and remembered.

    A page of a generated collection that neither time nor periodic events change reads only these, so while no
    write of items is announced it needs no unit of work at all (bench/RESULTS.md, issue 17). Writes are refused
    (NeedsWrite): a page that must write is made again in a writing unit of work.
    """

    def __init__(self, items: Any, answers: dict[tuple[Any, ...], Any]) -> None:
        self.items = items
        self.answers = answers

    def _answer(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        if key in self.answers:
            return self.answers[key]
        if self.items is None:
            raise NotKept(key)
        value = self.answers[key] = read()
        return value

    def get(self, provider: str, collection: str, item_id: str) -> Any:
        """The item, or None."""
        return self._answer(
            ("get", provider, collection, item_id), lambda: self.items.get(provider, collection, item_id)
        )

    def list(self, provider: str, collection: str, where: Any, offset: int = 0, limit: int | None = None) -> Any:
        """The items whose fields equal `where`, oldest first."""
        key = ("list", provider, collection, tuple(sorted(where.items())), offset, limit)
        return self._answer(key, lambda: self.items.list(provider, collection, where, offset, limit))

    def count(self, provider: str, collection: str, where: Any) -> int:
        """How many items match `where`."""
        key = ("count", provider, collection, tuple(sorted(where.items())))
        return int(self._answer(key, lambda: self.items.count(provider, collection, where)))

    def __getattr__(self, name: str) -> Any:
        if name in WRITES:  # a page that writes is not kept
            raise NeedsWrite(name)
        raise AttributeError(name)


def replayed_page(
    kept: KeptReads,
    virtual: Any,
    reading: Callable[[], AbstractContextManager[Any]],
    collection: Collection,
    page: tuple[Any, dict[str, Any], datetime],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`virtual.page` (query, where, now) with the reads an earlier page made at this generation of item writes:
    none of the store while nothing was written; NeedsWrite when time or periodic events may change what is
    stored (then the page is made in a writing unit of work)."""
    if collection.every or (collection.machine is not None and collection.machine.timed):
        raise NeedsWrite(collection.name)
    answers: dict[tuple[Any, ...], Any] = kept.document(("~page", collection.name), dict)
    try:
        return virtual.page(Replayed(None, answers), collection, *page)
    except NotKept:
        with reading() as uow:
            return virtual.page(Replayed(uow.items, answers), collection, *page)
