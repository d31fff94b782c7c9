"""Pact V3/V4 generators: fresh values for a stub response's status, headers and body.

A contract carries example values; generators say which of them a provider would
produce anew (ids, timestamps, URLs pointing back at the mock). One random.Random
serves a whole response, so a seed makes every generated value reproducible.
"""

from __future__ import annotations

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
from datetime import UTC, datetime
from typing import Any

from ..match.regexes import RegexRefused, contract_regex
from ..match.rulepaths import INDEX_STAR, STAR, parse_path
from ..model import Body, Response
from .datetext import evaluate, format_java
from .regextext import ALPHANUMERIC, text_for
from .textgen import generate_in_text, text_body_kind

logger = logging.getLogger(__name__)

# With a seed, dates must not depend on the clock either.
_SEEDED_NOW = datetime(2024, 1, 1, tzinfo=UTC)
_DEFAULT_FORMATS = {"Date": "yyyy-MM-dd", "Time": "HH:mm:ss", "DateTime": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"}
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
    return "".join(rng.choice(ALPHANUMERIC) for _ in range(_count(definition, "size", 20)))


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


# --- Regex and dates: text written by regextext.py and datetext.py ----------------------------------------------
def _regex(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
    pattern = definition.get("regex")
    if not isinstance(pattern, str):
        raise ValueError("Regex generator needs a 'regex' string")
    try:
        contract_regex(pattern)  # what the matchers refuse, the generator does not produce text for either
    except RegexRefused as exc:
        raise ValueError(f"Regex generator cannot handle {pattern!r}: {exc}") from None
    return text_for(pattern, rng)


def _date_time(kind: str) -> _Generator:
    def generate(definition: dict[str, Any], current: Any, context: GeneratorContext, rng: random.Random) -> Any:
        now = _SEEDED_NOW if context.seed is not None else datetime.now(UTC)
        moment = evaluate(str(definition.get("expression") or ""), now)
        return format_java(definition.get("format") or _DEFAULT_FORMATS[kind], moment)

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
