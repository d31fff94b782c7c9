"""Turn a request or response as written in a pact file of any version into the model."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from typing import Any
from urllib.parse import parse_qsl

from ..model import MISSING, Body, Generators, Request, Response, RuleList, Rules
from ..serve.injection import injected_of, with_injected_body

SINGLE_VALUE_CATEGORIES = ("path", "method", "status")
_MATCHER_ALIASES = {
    "min": "type",
    "max": "type",
    "minType": "type",
    "maxType": "type",
    "minmax": "type",
    "minMaxType": "type",
    "timestamp": "datetime",
    "real": "decimal",
}


class ContractError(ValueError):
    """A pact file or part of one that cannot be used; the message says why."""


def spec_of(version: str | None) -> str:
    """Map a pactSpecification version ("2.0.0", "3", "V4", ...) onto V1..V4."""
    text = (version or "").strip().upper().lstrip("V")
    if text.startswith("1.1"):
        return "V1.1"
    for major in "1234":
        if text.startswith(major):
            return f"V{major}"
    return "V2" if not text else "V3"


def normalize_request(raw: dict[str, Any], spec: str, rules: Rules | None = None) -> Request:
    """A request as a pact of version ``spec`` writes it, as the model; ContractError when it is unusable.
    ``rules``: its matchingRules already normalised (equal ones are shared: read/index.py)."""
    if not isinstance(raw, dict):
        raise ContractError("a request must be a JSON object")
    headers = _headers(raw.get("headers"))
    if rules is None:
        rules = normalize_rules(raw.get("matchingRules"), spec)
    generators = normalize_generators(raw.get("generators"))
    body = _body(raw, headers, spec)
    return Request(
        method=str(raw.get("method", "GET")).upper(),
        path=str(raw.get("path", "/")),
        query=parse_query(raw.get("query")),
        headers=headers,
        body=body,
        rules=with_injected_body(rules, generators, body.value) if generators else rules,
        generators=generators,
        injected=injected_of(generators) if generators else None,
    )


def normalize_response(raw: dict[str, Any], spec: str, rules: Rules | None = None) -> Response:
    """A response as a pact of version ``spec`` writes it, as the model; ContractError when it is unusable.
    ``rules``: its matchingRules already normalised."""
    if not isinstance(raw, dict):
        raise ContractError("a response must be a JSON object")
    headers = _headers(raw.get("headers"))
    status = raw.get("status", 200)
    try:
        status = int(status)
    except (TypeError, ValueError):
        raise ContractError(f"status {status!r} is not a number") from None
    return Response(
        status=status,
        headers=headers,
        body=_body(raw, headers, spec),
        rules=normalize_rules(raw.get("matchingRules"), spec) if rules is None else rules,
        generators=normalize_generators(raw.get("generators")),
    )


def parse_query(raw: Any) -> dict[str, list[str]]:
    """V1/V2 write the query as a string, V3/V4 as name -> list of values."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(raw, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        return query
    if isinstance(raw, dict):
        return {
            str(name): [_text(v) for v in values] if isinstance(values, list) else [_text(values)]
            for name, values in raw.items()
        }
    raise ContractError(f"query must be a string or an object, not {type(raw).__name__}")


def _headers(raw: Any) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ContractError("headers must be an object")
    return {
        str(name): [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
        for name, value in raw.items()
    }


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def content_type_of(headers: dict[str, list[str]]) -> str | None:
    """The first Content-Type value among ``headers`` (the name in any case), or None."""
    for name, values in headers.items():
        if name.lower() == "content-type" and values:
            return values[0]
    return None


def _body(raw: dict[str, Any], headers: dict[str, list[str]], spec: str) -> Body:
    content_type = content_type_of(headers)
    if "body" not in raw:
        return Body(MISSING, content_type)
    value = raw["body"]
    if spec == "V4" and isinstance(value, dict) and "content" in value:
        content_type = content_type or value.get("contentType")
        value = _v4_content(value)
    elif spec == "V4" and isinstance(value, dict) and not value:
        # pact-reference writes an absent V4 body as an empty object in some versions.
        return Body(MISSING, content_type)
    if isinstance(value, str) and is_json_type(content_type) and value.strip():
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    elif isinstance(value, str) and spec != "V4" and is_binary_type(content_type):
        # Pact writers store a binary body as base64 text (V4 says so with "encoded"); text that is not
        # base64 is kept as it is, as the reference does.
        with contextlib.suppress(binascii.Error, ValueError):
            value = base64.b64decode(value, validate=True)
    return Body(value, content_type)


def _v4_content(body: dict[str, Any]) -> Any:
    content = body.get("content")
    encoded = body.get("encoded", False)
    if not encoded or not isinstance(content, str):
        return content
    if str(encoded).lower() in ("json",):
        return json.loads(content)
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise ContractError("body is marked encoded but is not valid base64") from None
    if is_json_type(body.get("contentType")):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


def is_binary_type(content_type: str | None) -> bool:
    """Content the reference treats as bytes: anything but text, JSON, XML and forms (images, PDFs, multipart...)."""
    if not content_type:
        return False
    media = content_type.split(";")[0].strip().lower()
    main, _, sub = media.partition("/")
    if not sub or main == "text" or sub.endswith("xml"):
        return False
    return not (main == "application" and ("json" in sub or sub in ("graphql", "x-www-form-urlencoded")))


def is_json_type(content_type: str | None) -> bool:
    """Whether a content type is JSON: application/json or any `+json` type, parameters aside."""
    if not content_type:
        return False
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def normalize_rules(raw: Any, spec: str) -> Rules:
    """A pact's matchingRules (V2 `$.body...` paths or V3/V4 categories) as category -> path or name -> RuleList,
    with matcher aliases resolved; ContractError when they cannot be read."""
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise ContractError("matchingRules must be an object")
    if any(str(key).startswith("$") for key in raw):
        return _v2_rules(raw)
    rules: Rules = {}
    for category, entries in raw.items():
        category = "header" if category == "headers" else category
        if not isinstance(entries, dict):
            raise ContractError(f"matchingRules.{category} must be an object")
        if category in SINGLE_VALUE_CATEGORIES and ("matchers" in entries or "match" in entries):
            rules[category] = {"": _rule_list(entries)}
            continue
        ruleset = rules.setdefault(category, {})
        for key, entry in entries.items():
            if category == "body" and not str(key).startswith("$"):
                key = "$." + key
            ruleset[key] = _rule_list(entry)
    return rules


def _v2_rules(raw: dict[str, Any]) -> Rules:
    rules: Rules = {}
    for key, entry in raw.items():
        category, name = _v2_location(str(key))
        rules.setdefault(category, {})[name] = _rule_list(entry)
    return rules


def _v2_location(key: str) -> tuple[str, str]:
    for prefix, category in (("$.body", "body"), ("$.headers", "header"), ("$.query", "query")):
        if key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "["):
            rest = key[len(prefix) :]
            if category == "body":
                return category, "$" + rest
            return category, _strip_brackets(rest.lstrip("."))
    if key in ("$.path", "$.method", "$.status"):
        return key[2:], ""
    raise ContractError(f"matching rule path {key!r} does not name body, headers, query or path")


