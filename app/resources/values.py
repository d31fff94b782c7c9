"""The values a model asks for: new ids, `$now` and `$body.<field>` references, query text read as a field's type."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from ..domain.errors import Invalid
from .hooks import HookCall
from .model import Collection

# An RFC 3339 date-time; group 1 is a fraction of a second, group 2 the zone (Z or an offset).
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Given:
    """What one request brings: its JSON body, query, path parameters and the time it is served at."""

    body: Any
    query: Mapping[str, list[str]]
    path: Mapping[str, str]
    # The time, or the clock to read it from when first needed: a plain read of an item never asks for it,
    # and reading the mock's clock costs a query.
    moment: datetime | Callable[[], datetime]
    # The routed interaction's response body, generators applied: the shape of what is answered.
    example: Callable[[], Any]
    # The route's call (request, store, example), handed on to the model file's hooks; None off a route.
    call: HookCall | None = None

    @cached_property
    def now(self) -> datetime:
        """The time this request is served at (read from the clock once)."""
        return self.moment if isinstance(self.moment, datetime) else self.moment()

    def body_object(self) -> dict[str, Any]:
        """The body as a JSON object ({} when there is none); anything else is refused."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise Invalid(f"the request body must be a JSON object, not {type(self.body).__name__}")
        return self.body


def timestamp(now: datetime) -> str:
    """`now` as RFC 3339 text with a Z, as most APIs write it."""
    return now.isoformat(timespec="seconds").replace("+00:00", "Z")


def fresh_times(document: dict[str, Any], example: Mapping[str, Any], sent: Mapping[str, Any], now: datetime) -> None:
    """A created item's times are its own: every top-level field the client did not send whose example is an
    RFC 3339 date-time (`created_at`, `updatedAt`) becomes `now`, written the way the example writes it."""
    for name, value in example.items():
        if name in sent or not isinstance(value, str):
            continue
        written = DATE_TIME.match(value)
        if written is None:
            continue
        text = now.astimezone(UTC).isoformat(timespec="milliseconds" if written.group(1) else "seconds")
        document[name] = text.replace("+00:00", "Z") if written.group(2) == "Z" else text


def resolve(value: Any, given: Given) -> Any:
    """A model value with its reference filled in: `$now`, `$body.f`, `$query.n`, `$path.n`; else the value."""
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    if value == "$now":
        return timestamp(given.now)
    source, _, name = value[1:].partition(".")
    if source == "body":
        return given.body_object().get(name)
    if source == "query":
        values = given.query.get(name)
        return values[0] if values else None
    if source == "path":
        return given.path.get(name)
    return value


def new_id(collection: Collection, number: Callable[[], int], seed: int = 0) -> str | int:
    """A fresh id for a created item, by the collection's strategy (`number` takes the next counter value).

    A uuid is drawn from (seed, collection, the counter's number): the same seed makes the same items, in
    any worker, after a restart.
    """
    rule = collection.ids
    if rule.strategy == "uuid":
        digest = hashlib.blake2b(f"{seed}\x1f{collection.name}\x1f{number()}".encode(), digest_size=16).digest()
        return str(uuid.UUID(bytes=digest, version=4))
    if rule.strategy == "prefixed":
        return f"{rule.prefix}{number():0{rule.width}d}"
    return number()


def as_field_type(text: str, example: Any) -> Any:
    """Query text read as the type the item's field has in the example (`?count=3` finds the integer 3)."""
    if isinstance(example, bool):
        return {"true": True, "false": False}.get(text.lower(), text)
    if isinstance(example, int):
        try:
            return int(text)
        except ValueError:
            return text
    if isinstance(example, float):
        try:
            return float(text)
        except ValueError:
            return text
    return text


def key_of(item_id: object) -> str:
    """An id as the store keys it: text, whatever its JSON type in the document."""
    return str(item_id)
