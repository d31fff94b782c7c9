"""Compare an actual request or response with the contract's, part by part.

Every mismatch is reported, not only the first, so an error can tell a client
everything it has to fix in one go.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from ..model import Body, Mismatch, Request, Response, RuleSet
from ..read.normalize import is_binary_type, is_json_type, normalize_request, normalize_response
from .jsonbody import Finding, JsonWalker
from .query import match_query
from .rulepaths import format_location
from .rules import check_all, show
from .uripath import decoded_path, decoded_regex, same_path
from .xmlbody import XmlSyntaxError, XmlWalker, parse_xml

_MEDIA_TYPE_HEADERS = ("content-type", "accept")


def compare_request(expected: dict[str, Any], actual: dict[str, Any], spec: str) -> list[Mismatch]:
    """Every way ``actual`` breaks the contract's ``expected`` request (both in pact-file form)."""
    return match_request(normalize_request(expected, spec), normalize_request(actual, spec))


def compare_response(expected: dict[str, Any], actual: dict[str, Any], spec: str) -> list[Mismatch]:
    """Every way ``actual`` breaks the contract's ``expected`` response (both in pact-file form)."""
    return match_response(normalize_response(expected, spec), normalize_response(actual, spec))


def match_request(
    expected: Request, actual: Request, *, ignored_headers: frozenset[str] = frozenset()
) -> list[Mismatch]:
    """Every way ``actual`` breaks ``expected``: method, path, query, headers (but ``ignored_headers``), body.
    A value of the form a provider state may inject is not held against it."""
    mismatches = match_method(expected, actual)
    mismatches += match_path(expected, actual)
    if expected.query or actual.query:  # most requests have none: nothing to compare
        mismatches += match_query(expected.query, actual.query, expected.rules.get("query"))
    mismatches += match_headers(expected.headers, actual.headers, expected.rules.get("header"), ignored_headers)
    mismatches += match_body(expected.body, actual.body, expected.rules.get("body"), is_request=True)
    if mismatches and expected.injected is not None:
        mismatches = expected.injected.forgive(mismatches, actual)
    return mismatches


def match_response(expected: Response, actual: Response) -> list[Mismatch]:
    """Every way ``actual`` breaks the contract's ``expected`` response: status, headers, body."""
    mismatches = match_status(expected, actual)
    mismatches += match_headers(expected.headers, actual.headers, expected.rules.get("header"))
    mismatches += match_body(expected.body, actual.body, expected.rules.get("body"), is_request=False)
    return mismatches


def _single_rule(expected_rules: dict[str, RuleSet], category: str, expected: Any, actual: Any) -> list[str] | None:
    ruleset = expected_rules.get(category) or {}
    rule = ruleset.get("") or next(iter(ruleset.values()), None)
    if rule is None:
        return None
    return check_all(rule.matchers, rule.combine, expected, actual, stringly=category != "status")


def match_method(expected: Request, actual: Request) -> list[Mismatch]:
    """The method compared without regard to case, or by the contract's method rule when it has one."""
    failures = _single_rule(expected.rules, "method", expected.method, actual.method.upper())
    if failures is None:
        failures = (
            []
            if expected.method.upper() == actual.method.upper()
            else [f"expected method {expected.method} but got {actual.method.upper()}"]
        )
    return [Mismatch("method", "$", expected.method, actual.method, text) for text in failures]


def match_path(expected: Request, actual: Request) -> list[Mismatch]:
    """Paths are URI paths: compared decoded, and a path regex may match the path as sent or its decoded text."""
    failures = _single_rule(expected.rules, "path", expected.path, actual.path)
    if failures:
        decoded = decoded_path(actual.path)
        passes_decoded = decoded != actual.path and not _single_rule(expected.rules, "path", expected.path, decoded)
        if passes_decoded or _decoded_rule_matches(expected.rules, expected.path, decoded):
            failures = []
    if failures is None:
        failures = (
            [] if same_path(expected.path, actual.path) else [f"expected path {expected.path} but got {actual.path}"]
        )
    return [Mismatch("path", "$", expected.path, actual.path, f"path: {text}") for text in failures]


def _decoded_rule_matches(rules: dict[str, RuleSet], expected: str, decoded: str) -> bool:
    """Whether the path rule passes the decoded path once the escapes its regexes spell out are decoded too."""
    rule = (rules.get("path") or {}).get("")
    if rule is None:
        return False
    matchers = tuple(
        {**m, "regex": decoded_regex(m["regex"]) or m["regex"]} if "regex" in m else m for m in rule.matchers
    )
    if matchers == rule.matchers:
        return False
    return not check_all(matchers, rule.combine, expected, decoded, stringly=True)


