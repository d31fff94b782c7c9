"""Where time has taken an item: its state worked out from the mock's clock whenever it is read.

Nothing polls. An item records the state it is in and when it entered it; each timed move's duration and
branch are drawn from (model seed, item, state, when it was entered), so every worker and backend works out
the same answer, and the engine stores it (the state never goes backwards, even if the clock is set back).
Terminal states never change.
"""

from __future__ import annotations

import hashlib
import random
import struct
from datetime import datetime, timedelta
from typing import Any

from .model import StateMachine, Timed

# When the item entered its state, unless the machine names a visible field for it.
SINCE = "~since"
# A read walks at most this many timed moves (a machine that loops would otherwise never stop).
MAX_MOVES = 1_000


def seeded(*parts: object) -> random.Random:
    """A random generator every process seeds alike from these parts (Python's hash() differs per process)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return SeededOnFirstDraw(struct.unpack("<Q", digest)[0])


class SeededOnFirstDraw(random.Random):
    """random.Random(number), seeded only when it first draws: seeding a Mersenne Twister costs more than most
    hooks do, and a page of generated items runs a hook per hooked field of each item whether or not it draws.
    Every draw goes through `random` or `getrandbits`, so each is the one random.Random(number) would make."""

    def __init__(self, number: int) -> None:  # not random.Random's: that would seed now
        self._number: int | None = number
        self.gauss_next = None

    def _seed_now(self) -> None:
        number, self._number = self._number, None
        super().seed(number)

    def random(self) -> float:
        """random.Random.random, once seeded."""
        if self._number is not None:
            self._seed_now()
        return super().random()

    def getrandbits(self, k: int, /) -> int:
        """random.Random.getrandbits, once seeded."""
        if self._number is not None:
            self._seed_now()
        return super().getrandbits(k)

    def seed(self, a: Any = None, version: int = 2) -> None:
        """Seeding again replaces the number it would have been seeded with."""
        self._number = None
        super().seed(a, version)


def since_field(machine: StateMachine) -> str:
    """The document key holding when the item entered its state."""
    return machine.since or SINCE


def entered(document: dict[str, Any], machine: StateMachine, when: datetime) -> None:
    """Record that the item entered its (new) state at `when`."""
    document[since_field(machine)] = when.isoformat()


def entered_at(document: dict[str, Any], machine: StateMachine) -> datetime | None:
    """When the item entered its state; None when it does not say (an item loaded from a fixture)."""
    text = document.get(since_field(machine))
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None


def advanced(document: dict[str, Any], machine: StateMachine, seed: int, key: str, now: datetime) -> bool:
    """Move the document along its timed moves up to `now`, in place; True when that changed it.

    An item that does not say when it entered its state starts its clock now (and that is a change to store).
    """
    since = entered_at(document, machine)
    if since is None:
        entered(document, machine, now)
        return True
    state = document.get(machine.field)
    moved = False
    for _ in range(MAX_MOVES):
        timed = machine.timed.get(str(state))
        if timed is None or state in machine.terminal:
            break
        draw = seeded(seed, key, state, since.isoformat())
        due = since + timedelta(seconds=_duration(timed, draw))
        if due > now:
            break
        state, since, moved = _branch(timed, draw), due, True
    if moved:
        document[machine.field] = state
        entered(document, machine, since)
    return moved


def _duration(timed: Timed, draw: random.Random) -> float:
    return timed.low if timed.high <= timed.low else draw.uniform(timed.low, timed.high)


def _branch(timed: Timed, draw: random.Random) -> str:
    roll, total = draw.random(), 0.0
    for state, probability in timed.to:
        total += probability
        if roll < total:
            return state
    return timed.to[-1][0]


def visible(document: dict[str, Any]) -> dict[str, Any]:
    """The document as a client sees it: the mock's own bookkeeping keys (`~...`) left out."""
    if not any(key.startswith("~") for key in document):
        return document
    return {key: value for key, value in document.items() if not key.startswith("~")}
