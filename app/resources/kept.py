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
from typing import Any

from ..domain.cached import items_generation, items_written

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
            items_written(store, notified=not getattr(items, "wrote_unnotified", True))


class KeptReads:
    """(collection, id) -> (the generation of item writes it was read at, the stored document)."""

    def __init__(self, store: object) -> None:
        self.store = store
        self._held: dict[tuple[str, str], tuple[object, dict[str, Any]]] = {}

    def document(self, key: tuple[str, str], read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The document as last read while no write of items has been announced since, else `read()`'s.

        The generation is taken before the store is read: a write committed meanwhile moves it, so what was read
        is then kept at an old generation and read again next time. The document is shared by the answers made
        from it; none changes it (the presenter and the answer's shaping make new objects). A store nobody
        registered, and the control plane, always read.
        """
        generation = items_generation(self.store)
        held = self._held.get(key)
        if generation is not None and held is not None and held[0] == generation:
            return held[1]
        document = read()
        if generation is not None:
            if len(self._held) >= KEPT_READS:
                self._held.clear()
            self._held[key] = (generation, document)
        return document