def match_status(expected: Response, actual: Response) -> list[Mismatch]:
    """The status compared exactly, or by the contract's status rule (a status class, say) when it has one."""
    failures = _single_rule(expected.rules, "status", expected.status, actual.status)
    if failures is None:
        failures = (
            [] if expected.status == actual.status else [f"expected status {expected.status} but got {actual.status}"]
        )
    return [Mismatch("status", "$", expected.status, actual.status, text) for text in failures]


def match_headers(
    expected: dict[str, list[str]],
    actual: dict[str, list[str]],
    ruleset: RuleSet | None,
    ignored: frozenset[str] = frozenset(),
) -> list[Mismatch]:
    """Every expected header but those in ``ignored``, found by name in any case; headers the contract lacks pass.
    Content-Type and Accept compare as media types, others as comma-separated values, unless a rule decides."""
    lowered_actual = {name.lower(): values for name, values in actual.items()}
    lowered_rules = {name.lower(): rule for name, rule in (ruleset or {}).items()}
    mismatches: list[Mismatch] = []
    for name, want_values in expected.items():
        key = name.lower()
        if key in ignored:
            continue
        want = ", ".join(want_values)
        got_values = lowered_actual.get(key)
        if got_values is None:
            mismatches.append(
                Mismatch("header", name, want, None, f"header {name!r} is missing (expected {show(want)})")
            )
            continue
        got = ", ".join(got_values)
        rule = lowered_rules.get(key)
        if rule is not None:
            failures = check_all(rule.matchers, rule.combine, want, got, stringly=True)
            if failures and len(got_values) > 1:
                failures = [
                    f for v in got_values for f in check_all(rule.matchers, rule.combine, want, v, stringly=True)
                ]
        elif key in _MEDIA_TYPE_HEADERS:
            failures = list(_media_types_differ(want, got))
        else:
            failures = [] if _split(want) == _split(got) else [f"expected {show(want)} but got {show(got)}"]
        mismatches += [Mismatch("header", name, want, got, f"header {name!r}: {text}") for text in failures]
    return mismatches


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")]


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """The type/subtype (lower-cased) and the parameters by lower-cased name, quotes removed:
    `text/html; Charset="utf-8"` -> (`text/html`, {`charset`: `utf-8`})."""
    media, *params = value.split(";")
    parsed = {}
    for param in params:
        key, _, val = param.partition("=")
        parsed[key.strip().lower()] = val.strip().strip('"')
    media = media.strip()
    # type/subtype is case-insensitive (RFC 9110); a bare token is an ordinary value.
    return (media.lower() if "/" in media else media), parsed


@functools.lru_cache(maxsize=1024)
def _media_types_differ(want: str, got: str) -> tuple[str, ...]:
    """Why `got` is not the media type(s) `want` names (remembered: clients send the same few again and again)."""
    wanted, found = _split(want), _split(got)
    if len(wanted) != len(found):
        return (f"expected {show(want)} but got {show(got)}",)
    for one_want, one_got in zip(wanted, found):
        want_type, want_params = parse_media_type(one_want)
        got_type, got_params = parse_media_type(one_got)
        if want_type != got_type:
            return (f"expected media type {want_type} but got {got_type}",)
        for key, value in want_params.items():
            actual_value = got_params.get(key)
            same = actual_value is not None and (
                actual_value.lower() == value.lower() if key == "charset" else actual_value == value
            )
            if not same:
                return (
                    f"expected parameter {key}={value} but got {key}={actual_value}"
                    if actual_value
                    else f"parameter {key}={value} is missing",
                )
    return ()


def body_kind(body: Body) -> str:
    """json, xml, form, text or binary: from the content type, else from the value itself."""
    content_type = (body.content_type or "").split(";")[0].strip().lower()
    if is_json_type(content_type):
        return "json"
    if content_type.endswith("/xml") or content_type.endswith("+xml"):
        return "xml"
    if content_type == "application/x-www-form-urlencoded":
        return "form"
    if is_binary_type(content_type):
        return "binary"
    value = body.value
    if isinstance(value, bytes):
        return "text" if content_type.startswith("text/") else "binary"
    if content_type.startswith("text/"):
        return "text"
    if isinstance(value, str):
        return "xml" if value.lstrip().startswith("<") else "text"
    return "json"


def _is_empty(body: Body) -> bool:
    return (not body.present) or body.value is None or body.value in ("", b"")


