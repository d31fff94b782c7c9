"""Pact V3/V4 generators: fresh values for a stub response's status, headers and body.

A contract carries example values; generators say which of them a provider would
produce anew (ids, timestamps, URLs pointing back at the mock). One random.Random
serves a whole response, so a seed makes every generated value reproducible.
"""

from __future__ import annotations

import calendar
import copy
import dataclasses
import functools
import json
import logging
import random
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .model import Body, Response
from .paths import INDEX_STAR, STAR, parse_path
from .regexes import RegexRefused, contract_regex
from .textgen import generate_in_text, text_body_kind

logger = logging.getLogger(__name__)

_ALPHANUMERIC = string.ascii_letters + string.digits
_PRINTABLE = "".join(chr(code) for code in range(0x20, 0x7F))
_WORD = _ALPHANUMERIC + "_"
# Unbounded repetition (*, +, {n,}) stops this many repeats above its minimum.
_REPEAT_CAP = 5
# With a seed, dates must not depend on the clock either.
_SEEDED_NOW = datetime(2024, 1, 1, tzinfo=UTC)
_DEFAULT_FORMATS = {"Date": "yyyy-MM-dd", "Time": "HH:mm:ss", "DateTime": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"}
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@dataclass
class GeneratorContext:
    """What generators may draw on besides randomness: provider-state values, the mock's URL, a seed."""

    provider_state_params: dict[str, Any] = field(default_factory=dict)
    mock_server_url: str | None = None
    seed: int | None = None


_Generator = Callable[[dict[str, Any], Any, GeneratorContext, random.Random], Any]


def _text(value: Any) -> str:
    # JSON spelling, so True becomes "true" in headers and substituted expressions.
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def _like(value: Any, current: Any) -> Any:
    """Keeps the kind of the example: a string example gets a string back."""
    return _text(value) if isinstance(current, str) else value


def _number(definition: dict[str, Any], name: str, default: int) -> int:
    value = definition.get(name)
    return default if value is None else int(value)


def _count(definition: dict[str, Any], name: str, default: int) -> int:
    value = _number(definition, name, default)
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def _random_int(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    low, high = _number(definition, "min", 0), _number(definition, "max", 2147483647)
    if low > high:
        raise ValueError(f"RandomInt min {low} is greater than max {high}")
    return _like(rng.randint(low, high), current)


def _random_decimal(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    digits = _count(definition, "digits", 10)
    if digits < 1:
        raise ValueError("RandomDecimal needs at least one digit")
    if digits == 1:
        text = str(rng.randint(0, 9))
    else:
        # No leading zero in a multi-digit integer part and no trailing zero in the
        # fraction, so the number written out really has `digits` digits.
        whole = rng.randint(1, digits - 1)
        head = str(rng.randint(0, 9)) if whole == 1 else str(rng.randint(1, 9))
        head += "".join(rng.choice(string.digits) for _ in range(whole - len(head)))
        tail = "".join(rng.choice(string.digits) for _ in range(digits - whole - 1)) + str(rng.randint(1, 9))
        text = f"{head}.{tail}"
    return text if isinstance(current, str) else float(text)


def _random_hexadecimal(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    return "".join(rng.choice("0123456789abcdef") for _ in range(_count(definition, "digits", 10)))


def _random_string(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    return "".join(rng.choice(_ALPHANUMERIC) for _ in range(_count(definition, "size", 20)))


def _random_boolean(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    return _like(rng.random() < 0.5, current)


def _uuid(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    value = uuid.UUID(int=rng.getrandbits(128), version=4)
    formats = {
        "simple": value.hex,
        "lower-case-hyphenated": str(value),
        "upper-case-hyphenated": str(value).upper(),
        "URN": value.urn,
    }
    kind = definition.get("format") or "lower-case-hyphenated"
    if kind not in formats:
        raise ValueError(f"unknown Uuid format {kind!r} (expected one of {', '.join(formats)})")
    return formats[kind]


# --- Regex -----------------------------------------------------------------------------------------------------------
# Nodes are tuples: ("chars", candidates), ("seq", nodes), ("alt", nodes), ("repeat", node, low, high).
_Node = tuple[Any, ...]
_CLASS_ESCAPES = {
    "d": string.digits,
    "w": _WORD,
    "s": " ",
    "D": "".join(c for c in _PRINTABLE if c not in string.digits),
    "W": "".join(c for c in _PRINTABLE if c not in _WORD),
    "S": _PRINTABLE.replace(" ", ""),
}
_CONTROL_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
_QUANTIFIER = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")


class _RegexParser:
    """Recursive descent over the regex subset contracts use in practice."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0

    def fail(self, problem: str) -> ValueError:
        return ValueError(f"Regex generator cannot handle {self.pattern!r}: {problem} at position {self.pos}")

    def peek(self) -> str:
        return self.pattern[self.pos] if self.pos < len(self.pattern) else ""

    def parse(self) -> _Node:
        node = self.alternation()
        if self.pos < len(self.pattern):
            raise self.fail("unbalanced ')'")
        return node

    def alternation(self) -> _Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", tuple(branches))

    def sequence(self) -> _Node:
        items: list[_Node] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            if atom is not None:
                items.append(self.quantified(atom))
        return ("seq", tuple(items))

    def atom(self) -> _Node | None:
        char = self.peek()
        self.pos += 1
        if char in "^$":
            return None  # generated text is always the whole match
        if char == ".":
            return ("chars", _PRINTABLE)
        if char == "\\":
            return ("chars", self.escape())
        if char == "[":
            return ("chars", self.char_class())
        if char == "(":
            return self.group()
        if char in "*+?":
            raise self.fail(f"nothing to repeat before {char!r}")
        return ("chars", char)

    def group(self) -> _Node:
        if self.pattern.startswith("?:", self.pos):
            self.pos += 2
        elif named := re.match(r"\?P?<[A-Za-z_]\w*>", self.pattern[self.pos :]):
            self.pos += named.end()
        elif self.peek() == "?":
            raise self.fail("lookaround and inline flags are not supported")
        node = self.alternation()
        if self.peek() != ")":
            raise self.fail("missing ')'")
        self.pos += 1
        return node

    def quantified(self, atom: _Node) -> _Node:
        char = self.peek()
        if char == "?":
            low, high = 0, 1
        elif char == "*":
            low, high = 0, _REPEAT_CAP
        elif char == "+":
            low, high = 1, 1 + _REPEAT_CAP
        elif (found := _QUANTIFIER.match(self.pattern, self.pos)) and found.group(0) != "{}":
            low = int(found.group(1) or 0)
            high = low if not found.group(2) else int(found.group(3)) if found.group(3) else low + _REPEAT_CAP
            if high < low:
                raise self.fail(f"bad repetition {found.group(0)}")
            self.pos = found.end() - 1
        else:
            return atom
        self.pos += 1
        if self.peek() in ("?", "+"):  # lazy and possessive forms generate the same strings
            self.pos += 1
        if self.peek() in ("?", "*", "+"):
            raise self.fail("multiple repeat")
        return ("repeat", atom, low, high)

    def escape(self) -> str:
        char = self.peek()
        self.pos += 1
        if char in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[char]
        if char in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[char]
        width = {"x": 2, "u": 4}.get(char)
        if width:
            digits = self.pattern[self.pos : self.pos + width]
            if len(digits) != width or not all(c in string.hexdigits for c in digits):
                raise self.fail(f"bad \\{char} escape")
            self.pos += width
            return chr(int(digits, 16))
        if not char or char.isalnum():
            raise self.fail(f"unsupported escape \\{char}")
        return char

    def char_class(self) -> str:
        negate = self.peek() == "^"
        self.pos += negate
        members: set[str] = set()
        first = True
        while first or self.peek() != "]":
            if not self.peek():
                raise self.fail("unterminated character class")
            first = False
            start = self.class_member()
            if self.peek() == "-" and self.pattern[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                end = self.class_member()
                if len(start) != 1 or len(end) != 1 or start > end:
                    raise self.fail(f"bad range {start!r}-{end!r}")
                members.update(chr(code) for code in range(ord(start), ord(end) + 1))
            else:
                members.update(start)
        self.pos += 1
        chars = "".join(c for c in _PRINTABLE if c not in members) if negate else "".join(sorted(members))
        if not chars:
            raise self.fail("character class matches nothing printable")
        return chars

    def class_member(self) -> str:
        char = self.peek()
        self.pos += 1
        return self.escape() if char == "\\" else char


@functools.lru_cache(maxsize=256)
def _parse_regex(pattern: str) -> _Node:
    return _RegexParser(pattern).parse()


def _emit(node: _Node, rng: random.Random, out: list[str]) -> None:
    kind = node[0]
    if kind == "chars":
        out.append(rng.choice(node[1]))
    elif kind == "seq":
        for item in node[1]:
            _emit(item, rng, out)
    elif kind == "alt":
        _emit(rng.choice(node[1]), rng, out)
    else:
        for _ in range(rng.randint(node[2], node[3])):
            _emit(node[1], rng, out)


def _regex(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    pattern = definition.get("regex")
    if not isinstance(pattern, str):
        raise ValueError("Regex generator needs a 'regex' string")
    try:
        contract_regex(pattern)  # what the matchers refuse, the generator does not produce text for either
    except RegexRefused as exc:
        raise ValueError(f"Regex generator cannot handle {pattern!r}: {exc}") from None
    out: list[str] = []
    _emit(_parse_regex(pattern), rng, out)
    return "".join(out)


# --- Dates and times -------------------------------------------------------------------------------------------------
_EXPRESSION_BASE = re.compile(r"\s*(now|today|tomorrow|yesterday)?", re.IGNORECASE)
_EXPRESSION_TERM = re.compile(r"\s*([+-])\s*(\d+)\s*(second|minute|hour|day|week|month|year)s?\b", re.IGNORECASE)
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _add_months(moment: datetime, months: int) -> datetime:
    # Calendar months: Jan 31 + 1 month is the last day of February, not March 2.
    year, month = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _evaluate(expression: str, now: datetime) -> datetime:
    """Applies a Pact date expression such as "tomorrow", "+1 day +2 hours" or "-3 months" to now."""
    found = _EXPRESSION_BASE.match(expression)
    assert found is not None  # every part of the base pattern is optional
    base = (found.group(1) or "now").lower()
    moment = now + timedelta(days={"tomorrow": 1, "yesterday": -1}.get(base, 0))
    pos = found.end()
    while term := _EXPRESSION_TERM.match(expression, pos):
        amount = int(term.group(2)) * (-1 if term.group(1) == "-" else 1)
        unit = term.group(3).lower()
        if unit in ("month", "year"):
            moment = _add_months(moment, amount * (12 if unit == "year" else 1))
        else:
            moment += timedelta(seconds=amount * _UNIT_SECONDS[unit])
        pos = term.end()
    if expression[pos:].strip():
        raise ValueError(f"unsupported date expression {expression!r} (from {expression[pos:].strip()!r})")
    return moment


def _java_field(letter: str, count: int, moment: datetime) -> str:
    # Generated moments are always UTC, so every zone field prints the zero offset.
    numbers = {
        "d": moment.day,
        "D": moment.timetuple().tm_yday,
        "H": moment.hour,
        "k": moment.hour or 24,
        "K": moment.hour % 12,
        "h": moment.hour % 12 or 12,
        "m": moment.minute,
        "s": moment.second,
        "Q": (moment.month - 1) // 3 + 1,
        "q": (moment.month - 1) // 3 + 1,
    }
    if letter in numbers:
        return str(numbers[letter]).zfill(count)
    if letter in "yuY":
        year = moment.isocalendar().year if letter == "Y" else moment.year
        return f"{year % 100:02d}" if count == 2 else str(year).zfill(count)
    if letter in "ML":
        name = _MONTHS[moment.month - 1]
        return str(moment.month).zfill(count) if count <= 2 else name[:3] if count == 3 else name
    if letter == "E":
        name = _DAYS[moment.weekday()]
        return name if count >= 4 else name[:3]
    if letter == "S":
        return f"{moment.microsecond:06d}000".ljust(count, "0")[:count]
    if letter == "n":
        return str(moment.microsecond * 1000)
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "G":
        return "AD"
    zones = {"X": "Z", "x": ["+00", "+0000", "+00:00"][min(count, 3) - 1], "z": "UTC", "O": "GMT", "V": "UTC"}
    if letter in zones:
        return zones[letter]
    if letter == "Z":
        return "Z" if count >= 5 else "GMT" if count == 4 else "+0000"
    raise ValueError(f"date/time pattern letter {letter!r} is not supported by the generators")


def _format_java(pattern: str, moment: datetime) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "'":
            end = pattern.find("'", pos + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[pos + 1 : end] if end > pos + 1 else "'")  # '' is a literal quote
            pos = end + 1
        elif char.isascii() and char.isalpha():
            count = 1
            while pattern[pos + count : pos + count + 1] == char:
                count += 1
            out.append(_java_field(char, count, moment))
            pos += count
        else:
            # Optional sections are always printed: every field is available.
            if char not in "[]":
                out.append(char)
            pos += 1
    return "".join(out)


def _date_time(kind: str) -> _Generator:
    def generate(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
        now = _SEEDED_NOW if context.seed is not None else datetime.now(UTC)
        moment = _evaluate(str(definition.get("expression") or ""), now)
        return _format_java(definition.get("format") or _DEFAULT_FORMATS[kind], moment)

    return generate


# --- Values from the request's world ---------------------------------------------------------------------------------
def _convert(value: Any, data_type: str) -> Any:
    try:
        if data_type == "STRING":
            return _text(value)
        if data_type == "INTEGER":
            return int(value.strip() if isinstance(value, str) else value)
        if data_type in ("DECIMAL", "FLOAT"):
            return float(value)
        if data_type == "BOOLEAN":
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            if isinstance(value, bool | int):
                return bool(value)
            raise ValueError(f"not a boolean: {value!r}")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot convert {value!r} to {data_type}") from exc
    if data_type == "RAW":
        return value
    raise ValueError(f"unknown ProviderState dataType {data_type!r}")


def _provider_state(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    expression = str(definition.get("expression", ""))
    params = context.provider_state_params
    # Without ${...} the expression is itself the parameter name (as in pact-jvm and pact-reference).
    names = _PLACEHOLDER.findall(expression) or [expression]
    if any(name.strip() not in params for name in names):
        return current
    whole = _PLACEHOLDER.fullmatch(expression)
    if whole or "${" not in expression:
        value = params[names[0].strip()]
    else:
        value = _PLACEHOLDER.sub(lambda found: _text(params[found.group(1).strip()]), expression)
    data_type = definition.get("dataType")
    return _convert(value, str(data_type).upper()) if data_type else value


def _mock_server_url(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    example = current if isinstance(current, str) else definition.get("example")
    if context.mock_server_url is None or not isinstance(example, str):
        return current
    try:
        found = contract_regex(str(definition.get("regex", ""))).search(example)
    except RegexRefused as exc:
        raise ValueError(f"MockServerURL generator: {exc}") from None
    if not found or not found.groups():
        return current
    rest = found.group(1) or ""
    return context.mock_server_url.rstrip("/") + (rest if rest.startswith("/") else "/" + rest)


_GENERATORS: dict[str, _Generator] = {
    "RandomInt": _random_int,
    "RandomDecimal": _random_decimal,
    "RandomHexadecimal": _random_hexadecimal,
    "RandomString": _random_string,
    "RandomBoolean": _random_boolean,
    "Regex": _regex,
    "Uuid": _uuid,
    "Date": _date_time("Date"),
    "Time": _date_time("Time"),
    "DateTime": _date_time("DateTime"),
    "ProviderState": _provider_state,
    "MockServerURL": _mock_server_url,
}


def generate_value(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    """One value from one generator definition; `current` is the example value it replaces."""
    kind = definition.get("type")
    generator = _GENERATORS.get(kind) if isinstance(kind, str) else None
    if generator is None:
        logger.warning("unknown generator type %r: keeping the example value", kind)
        return current
    return generator(definition, current, context, rng)


# --- Whole responses -------------------------------------------------------------------------------------------------
def _replace_at(node: Any, tokens: tuple[str | int, ...], replace: Callable[[Any], Any]) -> Any:
    """Replaces every location the path tokens reach under node (mutating node, which is a private copy)."""
    if not tokens:
        return replace(node)
    head, rest = tokens[0], tokens[1:]
    if isinstance(node, dict):
        keys: list[Any] = list(node) if head == STAR else [head] if isinstance(head, str) and head in node else []
    elif isinstance(node, list):
        wild = head in (STAR, INDEX_STAR)
        keys = list(range(len(node))) if wild else [head] if isinstance(head, int) and 0 <= head < len(node) else []
    else:
        keys = []
    for key in keys:
        node[key] = _replace_at(node[key], rest, replace)
    return node


def apply_generators(response: Response, context: GeneratorContext) -> Response:
    """A copy of the response (never mutate the input: it is shared across requests) with status,
    header values and body values replaced by generated ones."""
    generators = response.generators
    # Seeding costs more than copying a small response: made on the first generator's call, not before.
    made: list[random.Random] = []

    def generate(category: str, key: str, definition: dict[str, Any], current: Any) -> Any:
        if not made:
            made.append(random.Random(context.seed) if context.seed is not None else random.Random())
        try:
            return generate_value(definition, current, context, made[0])
        except ValueError as exc:
            raise ValueError(f"{category} generator {key!r}: {exc}") from exc

    status = response.status
    for key, definition in generators.get("status", {}).items():
        generated = generate("status", key, definition, status)
        if isinstance(generated, bool) or not str(generated).strip().isdigit():
            raise ValueError(f"status generator {key!r} produced {generated!r}, not a status code")
        status = int(generated)

    headers = {name: list(values) for name, values in response.headers.items()}
    for key, definition in generators.get("header", {}).items():
        for name, values in headers.items():
            if name.lower() == key.lower():
                headers[name] = [_text(generate("header", key, definition, value)) for value in values]

    body = response.body
    body_generators = generators.get("body", {})
    if body_generators and body.present:
        text_kind = text_body_kind(body)
        if text_kind is not None:
            body = Body(generate_in_text(text_kind, body.value, body_generators, generate), body.content_type)
        else:
            value = copy.deepcopy(body.value)
            for key, definition in body_generators.items():
                tokens = parse_path(key) if key.strip() else ()
                if tokens and not isinstance(value, dict | list):
                    continue  # a text or binary body has no fields to reach
                if not tokens and isinstance(value, bytes):
                    continue
                value = _replace_at(value, tokens, functools.partial(generate, "body", key, definition))
            body = Body(value, body.content_type)

    return dataclasses.replace(response, status=status, headers=headers, body=body)
