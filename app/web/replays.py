"""Answers to requests repeated byte for byte, sent before an environ is built (issue 15).

The front remembers the verdict of a request judged on the event loop with no provider state read
(`ContractFront.decide`): the same bytes get the same answer. A repeat still built a WSGI environ, took the
verdict through the front, pulled the answer through `start_response` and made its journal line: under a
polling client that was most of the Python a stub answer costs (bench/RESULTS.md). The entrance now keeps the
finished answer, and the request's part of its journal line, under the same bytes, and sends it at once. Sessions
and fault rules are still checked on every request: a request a fault rule may touch goes the whole way.

A handler's answer is kept too when it says it is a function of the request and the generation of item writes
alone (a generic read, resources: bound.py puts it in the environ): it is sent again only while that generation
holds, so a write, a control-plane change or a move of the clock's setting sends the next request the whole way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from ..contract.admission import Doorkeeper, RecentlyKept
from ..domain.cached import items_generation
from .dispatch import REUSABLE_AT
from .front import REPEAT_BODY_BYTES, REPEATS_KEPT, REPEATS_SPAN_S

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


@dataclass(frozen=True, slots=True)
class Replay:
    """A whole answer as it goes out, and its journal record's request parts (None when nothing is journaled)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    journal_parts: tuple[str, str] | None
    # Whether the answer still holds (a handler's, while its generation of item writes does); None: always.
    holds: Callable[[], bool] | None = None


def condition_of(environ: WSGIEnvironment) -> Callable[[], bool] | None:
    """What a handler's reusable answer (bound.py) holds while: its generation of item writes, which any write of
    items, any control-plane change (the clock's setting, a volume, a reset) and another session all move; and,
    when it read a clock that moves in steps, until its step ends."""
    reusable = environ.get(REUSABLE_AT)
    if reusable is None:
        return None
    return partial(_still_at, *reusable)


def _still_at(store: object, generation: Hashable, clock: Callable[[], datetime], until: datetime | None) -> bool:
    return items_generation(store) == generation and (until is None or clock() < until)


class Replays:
    """Kept answers by everything judging reads of a request: method, path, query, headers and body; bounded as the
    front's remembered verdicts are, however many distinct requests come (past the bound or the span they start
    again).

    When a handler's kept answer stops holding (a write, the end of a clock step), the next request of those bytes
    works it out again and the others that come meanwhile wait for it (`renewal`, `renewed`), rather than every
    connection working out the same page at once: without it a stepped OSMO page's p99 was 38-57 ms, with it 8-13 ms
    (bench/RESULTS.md)."""

    def __init__(self) -> None:
        self.kept: RecentlyKept[tuple[object, ...], Replay] = RecentlyKept(REPEATS_KEPT, REPEATS_SPAN_S)
        self.renewing: dict[tuple[object, ...], asyncio.Future[None]] = {}
        self.door = Doorkeeper(REPEATS_KEPT)

    @staticmethod
    def key(method: str, path: str, query: str, cgi: Mapping[str, str], body: bytes) -> tuple[object, ...] | None:
        """The request's key; None for a body too large to keep."""
        if len(body) > REPEAT_BODY_BYTES:
            return None
        return (method, path, query, tuple(cgi.items()), body)

    def get(self, key: tuple[object, ...]) -> Replay | None:
        """The answer kept for these bytes, if any."""
        return self.kept.get(key)

    async def renewed(self, key: tuple[object, ...]) -> bool:
        """Wait for the request working out these bytes' answer again, if there is one; True when there was."""
        renewing = self.renewing.get(key)
        if renewing is None:
            return False
        await asyncio.shield(renewing)  # a waiter whose client goes away must not cancel the others' wait
        return True

    @contextmanager
    def renewal(self, key: tuple[object, ...] | None) -> Iterator[None]:
        """Held while a request works out its answer: the one that does so for a kept handler's answer that no
        longer holds is waited for by the requests of the same bytes that come meanwhile."""
        kept = self.kept.get(key) if key is not None else None
        if key is None or kept is None or kept.holds is None or key in self.renewing:
            yield
            return
        renewing = self.renewing[key] = asyncio.get_running_loop().create_future()
        try:
            yield
        finally:
            del self.renewing[key]
            if self.kept.get(key) is kept:
                self.kept.drop(key)  # not kept again (faulted, or written meanwhile): the next ones need not wait
            renewing.set_result(None)

    def admits(self, key: tuple[object, ...]) -> bool:
        """Whether these bytes came before (contract/admission.py): only a request that repeats has its answer kept."""
        return self.door.admit(key)

    def keep(self, key: tuple[object, ...], replay: Replay) -> None:
        """Keep `replay` for these bytes."""
        self.kept.put(key, replay)
