"""Seeded draws and written times for generated items, made cheap enough to seed rows in bulk.

A field of item i draws from a Mersenne Twister seeded by the blake2b digest of (seed, collection, i, field),
the generator `random.Random(digest)` is. Seeding one is most of a field's cost, so the C generator
(`_random.Random`) is made directly, without `random.Random`'s Python-level `__init__` and `seed`, and the few
draws a field needs are written here as `random.Random` writes them (`choice`, `randint`, `uniform`: the same
calls on the same generator, so the same values as before this module). The digest's fixed parts are encoded
once per field.
"""

from __future__ import annotations

import math
import random
from _random import Random as Twister
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import Any

from ..contract.serve.datetext import format_java
from .values import DATE_TIME

# Matchers of dates and times (a pact's "timestamp" is read as "datetime"; both are taken).
TIME_MATCHERS = ("timestamp", "datetime", "date", "time")


class FieldSeeds:
    """The generators of one field of one collection under a seed, one per item index."""

    __slots__ = ("_head", "_tail")

    def __init__(self, seed: int, collection: str, field: str) -> None:
        # "\x1f".join(map(str, (seed, collection, index, field))), with only the index left to fill in.
        self._head = f"{seed}\x1f{collection}\x1f".encode()
        self._tail = f"\x1f{field}".encode()

    def number(self, index: int) -> int:
        """The 64-bit seed of item `index`'s generator."""
        digest = blake2b(self._head + str(index).encode() + self._tail, digest_size=8).digest()
        return int.from_bytes(digest, "little")

    def twister(self, index: int) -> Twister:
        """Item `index`'s generator: what random.Random(self.number(index)) holds, without its Python layer."""
        return Twister(self.number(index))

    def unit(self, index: int) -> float:
        """random.Random(...).random() of item `index`'s generator: a float in [0, 1)."""
        return Twister(self.number(index)).random()

    def below(self, index: int, count: int) -> int:
        """random.Random(...)._randbelow(count) of item `index`'s generator (count > 0): k random bits, drawn
        again while they are count or more."""
        twister = Twister(self.number(index))
        bits = count.bit_length()
        drawn = twister.getrandbits(bits)
        while drawn >= count:
            drawn = twister.getrandbits(bits)
        return drawn

    def full(self, index: int) -> random.Random:
        """The same generator as a full random.Random, for the rare draw that needs more than the ones above."""
        return random.Random(self.number(index))


def copied(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists and scalars): several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {key: copied(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [copied(inner) for inner in value]
    return value


def is_scalar(value: Any) -> bool:
    """Whether a value can be handed out as it is, with no copy (nothing can change it in place)."""
    return value is None or isinstance(value, str | int | float | bool)


# --- times ---------------------------------------------------------------------------------------------------


def time_format(rules: tuple[dict[str, Any], ...]) -> str | None:
    """The Java date/time pattern a field's date or time matcher asks for; None for RFC 3339 like the example."""
    for rule in rules:
        kind = rule.get("match")
        if kind in TIME_MATCHERS:
            written = rule.get("format") or rule.get(kind) or rule.get("timestamp")
            if isinstance(written, str) and written:
                return written
            return {"date": "yyyy-MM-dd", "time": "HH:mm:ss"}.get(str(kind))
    return None


def in_utc(now: datetime) -> datetime:
    """`now` as an aware UTC time (a naive one is read as UTC)."""
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)


class Ages:
    """Times `anchor` minus a log-uniform duration in [low, high] seconds (at least 1 s): as many minutes-old
    items as months-old ones, rather than nearly all of them months old."""

    __slots__ = ("_low", "_span")

    def __init__(self, low: float, high: float) -> None:
        low = max(low, 1.0)
        high = max(high, low)
        self._low = math.log(low)
        self._span = math.log(high) - self._low

    def drawn(self, anchor: datetime, unit: float) -> datetime:
        """`anchor` minus the duration at `unit` (in [0, 1)) of the log-uniform range."""
        return anchor - timedelta(seconds=math.exp(self._low + self._span * unit))


def time_writer(example: Any, java_format: str | None) -> Callable[[datetime], Any]:
    """How a moment is written for a field: the matcher's format, the example's RFC 3339 form (Z or offset,
    its fraction digits), epoch seconds or milliseconds for a number, else RFC 3339 with Z."""
    if java_format:
        return lambda moment: format_java(java_format, moment)
    if isinstance(example, int | float) and not isinstance(example, bool):
        if example > 1e11:
            return lambda moment: int(moment.timestamp() * 1000)
        return lambda moment: int(moment.timestamp())
    written = DATE_TIME.match(example) if isinstance(example, str) else None
    digits = len(written.group(1)) - 1 if written and written.group(1) else 0
    zone = "Z" if (written.group(2) if written else "Z") == "Z" else "+00:00"
    if not digits:
        return lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S") + zone
    kept = min(digits, 6)

    def with_fraction(moment: datetime) -> str:
        fraction = f"{moment.microsecond:06d}"[:kept].ljust(digits, "0")
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + "." + fraction + zone

    return with_fraction