def _strip_brackets(name: str) -> str:
    if name.startswith("[") and name.endswith("]"):
        return name[1:-1].strip("'\"")
    return name


def path_rule_of(raw: Any) -> RuleList | None:
    """Only the path rule of a request's matchingRules: what routing needs before the rest is compiled.

    None when there is none or it cannot be read; compiling the whole request then reports why.
    """
    if not raw or not isinstance(raw, dict):
        return None
    key = "path" if "path" in raw else "$.path" if "$.path" in raw else None
    if key is None:
        return None
    try:
        return normalize_rules({key: raw[key]}, "V4").get("path", {}).get("")
    except ContractError:
        return None


def _rule_list(entry: Any) -> RuleList:
    if not isinstance(entry, dict):
        raise ContractError(f"a matching rule must be an object, not {entry!r}")
    if "matchers" in entry:
        matchers = entry["matchers"]
        if not isinstance(matchers, list):
            raise ContractError("matchers must be a list")
        combine = str(entry.get("combine", "AND")).upper()
        return _shared_rule_list([_checked_matcher(m) for m in matchers], combine)
    return _shared_rule_list([_checked_matcher(entry)], "AND")


# Nearly every matcher in a large pact is one of a handful ({"match": "type"}, the same regex on
# every Authorization header, ...): equal ones are built once and shared (they are never mutated).
# Keys hold each value's type, so {"min": 1} and {"min": True} stay apart. The tables are emptied
# when full, which costs sharing, never correctness, and keeps them bounded however long the mock runs.
_SHARED_LIMIT = 20_000
_shared_matchers: dict[tuple[Any, ...], dict[str, Any]] = {}
_shared_rule_lists: dict[tuple[Any, ...], RuleList] = {}


def _matcher_key(matcher: dict[str, Any]) -> tuple[Any, ...] | None:
    key = tuple(sorted((name, type(value), value) for name, value in matcher.items()))
    try:
        hash(key)
    except TypeError:
        return None  # a list or object inside (values, arrayContains, ...): kept as it is
    return key


def _shared_matcher(matcher: dict[str, Any], key: tuple[Any, ...] | None) -> dict[str, Any]:
    if key is None:
        return matcher
    if len(_shared_matchers) >= _SHARED_LIMIT:
        _shared_matchers.clear()
    return _shared_matchers.setdefault(key, matcher)


def _shared_rule_list(matchers: list[dict[str, Any]], combine: str) -> RuleList:
    keys = [_matcher_key(m) for m in matchers]
    shared = tuple(_shared_matcher(m, k) for m, k in zip(matchers, keys))
    if None in keys:
        return RuleList(shared, combine)
    key = (tuple(keys), combine)
    found = _shared_rule_lists.get(key)
    if found is None:
        if len(_shared_rule_lists) >= _SHARED_LIMIT:
            _shared_rule_lists.clear()
        found = _shared_rule_lists.setdefault(key, RuleList(shared, combine))
    return found


def _checked_matcher(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ContractError(f"a matcher must be an object, not {raw!r}")
    matcher = dict(raw)
    kind = matcher.get("match")
    if kind is None:
        if "regex" in matcher:
            kind = "regex"
        elif "min" in matcher or "max" in matcher:
            kind = "type"
        elif "timestamp" in matcher:
            kind = "datetime"
        elif "date" in matcher:
            kind = "date"
        elif "time" in matcher:
            kind = "time"
        else:
            kind = "equality"
    matcher["match"] = _MATCHER_ALIASES.get(kind, kind)
    return matcher


def normalize_generators(raw: Any) -> Generators:
    """A pact's generators as category -> path or name -> definition (a path's, method's or status's one
    under the key ``""``); ContractError when they cannot be read."""
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise ContractError("generators must be an object")
    generators: Generators = {}
    for category, entries in raw.items():
        category = "header" if category == "headers" else category
        if not isinstance(entries, dict):
            raise ContractError(f"generators.{category} must be an object")
        if category in SINGLE_VALUE_CATEGORIES and "type" in entries:
            generators[category] = {"": dict(entries)}
        else:
            generators[category] = {str(k): dict(v) for k, v in entries.items() if isinstance(v, dict)}
    return generators
