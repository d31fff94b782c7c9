"""Items of a generated (virtual) collection, made on demand from (model seed, collection, index) and never stored.

Every value is drawn from a generator seeded by a blake2b digest of (seed, collection, index, field) (drawn.py),
so an item is the same in every process, worker and backend, and one field's rule never shifts another's draws.
Making item 9,999,999 costs what item 0 costs: nothing loops over the index. How each field is made is worked
out once per collection (a `Recipe`); an item is then one call per field.

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

import hashlib
import re
import struct
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

from ..contract.match.regexes import RegexRefused, contract_regex
from ..contract.serve.regextext import text_for
from ..domain.errors import Invalid
from .drawn import TIME_MATCHERS, Ages, FieldSeeds, copied, in_utc, is_scalar, time_format, time_writer
from .model import MAX_GENERATED, Collection, ResourceModel

# Ages a date or time matcher gets when the model file says nothing: from a minute to about six months.
RULE_AGE = (60.0, 180 * 86_400.0)
# Type-matched text fields that read as labels: each item gets its own (`train-17`).
LABEL_FIELDS = ("name", "title")
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
    return _uuid_keys(model.seed, collection.name)[0]


@lru_cache(maxsize=256)
def _uuid_keys(seed: int, collection: str) -> tuple[int, int]:
    """(the uuids' high bits, the mask their low bits are xored with) of a collection under a seed."""
    high = (_digest(seed, collection, "uuid") & ~(0xF << 12)) | (0x4 << 12)
    return high, _digest(seed, collection, "uuid-mask") & _LOW_MASK


def _scramble(model: ResourceModel, collection: Collection, index: int) -> int:
    mixed = (index * _MIX) & _LOW_MASK
    return (mixed ^ (mixed >> _SHIFT)) ^ _uuid_keys(model.seed, collection.name)[1]


def _unscramble(model: ResourceModel, collection: Collection, low: int) -> int:
    shifted = low ^ _uuid_keys(model.seed, collection.name)[1]
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
    return recipe_of(model, collection).item(index, now)


# How one field of item i is made: (i, the item's id as text, the anchor time in UTC) -> the value.
FieldMaker = Callable[[int, str, datetime], Any]


class Recipe:
    """How each field of a collection's items is made, worked out once: an item is then one call per field."""

    def __init__(self, model: ResourceModel, collection: Collection) -> None:
        self.model, self.collection = model, collection
        overrides = collection.generated.fields if collection.generated else {}
        # A field the model file says how to make is made even where the pact's example item lacks it.
        fields = {**collection.example, **{name: None for name in overrides if name not in collection.example}}
        self.makers: list[tuple[str, FieldMaker | None]] = []  # None: the id
        for field, example in fields.items():
            seeds = FieldSeeds(model.seed, collection.name, field)
            if field == collection.ids.field:
                self.makers.append((field, None))
            elif field in overrides:
                written = time_format(collection.rules.get(field, ()))
                self.makers.append((field, _overridden(overrides[field], example, seeds, written)))
            elif field in collection.lookup:
                self.makers.append((field, partial(_lookup_value, collection, field)))
            else:
                self.makers.append((field, _by_rules(collection.rules.get(field, ()), field, example, seeds)))
        self.id_last = collection.ids.field not in fields

    def item(self, index: int, now: datetime) -> dict[str, Any]:
        """Item `index`, its times counted back from `now`."""
        the_id = item_id(self.model, self.collection, index)
        text_id = str(the_id)
        anchor = in_utc(now)
        item: dict[str, Any] = {}
        for field, make in self.makers:
            item[field] = the_id if make is None else make(index, text_id, anchor)
        if self.id_last:
            item[self.collection.ids.field] = the_id
        return item


# Recipes by (seed, collection object): a model's collections live as long as the server, and a page or a
# seeding chunk makes many items of one. The collection is kept beside its recipe, so an id is never reused.
_RECIPES: dict[tuple[int, int], tuple[Collection, Recipe]] = {}


def recipe_of(model: ResourceModel, collection: Collection) -> Recipe:
    """The collection's recipe under the model's seed, made on first use."""
    key = (model.seed, id(collection))
    found = _RECIPES.get(key)
    if found is not None and found[0] is collection:
        return found[1]
    if len(_RECIPES) > 256:  # models made over and over (tests): keep the memo small
        _RECIPES.clear()
    recipe = Recipe(model, collection)
    _RECIPES[key] = (collection, recipe)
    return recipe


def _lookup_value(collection: Collection, field: str, index: int, text_id: str, anchor: datetime) -> Any:
    return _labelled(collection, field, index, text_id)


def _constant(example: Any) -> FieldMaker:
    """The example's value in every item (a copy each time, unless nothing can change it)."""
    if is_scalar(example):
        return lambda index, text_id, anchor: example
    return lambda index, text_id, anchor: copied(example)


def _choice(choices: tuple[Any, ...], seeds: FieldSeeds) -> FieldMaker:
    """random.Random.choice(choices), copied unless every choice is a scalar."""
    count = len(choices)
    if all(is_scalar(choice) for choice in choices):
        return lambda index, text_id, anchor: choices[seeds.below(index, count)]
    return lambda index, text_id, anchor: copied(choices[seeds.below(index, count)])


def _whole(low: int, high: int, seeds: FieldSeeds) -> FieldMaker:
    """random.Random.randint(low, high): low plus a draw below the width."""
    width = high - low + 1
    if width <= 0:
        return lambda index, text_id, anchor: seeds.full(index).randint(low, high)  # its ValueError, as before
    return lambda index, text_id, anchor: low + seeds.below(index, width)


def _aged(ages: Ages, written: Callable[[datetime], Any], seeds: FieldSeeds) -> FieldMaker:
    return lambda index, text_id, anchor: written(ages.drawn(anchor, seeds.unit(index)))


def _overridden(rule: dict[str, Any], example: Any, seeds: FieldSeeds, written: str | None) -> FieldMaker:
    if rule.get("enum"):
        return _choice(tuple(rule["enum"]), seeds)
    if "range" in rule:
        low, high = rule["range"]
        if isinstance(low, float) or isinstance(high, float):
            # random.Random.uniform(low, high), written as it does.
            return lambda index, text_id, anchor: low + (high - low) * seeds.unit(index)
        return _whole(low, high, seeds)
    if "age" in rule:
        low, high = rule["age"]
        return _aged(Ages(float(low), float(high)), time_writer(example, written), seeds)
    if isinstance(rule.get("text"), str):
        template = rule["text"]
        return lambda index, text_id, anchor: fill_template(template, index, text_id)
    return _constant(example)  # a hook: the engine works the value out when the item is read


def _by_rules(rules: tuple[dict[str, Any], ...], field: str, example: Any, seeds: FieldSeeds) -> FieldMaker:
    """The first of the field's matchers that says how to make a value, else the example."""
    for rule in rules:
        kind = rule.get("match")
        if kind == "regex" and isinstance(rule.get("regex"), str):
            return _from_regex(rule["regex"], example, seeds)
        if kind in TIME_MATCHERS:
            return _aged(Ages(*RULE_AGE), time_writer(example, time_format((rule,))), seeds)
        if kind == "boolean":
            return _choice((True, False), seeds)
        if kind == "integer" or (kind == "number" and not isinstance(example, float)):
            return _whole(0, _scale(example), seeds)
        if kind in ("decimal", "number"):
            top = _scale(example)
            # round(random.Random.uniform(0, top), 2), written as uniform does.
            return lambda index, text_id, anchor: round(0 + (top - 0) * seeds.unit(index), 2)
        if kind == "type" and isinstance(example, str) and field in LABEL_FIELDS:
            return lambda index, text_id, anchor: f"{example}-{index}"
    return _constant(example)


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


def _from_regex(pattern: str, example: Any, seeds: FieldSeeds) -> FieldMaker:
    choices = literal_choices(pattern)
    if choices is not None:
        return _choice(choices, seeds)
    try:
        compiled = contract_regex(pattern)
    except RegexRefused:
        return _constant(example)  # the contract engine refuses it too: the example is all there is
    if isinstance(example, str) and compiled.fullmatch(example):
        return _constant(example)

    def made(index: int, text_id: str, anchor: datetime) -> Any:
        try:
            text = text_for(pattern, seeds.full(index))
        except ValueError:
            return copied(example)
        return text if compiled.fullmatch(text) else copied(example)

    return made
