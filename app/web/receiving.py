"""What bounds the entrance's receiving of request bodies: a deadline per body, and a budget per worker.

Receiving on the event loop costs no thread, so neither the thread count nor the connection count bounds what
clients can make a worker hold any more: these two do.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any


@dataclass
class Receipt:
    """Bytes of one request's body counted against the budget, given back when it has been answered."""

    held: int = 0


class BodyBudget:
    """Bytes of request bodies a worker holds at once (announced by Content-Length, or received when chunked).

    Only the event loop's thread uses it, so it needs no lock.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        """Hold ``size`` more bytes if the budget allows; False, holding nothing, when it does not."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        """Give back ``size`` bytes taken before, once their request is answered."""
        self.held -= size


class Deadlines:
    """Cancels a body read that outlives the deadline.

    One sweep a fraction of the deadline apart, rather than a timer per request: arming and disarming
    `asyncio.timeout` cost about a fifth of a stub answer's CPU time.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started: dict[asyncio.Task[Any], float] = {}
        self.cancelled: set[asyncio.Task[Any]] = set()
        self.sweeper: asyncio.Task[None] | None = None

    def watch(self, task: asyncio.Task[Any]) -> None:
        """Start the deadline of the body read ``task`` runs (and the sweep, on first use)."""
        loop = task.get_loop()
        self.started[task] = loop.time()
        if self.sweeper is None:
            self.sweeper = loop.create_task(self._sweep())

    def forget(self, task: asyncio.Task[Any]) -> None:
        """Stop watching ``task``: its read has ended, in time or not."""
        self.started.pop(task, None)
        self.cancelled.discard(task)

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Whether ``task`` was cancelled by its deadline, rather than by anything else."""
        return task in self.cancelled

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.timeout / 4))
            now = loop.time()
            for task, started in list(self.started.items()):
                if now - started > self.timeout and task not in self.cancelled:
                    self.cancelled.add(task)
                    task.cancel()
