"""Values the control plane changes and every request reads (the clock's setting, the active provider states),
kept per worker process and session, and read from the store again only after a change was announced.

Reading them from the store cost two of the three queries of a generic read (bench/RESULTS.md, issue 16). They
change only through the control plane, which announces every change it makes (web/change_signal.py). The web
app says so for its store (`keep_for`); a reader then asks the announcement's generation before each use (a
`stat`, about a microsecond) and reads the store only when it moved. The generation is taken before the read,
so a change committed while the read runs makes the next use read again rather than keep the old value.
The control plane itself always reads the store; so does a store nobody registered (the CLI's, a test's).

Generic item reads are kept the same way (resources/engine.py), at a generation that also moves with every
write of items: the engine announces each unit of work that wrote items once it is over (`items_written`),
whichever worker or route made it, and the signal tells the other workers (a second stamp) and servers (NOTIFY).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from weakref import WeakKeyDictionary

T = TypeVar("T")

# Past this many sessions kept in one process the cache starts again (sessions of finished test runs).
MAX_SESSIONS = 1_000


class ItemsSignal(Protocol):
    """Where writes of generic items are announced (web/change_signal.py's ChangeSignal)."""

    def items_generation(self) -> Hashable:
        """Moves whenever a write of generic items is announced, in any worker or server."""

    def announce_items(self) -> None:
        """Items were written and committed."""


@dataclass(frozen=True)
class Freshness:
    """How a cache knows whether what it holds may still be used."""

    # Moves whenever the control plane announces a change (compare it with the one the value was read at).
    generation: Callable[[], Hashable]
    # The session the request works in: one session's value never answers another's.
    session: Callable[[], str]
    # True where the store must be read whatever is kept: the control plane, which reads back what it has
    # just changed, before the change is announced (that happens as its answer goes out).
    uncached: Callable[[], bool] = lambda: False
    # Announces and tells writes of generic items; by default the owner of `generation` when it is one
    # (the factory passes ChangeSignal.generation), else none: item reads are then never kept.
    items: ItemsSignal | None = None

    def __post_init__(self) -> None:
        owner = getattr(self.generation, "__self__", None)
        if self.items is None and hasattr(owner, "items_generation") and hasattr(owner, "announce_items"):
            object.__setattr__(self, "items", owner)


@dataclass
class Kept:
    """One store's kept values: (session, name) -> (the generation it was read at, the value)."""

    freshness: Freshness
    values: dict[tuple[str, str], tuple[Hashable, Any]] = field(default_factory=dict)

    def get(self, name: str, read: Callable[[], T]) -> T:
        """The value of `name`, from `read()` only when a change was announced since it was last read."""
        if self.freshness.uncached():
            return read()
        key = (self.freshness.session(), name)
        generation = self.freshness.generation()
        held = self.values.get(key)
        if held is not None and held[0] == generation:
            value: T = held[1]
            return value
        value = read()
        if len(self.values) >= MAX_SESSIONS:
            self.values.clear()
        # One tuple stored at once: a thread reading meanwhile sees the old pair or the new one, never a mix.
        self.values[key] = (generation, value)
        return value


_KEPT: WeakKeyDictionary[object, Kept] = WeakKeyDictionary()


def keep_for(store: object, freshness: Freshness) -> None:
    """From now on what `kept` reads from this store is kept until `freshness` says a change was announced."""
    _KEPT[store] = Kept(freshness)


def kept(store: object, name: str, read: Callable[[], T]) -> T:
    """`read()`'s value (`name` says which value it is), kept if the store was registered with `keep_for`."""
    try:
        found = _KEPT.get(store)
    except TypeError:  # a store that cannot be referred to weakly was never registered
        found = None
    return read() if found is None else found.get(name, read)


def items_generation(store: object) -> Hashable | None:
    """The generation of generic items' writes to keep an item read at, or None when reads must not be kept (a
    store nobody registered, or the control plane, which reads back what it has just changed)."""
    found = _registered(store)
    if found is None or found.freshness.items is None or found.freshness.uncached():
        return None
    return (found.freshness.session(), found.freshness.generation(), found.freshness.items.items_generation())


def items_written(store: object) -> None:
    """Generic items were written to this store and committed: every kept item read is read again."""
    found = _registered(store)
    if found is not None and found.freshness.items is not None:
        found.freshness.items.announce_items()


def _registered(store: object) -> Kept | None:
    try:
        return _KEPT.get(store)
    except TypeError:
        return None
