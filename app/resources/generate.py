"""Items of a generated (virtual) collection, made on demand from (model seed, collection, index) and never stored.

Every value is drawn from a generator seeded by a blake2b digest of (seed, collection, index, field), so an
item is the same in every process, worker and backend, and one field's rule never shifts another's draws.
Making item 9,999,999 costs what item 0 costs: nothing loops over the index.

How a field is made, first match wins:

1. the id field, by the id rule: counter `start + index`; prefixed `prefix` + `start + index` zero-padded to
   `width`; uuid a version-4 UUID whose 64 high bits come from the seed and whose low bits hold the index,
   scrambled (invertible); given, like a lookup field (below);
2. the model file's `generated.fields` entry: `{"enum": [...]}`, `{"range": [low, high]}` (an int, or a float
   when either bound is one), `{"age": [low, high]}` (the clock minus a log-uniform draw in [low, high]
   seconds, at least 1 s, in the format of the field's date matcher if it has one, else written like the
   example), `{"text": "wf-{index}"}` (`{index}` is the plain decimal index, `{index:6}` zero-pads it to 6
   digits, `{id}` is the item's id; the index is not padded to the count, which the control plane may change);
   a `{"hook": ...}` field keeps the example's value here: the engine runs the hook when the item is read;
3. a lookup field (`collection.lookup`): the example text with `-{index}` appended (an integer example plus
   the index), so it is unique per index and `index_of` can invert it;
4. the contract's matchers (`collection.rules`): a regex that is an alternation of literals is an enum; another
   regex keeps the example when it matches, else text made for the regex; integer, decimal, number, boolean;
   date, time and datetime an age within [60 s, 180 days] in the matcher's format; type on a string named
   `name` or `title` gets `-{index}` appended;
5. otherwise the example's value (a deep copy).
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
import re
import struct
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any

from ..contract.match.regexes import RegexRefused, contract_regex
from ..contract.serve.datetext import format_java
from ..contract.serve.regextext import text_for
from ..domain.errors import Invalid
from .model import MAX_GENERATED, Collection, ResourceModel
from .values import DATE_TIME

# Ages a date or time matcher gets when the model file says nothing: from a minute to about six months.
RULE_AGE = (60.0, 180 * 86_400.0)
# Type-matched text fields that read as labels: each item gets its own (`train-17`).
LABEL_FIELDS = ("name", "title")
# Matchers of dates and times (a pact's "timestamp" is read as "datetime"; both are taken).
TIME_MATCHERS = ("timestamp", "datetime", "date", "time")
# A uuid id: the low 62 bits (below the variant) hold the index, multiplied by an odd constant and xor-shifted
# so that neighbouring ids do not look alike; both steps are bijections on 62 bits, hence invertible.
_LOW_BITS = 62
_LOW_MASK = (1 << _LOW_BITS) - 1
_MIX = 0x9E3779B97F4A7C15 & _LOW_MASK | 1
_UNMIX = pow(_MIX, -1, 1 << _LOW_BITS)
_SHIFT = 31
# {index}, {index:6} (zero-padded to 6 digits) and {id} in a text template.
_TEMPLATE = re.compile(r"\{(index)(?::(\d+))?\}|\{(id)\}")
# An alternation of literal words, optionally anchored and grouped: ^(PENDING|RUNNING|COMPLETED)$.
_LITERAL = r"(?:[^\\.^$*+?{}\[\]|()]|\\[^A-Za-z0-9])*"
_ENUM = re.compile(rf"\^?(?:\((?:\?:)?({_LITERAL}(?:\|{_LITERAL})*)\)|({_LITERAL}(?:\|{_LITERAL})*))\$?")
_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _digest(*parts: object) -> int:
    """64 bits every process derives alike from these parts (Python's hash() differs per process)."""
    text = "\x1f".join(map(str, parts)).encode()
    return int(struct.unpack("<Q", hashlib.blake2b(text, digest_size=8).digest())[0])


# A field's generator, made only when the field needs a draw (seeding one costs more than most draws).
Draw = Callable[[], random.Random]


def _draw(model: ResourceModel, collection: Collection, index: int, field: str) -> random.Random:
    """The generator for one field of one item."""
    return random.Random(_digest(model.seed, collection.name, index, field))


def count_of(collection: Collection, override: int | None) -> int:
    """How many items the collection holds: the control plane's override, else the model file's count."""
    if override is not None:
        if isinstance(override, bool) or not isinstance(override, int) or not 0 <= override <= MAX_GENERATED:
            raise Invalid(f"a generated collection holds 0 to {MAX_GENERATED:,} items, not {override!r}")
        return override
    return collection.generated.count if collection.generated is not None else 0


# --- ids and lookup fields ------------------------------------------------------------------------------------


def item_id(model: ResourceModel, collection: Collection, index: int) -> str | int:
    """The id of item `index`."""
    rule = collection.ids
    if rule.strategy == "uuid":
        high = _uuid_high(model, collection)
        return str(uuid.UUID(int=(high << 64) | (0b10 << _LOW_BITS) | _scramble(model, collection, index)))
    if rule.strategy == "prefixed":
        return f"{rule.prefix}{rule.start + index:0{rule.width}d}"
    if rule.strategy == "counter":
        return rule.start + index
    return _labelled(collection, rule.field, index, "")


def _uuid_high(model: ResourceModel, collection: Collection) -> int:
    """The seed's 64 high bits of every uuid of the collection, version nibble set to 4."""
    return (_digest(model.seed, collection.name, "uuid") & ~(0xF << 12)) | (0x4 << 12)


def _scramble(model: ResourceModel, collection: Collection, index: int) -> int:
    mixed = (index * _MIX) & _LOW_MASK
    return (mixed ^ (mixed >> _SHIFT)) ^ (_digest(model.seed, collection.name, "uuid-mask") & _LOW_MASK)


def _unscramble(model: ResourceModel, collection: Collection, low: int) -> int:
    shifted = low ^ (_digest(model.seed, collection.name, "uuid-mask") & _LOW_MASK)
    # x ^ (x >> 31) on 62 bits is its own inverse: the second shift moves every bit out.
    return ((shifted ^ (shifted >> _SHIFT)) * _UNMIX) & _LOW_MASK


def _labelled(collection: Collection, field: str, index: int, the_id: str) -> Any:
    """A value unique to the index: the model file's text template, else the example with the index added."""
    override = collection.generated.fields.get(field, {}) if collection.generated else {}
    if isinstance(override.get("text"), str):
        return fill_template(override["text"], index, the_id)
    example = collection.example.get(field)
    if isinstance(example, int) and not isinstance(example, bool):
        return example + index
    if isinstance(example, str) and example:
        return f"{example}-{index}"
    return f"{field}-{index}"


def fill_template(template: str, index: int, the_id: str) -> str:
    """A `{"text": ...}` template with `{index}`, `{index:N}` (zero-padded to N digits) and `{id}` filled in."""

    def filled(found: re.Match[str]) -> str:
        if found.group(3):
            return the_id
        return f"{index:0{found.group(2)}d}" if found.group(2) else str(index)

    return _TEMPLATE.sub(filled, template)


@lru_cache(maxsize=256)
def _template_reader(template: str) -> re.Pattern[str]:
    """A regex reading a filled template back: group `index` (and `id`) at their first places."""
    pieces, last, named = [], 0, set()
    for found in _TEMPLATE.finditer(template):
        pieces.append(re.escape(template[last : found.start()]))
        name = "id" if found.group(3) else "index"
        body = ".+?" if name == "id" else "[0-9]+"
        pieces.append(f"(?P<{name}>{body})" if name not in named else f"(?:{body})")
        named.add(name)
        last = found.end()
    pieces.append(re.escape(template[last:]))
    return re.compile("".join(pieces))


def index_of(model: ResourceModel, collection: Collection, field: str, value: str, count: int) -> int | None:
    """The index of the item whose `field` (the id or a lookup field) holds `value`; None when no item's does."""
    value = str(value)
    if field == collection.ids.field:
        found = _id_index(model, collection, value)
    elif field in collection.lookup:
        found = _label_index(model, collection, field, value, count)
    else:
        return None
    if found is None or not 0 <= found < count:
        return None
    # Read back by making the value again: whatever was parsed, only an exact match is an item.
    if field == collection.ids.field:
        made = item_id(model, collection, found)
    else:
        made = _labelled(collection, field, found, str(item_id(model, collection, found)))
    return found if str(made) == value else None


def _id_index(model: ResourceModel, collection: Collection, value: str) -> int | None:
    rule = collection.ids
    if rule.strategy == "uuid":
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            return None
        if parsed.int >> 64 != _uuid_high(model, collection) or (parsed.int >> _LOW_BITS) & 0b11 != 0b10:
            return None  # made for another seed or collection, or not one of ours
        return _unscramble(model, collection, parsed.int & _LOW_MASK)
    if rule.strategy == "prefixed":
        digits = value[len(rule.prefix) :] if value.startswith(rule.prefix) else ""
        return int(digits) - rule.start if digits.isascii() and digits.isdigit() else None
    if rule.strategy == "counter":
        return int(value) - rule.start if _CANONICAL_INT.fullmatch(value) else None
    return _label_index(model, collection, rule.field, value, MAX_GENERATED)


def _label_index(model: ResourceModel, collection: Collection, field: str, value: str, count: int) -> int | None:
    override = collection.generated.fields.get(field, {}) if collection.generated else {}
    if isinstance(override.get("text"), str):
        found = _template_reader(override["text"]).fullmatch(value)
        if found is None:
            return None
        groups = found.groupdict()
        if groups.get("index") is not None:
            return int(groups["index"])
        if groups.get("id") is not None and field != collection.ids.field:
            return _id_index(model, collection, groups["id"])
        return None  # a template with neither names no single item
    example = collection.example.get(field)
    if isinstance(example, int) and not isinstance(example, bool):
        return int(value) - example if _CANONICAL_INT.fullmatch(value) else None
    stem = f"{example}-" if isinstance(example, str) and example else f"{field}-"
    digits = value[len(stem) :] if value.startswith(stem) else ""
    return int(digits) if digits.isascii() and digits.isdigit() else None


# --- one item ------------------------------------------------------------------------------------------------


def generated_item(model: ResourceModel, collection: Collection, index: int, now: datetime) -> dict[str, Any]:
    """Item `index` (0-based) of the virtual collection: every top-level field of the example, and the id."""
    the_id = item_id(model, collection, index)
    overrides = collection.generated.fields if collection.generated else {}
    item: dict[str, Any] = {}
    # A field the model file says how to make is made even where the pact's example item lacks it.
    fields = {**collection.example, **{name: None for name in overrides if name not in collection.example}}
    for field, example in fields.items():
        if field == collection.ids.field:
            item[field] = the_id
        elif field in overrides:
            draw = partial(_draw, model, collection, index, field)
            written = time_format(collection.rules.get(field, ()))
            item[field] = _overridden(overrides[field], example, index, str(the_id), now, draw, written)
        elif field in collection.lookup:
            item[field] = _labelled(collection, field, index, str(the_id))
        else:
            rules = collection.rules.get(field, ())
            item[field] = _by_rules(rules, field, example, index, now, partial(_draw, model, collection, index, field))
    item.setdefault(collection.ids.field, the_id)
    return item


def _overridden(
    rule: dict[str, Any], example: Any, index: int, the_id: str, now: datetime, draw: Draw, written: str | None
) -> Any:
    if rule.get("enum"):
        return copy.deepcopy(draw().choice(list(rule["enum"])))
    if "range" in rule:
        low, high = rule["range"]
        if isinstance(low, float) or isinstance(high, float):
            return draw().uniform(low, high)
        return draw().randint(low, high)
    if "age" in rule:
        low, high = rule["age"]
        return _written_time(_aged(now, float(low), float(high), draw()), example, written)
    if isinstance(rule.get("text"), str):
        return fill_template(rule["text"], index, the_id)
    return copy.deepcopy(example)  # a hook: the engine works the value out when the item is read


def _by_rules(
    rules: tuple[dict[str, Any], ...], field: str, example: Any, index: int, now: datetime, draw: Draw
) -> Any:
    for rule in rules:
        kind = rule.get("match")
        if kind == "regex" and isinstance(rule.get("regex"), str):
            return _from_regex(rule["regex"], example, draw)
        if kind in TIME_MATCHERS:
            return _written_time(_aged(now, *RULE_AGE, draw()), example, time_format((rule,)))
        if kind == "boolean":
            return draw().choice((True, False))
        if kind == "integer" or (kind == "number" and not isinstance(example, float)):
            return draw().randint(0, _scale(example))
        if kind in ("decimal", "number"):
            return round(draw().uniform(0, _scale(example)), 2)
        if kind == "type" and isinstance(example, str) and field in LABEL_FIELDS:
            return f"{example}-{index}"
    return copy.deepcopy(example)


def _scale(example: Any) -> int:
    """The top of a number's range: about twice the example's size, at least 10."""
    size = abs(example) if isinstance(example, int | float) and not isinstance(example, bool) else 0
    return max(10, int(2 * size))


@lru_cache(maxsize=1024)
def literal_choices(pattern: str) -> tuple[str, ...] | None:
    """The words of a regex that is an alternation of literals (`^(PENDING|RUNNING)$`), else None."""
    found = _ENUM.fullmatch(pattern)
    if found is None:
        return None
    words = (found.group(1) if found.group(1) is not None else found.group(2)).split("|")
    return tuple(re.sub(r"\\(.)", r"\1", word) for word in words)


def _from_regex(pattern: str, example: Any, draw: Draw) -> Any:
    choices = literal_choices(pattern)
    if choices is not None:
        return draw().choice(choices)
    try:
        compiled = contract_regex(pattern)
    except RegexRefused:
        return copy.deepcopy(example)  # the contract engine refuses it too: the example is all there is
    if isinstance(example, str) and compiled.fullmatch(example):
        return example
    try:
        text = text_for(pattern, draw())
    except ValueError:
        return copy.deepcopy(example)
    return text if compiled.fullmatch(text) else copy.deepcopy(example)


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


def _aged(now: datetime, low: float, high: float, draw: random.Random) -> datetime:
    """`now` minus a log-uniform duration in [low, high] seconds (at least 1 s): as many minutes-old items as
    months-old ones, rather than nearly all of them months old."""
    low = max(low, 1.0)
    high = max(high, low)
    seconds = math.exp(draw.uniform(math.log(low), math.log(high)))
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    return moment.astimezone(UTC) - timedelta(seconds=seconds)


def _written_time(moment: datetime, example: Any, java_format: str | None) -> Any:
    """A moment written like the field wants it: the matcher's format, the example's RFC 3339 form (Z or
    offset, its fraction digits), epoch seconds or milliseconds for a number, else RFC 3339 with Z."""
    if java_format:
        return format_java(java_format, moment)
    if isinstance(example, int | float) and not isinstance(example, bool):
        return int(moment.timestamp() * 1000) if example > 1e11 else int(moment.timestamp())
    written = DATE_TIME.match(example) if isinstance(example, str) else None
    digits = len(written.group(1)) - 1 if written and written.group(1) else 0
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[: min(digits, 6)].ljust(digits, "0")
    zone = written.group(2) if written else "Z"
    return text + ("Z" if zone == "Z" else "+00:00")