def match_body(expected: Body, actual: Body, ruleset: RuleSet | None, *, is_request: bool) -> list[Mismatch]:
    """Every way ``actual`` breaks ``expected``, compared as the kind of body the contract's is (`body_kind`).
    None when the contract says nothing of the body; ``is_request`` refuses keys and elements it lacks."""
    if not expected.present:
        return []
    if _is_empty(expected):
        if _is_empty(actual):
            return []
        return [Mismatch("body", "$", None, _shown(actual.value), "expected an empty body but got content")]
    if _is_empty(actual):
        return [Mismatch("body", "$", _shown(expected.value), None, "expected a body but got none")]
    kind = body_kind(expected)
    try:
        if kind == "json":
            return _json_body(expected.value, actual, ruleset, is_request)
        if kind == "xml":
            return _xml_body(expected.value, actual.value, ruleset, is_request)
        if kind == "form":
            return match_query(_form(expected.value), _form(actual.value), ruleset, part="body")
    except (XmlSyntaxError, UnicodeDecodeError) as exc:
        return [Mismatch("body", "$", None, None, str(exc))]
    want, got = expected.value, actual.value
    if kind == "text":
        # Text is text however it travelled (a V4 base64 body decodes to bytes).
        try:
            want = want.decode("utf-8") if isinstance(want, bytes) else want
            got = got.decode("utf-8") if isinstance(got, bytes) else got
        except UnicodeDecodeError:
            return [Mismatch("body", "$", None, None, "body is not valid UTF-8 text")]
    return _text_body(want, got, ruleset)


def _shown(value: Any) -> Any:
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else value


def _findings(findings: list[Finding]) -> list[Mismatch]:
    return [
        Mismatch(
            "body", format_location(f.location), f.expected, f.actual, f"{format_location(f.location)}: {f.message}"
        )
        for f in findings
    ]


# Python decodes "\ud800" alone into a string no UTF-8 can hold; a database refuses to store it.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _unstorable_text(value: Any) -> str | None:
    """Why decoded JSON cannot be written back out as UTF-8, or None when it can."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # Pairs were joined into one character while decoding: a surrogate left is alone.
        return "body is not valid JSON text: a \\u escape is half of a surrogate pair"
    except RecursionError:
        return "body is not valid JSON: arrays or objects nested too deeply"
    return None


def decode_json(actual: Body) -> Any:
    """The actual body as JSON; raises ValueError naming line and column when it is not."""
    value = actual.value
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            # The parser recurses once per level: a client's [[[[...]]]] must not take the request down.
            raise ValueError("body is not valid JSON: arrays or objects nested too deeply") from None
        problem = _unstorable_text(decoded) if _SURROGATE_ESCAPE.search(value) else None
        if problem:
            raise ValueError(problem)
        return decoded
    return value


def _json_body(expected: Any, actual: Body, ruleset: RuleSet | None, is_request: bool) -> list[Mismatch]:
    actual_type = (actual.content_type or "").split(";")[0].strip().lower()
    if isinstance(actual.value, (bytes, str)) and actual_type and not is_json_type(actual_type):
        return [Mismatch("body", "$", "application/json", actual_type, f"expected a JSON body but got {actual_type}")]
    try:
        value = decode_json(actual)
    except (ValueError, UnicodeDecodeError) as exc:
        return [Mismatch("body", "$", None, None, str(exc))]
    walker = JsonWalker(ruleset, allow_unexpected_keys=not is_request)
    walker.compare((), expected, value)
    return _findings(walker.findings)


def _xml_body(expected: Any, actual: Any, ruleset: RuleSet | None, is_request: bool) -> list[Mismatch]:
    walker = XmlWalker(ruleset, allow_unexpected=not is_request)
    walker.compare_root(parse_xml(expected), parse_xml(actual))
    return _findings(walker.findings)


def _form(value: Any) -> dict[str, list[str]]:
    text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    form: dict[str, list[str]] = {}
    for name, item in parse_qsl(text, keep_blank_values=True):
        form.setdefault(name, []).append(item)
    return form


def _text_body(expected: Any, actual: Any, ruleset: RuleSet | None) -> list[Mismatch]:
    if isinstance(expected, bytes) or isinstance(actual, bytes):
        return _binary_body(_as_bytes(expected), _as_bytes(actual), ruleset)
    want, got = str(expected), str(actual)
    rule = (ruleset or {}).get("$")
    if rule is not None:
        failures = check_all(rule.matchers, rule.combine, want, got, stringly=True)
    else:
        failures = [] if want == got else [f"expected body {show(want)} but got {show(got)}"]
    return [Mismatch("body", "$", want, got, f"body: {text}") for text in failures]


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _binary_body(want: bytes, got: bytes, ruleset: RuleSet | None) -> list[Mismatch]:
    rule = (ruleset or {}).get("$")
    if rule is not None:
        failures = check_all(rule.matchers, rule.combine, want, got)
    elif want != got:
        failures = [f"expected {len(want)} bytes of content but got {len(got)} different bytes"]
    else:
        failures = []
    return [Mismatch("body", "$", _shown(want), _shown(got), f"body: {text}") for text in failures]
