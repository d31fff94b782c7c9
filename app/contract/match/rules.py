"""Single-value matchers: each returns None when the value passes, else a sentence.

Structural matchers (arrayContains, eachKey, eachValue, values) need to walk
into the value and live in the body walker; the length part of min/max type is
checked here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..model import MISSING
from .datetimes import DateFormatError, is_iso_date, is_iso_datetime, is_iso_time, matches_format
from .regexes import RegexRefused, contract_regex

STRUCTURAL = frozenset({"arrayContains", "eachKey", "eachValue", "values"})
# Matchers whose meaning is "same shape as the example": under them containers are descended.
TYPE_LIKE = frozenset({"type", "notEmpty", "values", "eachValue", "eachKey"})
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_STATUS_CLASSES = {
    "info": range(100, 200),
    "success": range(200, 300),
    "redirect": range(300, 400),
    "clientError": range(400, 500),
    "serverError": range(500, 600),
    "nonError": range(100, 400),
    "error": range(400, 600),
}


def kind_of(value: Any) -> str:
    """The JSON kind of a value, as used in messages and by the type matcher."""
    if value is None:
        return "null"
    if value is MISSING:
        return "nothing"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, bytes):
        return "bytes"
    return type(value).__name__


def show(value: Any) -> str:
    """A value as a message quotes it: JSON cut to 80 characters, bytes by their count, MISSING as "nothing"."""
    if value is MISSING:
        return "nothing"
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def described(value: Any) -> str:
    """A value with its JSON kind, for messages (`string "abc"`); null and nothing as they are."""
    if value is None or value is MISSING:
        return show(value)
    return f"{kind_of(value)} {show(value)}"


def values_equal(expected: Any, actual: Any) -> bool:
    """Equality with JSON's eyes: 1 == 1.0, but true is not 1 and "1" is not 1."""
    if kind_of(expected) != kind_of(actual):
        return False
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(values_equal(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(values_equal(e, a) for e, a in zip(expected, actual))
    return bool(expected == actual)


def as_text(value: Any) -> str | None:
    """The text a regex-like matcher sees; None for containers, which have none."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if value is None:
        return None
    return None


def check(
    matcher: dict[str, Any], expected: Any, actual: Any, *, stringly: bool = False, inherited: bool = False
) -> str | None:
    """Apply one matcher. ``stringly`` marks values that are text by nature
    (headers, query, path, XML), where "12" may pass the integer matcher."""
    kind = matcher.get("match", "equality")
    handler = _HANDLERS.get(kind)
    if handler is None:
        return f"matcher {kind!r} is not known to this mock"
    return handler(matcher, expected, actual, stringly, inherited)


def _equality(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    if "value" in m and not inherited:
        expected = m["value"]
    if values_equal(expected, actual):
        return None
    return f"expected {described(expected)} but got {described(actual)}"


def _regex(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    pattern = str(m.get("regex", ""))
    text = as_text(actual)
    try:
        compiled = contract_regex(pattern)
    except RegexRefused as exc:
        return f"the contract's {exc}"
    if text is not None and compiled.fullmatch(text):
        return None
    return f"expected a value matching /{pattern}/ but got {described(actual)}"


def _type(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    if type(expected) is type(actual) and type(actual) is not list:
        return None  # the common case, without naming kinds: one Python type is one JSON kind
    if kind_of(expected) != kind_of(actual) and not (stringly and isinstance(actual, str)):
        return f"expected {kind_of(expected)} (like {show(expected)}) but got {described(actual)}"
    if isinstance(actual, list) and not inherited:
        return _length(m, actual)
    return None


def _length(m: dict[str, Any], actual: list[Any]) -> str | None:
    low, high = m.get("min"), m.get("max")
    if low is not None and len(actual) < int(low):
        return f"expected at least {low} item(s) but got {len(actual)}"
    if high is not None and len(actual) > int(high):
        return f"expected at most {high} item(s) but got {len(actual)}"
    return None


def _include(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    needle = str(m.get("value", ""))
    text = as_text(actual)
    if text is not None and needle in text:
        return None
    return f"expected a value containing {show(needle)} but got {described(actual)}"


# Numbers written as text (headers, query, path, XML), read as the reference reads them: an integer is an
# unsigned 64-bit number ("+3" and "007" are, "-3" is not), a decimal or number any text a 64-bit float
# parses from ("386", "1e3", "-.5", "NaN", "inf"). No surrounding spaces.
_TEXT_INTEGER = re.compile(r"\+?[0-9]+")
_TEXT_FLOAT = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE)
_U64_MAX = 2**64 - 1


def _numeric(kind: str, actual: Any, stringly: bool) -> bool:
    if isinstance(actual, str) and stringly:
        if kind == "integer":
            return _TEXT_INTEGER.fullmatch(actual) is not None and int(actual) <= _U64_MAX
        return _TEXT_FLOAT.fullmatch(actual) is not None
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    if kind == "integer":
        return isinstance(actual, int)
    if kind == "decimal":
        return isinstance(actual, float)
    return True


def _number_kind(kind: str) -> Any:
    article = "an" if kind == "integer" else "a"

    def handler(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
        if _numeric(kind, actual, stringly):
            return None
        return f"expected {article} {kind} but got {described(actual)}"

    return handler


def _boolean(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    # In a JSON body the text "true" or "false" passes where the contract's own example is text (the
    # reference takes it wherever; a JSON boolean example keeps its kind, as the V4 conformance cases ask).
    if isinstance(actual, bool) or ((stringly or isinstance(expected, str)) and actual in ("true", "false")):
        return None
    return f"expected a boolean but got {described(actual)}"


def _null(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    return None if actual is None else f"expected null but got {described(actual)}"


def _temporal(kind: str) -> Any:
    iso_checks = {"date": is_iso_date, "time": is_iso_time, "datetime": is_iso_datetime}

    def handler(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
        pattern = m.get("format") or m.get(kind) or (m.get("timestamp") if kind == "datetime" else None)
        if not isinstance(actual, str):
            return f"expected a {kind} string but got {described(actual)}"
        try:
            ok = matches_format(actual, pattern) if pattern else iso_checks[kind](actual)
        except DateFormatError as exc:
            return f"the contract's {kind} format {pattern!r} is invalid: {exc}"
        if ok:
            return None
        wanted = f"format {pattern!r}" if pattern else "ISO 8601 form"
        return f"expected a {kind} in {wanted} but got {show(actual)}"

    return handler


def _not_empty(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    if actual is None or actual is MISSING or actual in ("", [], {}):
        return f"expected a non-empty value but got {show(actual)}"
    return _type(m, expected, actual, stringly, True)


def _semver(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    if isinstance(actual, str) and _SEMVER.fullmatch(actual):
        return None
    return f"expected a semantic version (like 1.2.3) but got {described(actual)}"


def _status_code(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    wanted = m.get("status")
    try:
        code = int(actual)
    except (TypeError, ValueError):
        return f"expected an HTTP status but got {described(actual)}"
    if isinstance(wanted, list):
        allowed = [int(x) for x in wanted]
        return None if code in allowed else f"expected status in {allowed} but got {code}"
    span = _STATUS_CLASSES.get(str(wanted))
    if span is None:
        return f"the contract's status class {wanted!r} is not one of {', '.join(_STATUS_CLASSES)}"
    return None if code in span else f"expected a {wanted} status ({span.start}-{span.stop - 1}) but got {code}"


def _content_type(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    wanted = str(m.get("value", "")).split(";")[0].strip().lower()
    found = sniff_content_type(actual)
    if found == wanted or (wanted.endswith("+json") and found == "application/json"):
        return None
    if wanted.startswith("text/") and found == "text/plain":
        return None
    return f"expected content of type {wanted} but it looks like {found}"


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
    (b"GIF8", "image/gif"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
)


def sniff_content_type(value: Any) -> str:
    """The media type a value's content looks like (a known file signature, markup, JSON, else text or bytes):
    what the contentType matcher checks, and the type a bytes answer that names none is sent as."""
    if isinstance(value, (dict, list)):
        return "application/json"
    data = value if isinstance(value, bytes) else str(value).encode()
    for magic, media in _MAGIC:
        if data.startswith(magic):
            return media
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return "text/html" if stripped[:15].lower().startswith(("<!doctype html", "<html")) else "application/xml"
    try:
        json.loads(text)
        return "application/json"
    # Nested deeper than the parser recurses is not JSON this mock can read either.
    except (ValueError, RecursionError):
        return "text/plain"


# Built by the engine, never read from a pact: a value of one of the listed JSON kinds (injection.py).
KINDS_MATCHER = "pactmock:kinds"


def _of_kinds(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    kinds = m.get("kinds") or ()
    if kind_of(actual) in kinds:
        return None
    return f"expected {' or '.join(kinds)} (a value a provider state sets) but got {described(actual)}"


def _structural(m: dict[str, Any], expected: Any, actual: Any, stringly: bool, inherited: bool) -> str | None:
    # The walker handles what is inside; here only the container's own kind counts.
    wanted = "array" if m.get("match") == "arrayContains" else None
    if wanted and not isinstance(actual, list):
        return f"expected an array but got {described(actual)}"
    if not wanted and not isinstance(actual, (dict, list)):
        return f"expected an object or array but got {described(actual)}"
    return None


_HANDLERS: dict[str, Any] = {
    "equality": _equality,
    "regex": _regex,
    "type": _type,
    "include": _include,
    "integer": _number_kind("integer"),
    "decimal": _number_kind("decimal"),
    "number": _number_kind("number"),
    "boolean": _boolean,
    "null": _null,
    "date": _temporal("date"),
    "time": _temporal("time"),
    "datetime": _temporal("datetime"),
    "notEmpty": _not_empty,
    "semver": _semver,
    "statusCode": _status_code,
    "contentType": _content_type,
    "arrayContains": _structural,
    "eachKey": _structural,
    "eachValue": _structural,
    "values": _structural,
    KINDS_MATCHER: _of_kinds,
}


def check_all(
    matchers: tuple[dict[str, Any], ...],
    combine: str,
    expected: Any,
    actual: Any,
    *,
    stringly: bool = False,
    inherited: bool = False,
) -> list[str]:
    """Failures of a rule list; with OR, none unless every matcher failed."""
    if len(matchers) == 1:  # the usual rule list: one matcher, AND and OR alike
        failure = check(matchers[0], expected, actual, stringly=stringly, inherited=inherited)
        return [failure] if failure else []
    failures = [f for m in matchers if (f := check(m, expected, actual, stringly=stringly, inherited=inherited))]
    if combine == "OR" and len(failures) < len(matchers):
        return []
    if combine == "OR" and failures:
        return [" or ".join(failures)]
    return failures
