"""Which answers are worth keeping: a kept answer pays only when its request comes again (issue 15).

The front and the entrance keep what they worked out for a request (a prepared stub answer, a verdict, the bytes
sent), and an indexed pact keeps its compiled interactions (read/index.py), so that the same request is answered
again without that work. Under a polling client or a load test of
one path every kept answer is used thousands of times. Under requests spread over a large contract (a uniform
draw over 100,000 interactions) almost none is asked for again before it is dropped, and keeping them is pure
cost: each one is a handful of objects the cyclic collector walks again and again, and the full collections of
thousands of them were the long pauses at the top of the latency tail.

A `Doorkeeper` lets a key into its cache the second time it is seen among the last `window` keys turned away:
a request that repeats is kept from its second arrival, one that never repeats is never kept. It remembers keys
as bits of one byte array (by hash; a collision merely keeps an answer early), which the collector never walks.

What is let in is held in a `RecentlyKept`: bounded in number, and started again once its oldest entry is a
minute old, so that its memory follows the requests of the last minute. With the number alone (4,096 a worker),
the soak's varied traffic was still filling it after 25 minutes: RSS rose 0.7-0.9 MB a minute all along, which
the soak's verdict reads as a leak (bench/SOAK.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Slots per key remembered: the chance that a key never seen before is let in (a collision) stays under 1/16.
_SLOTS_PER_KEY = 16


class Doorkeeper:
    """Admits a key to a cache on its second sighting among the last `window` keys it turned away."""

    __slots__ = ("_marked", "_mask", "_seen", "_window")

    def __init__(self, window: int) -> None:
        slots = 1 << max(10, (window * _SLOTS_PER_KEY - 1).bit_length())
        self._seen = bytearray(slots)
        self._mask = slots - 1
        self._window = window
        self._marked = 0

    def admit(self, key: Hashable) -> bool:
        """True when `key` was seen before (keep its answer); else remember it and say False."""
        slot = hash(key) & self._mask
        if self._seen[slot]:
            return True
        if self._marked >= self._window:
            # Start again: what was turned away that long ago is not coming back soon.
            self._seen = bytearray(len(self._seen))
            self._marked = 0
        self._seen[slot] = 1
        self._marked += 1
        return False


class RecentlyKept(Generic[K, V]):
    """Values by key, all dropped together when `limit` are held or the first was put more than `span_s` ago.

    A request repeated within the span is answered from here almost every time (one miss per span); one repeated
    less often costs its judging again, which is what it cost before it was kept.
    """

    __slots__ = ("_began", "_entries", "_limit", "_span_s", "get")

    def __init__(self, limit: int, span_s: float) -> None:
        self._entries: dict[K, V] = {}
        self._limit = limit
        self._span_s = span_s
        self._began = time.monotonic()
        # The value kept for a key, if any: the dict's own lookup (it is cleared, never replaced), since a
        # replayed answer asks on every request.
        self.get: Callable[[K], V | None] = self._entries.get

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key`, first dropping everything if the bound or the span is reached."""
        now = time.monotonic()
        if len(self._entries) >= self._limit or now - self._began > self._span_s:
            self._entries.clear()
            self._began = now
        self._entries[key] = value

    def drop(self, key: K) -> None:
        """Forget `key` (nothing if it is not kept)."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
