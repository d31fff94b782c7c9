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
"""

from __future__ import annotations

from collections.abc import Hashable

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
