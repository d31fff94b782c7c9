"""Values the control plane changes and every request reads (the clock's setting, the active provider states),
kept per worker process and session, and read from the store again only after a change was announced.

Reading them from the store cost two of the three queries of a generic read (bench/RESULTS.md, issue 16). They
change only through the control plane, which announces every change it makes (web/change_signal.py). The web
app says so for its store (`keep_for`); a reader then asks the announcement's generation before each use (a
`stat`, about a microsecond) and reads the store only when it moved. The generation is taken before the read,
so a change committed while the read runs makes the next use read again rather than keep the old value.
The control plane itself always reads the store; so does a store nobody registered (the CLI's, a test's).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

T = TypeVar("T")

# Past this many sessions kept in one process the cache starts again (sessions of finished test runs).
MAX_SESSIONS = 1_000


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
