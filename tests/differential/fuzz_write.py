"""How a fuzz case is written: its pact file, as a pact of its spec version writes it, and its probes as sent
on the wire. The strategies that draw the cases are in fuzz_pacts.py and fuzz_bodies.py."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from tests.differential.fuzz_values import PLACEHOLDER, V2, V4, Probe, Rule, Shape


def probe_of(kind: str, part: str, shape: Shape) -> Probe:
    target = "/" + "/".join(shape.segments)
    if shape.query:
        pairs = [(quote(n, safe=""), quote(v, safe="")) for n, v in shape.query]
        if shape.plus_for_space:
            pairs = [(n, v.replace("%20", "+")) for n, v in pairs]
        target += "?" + "&".join(f"{n}={v}" for n, v in pairs)
    if shape.raw_body is not None:
        body = shape.raw_body
    elif not shape.has_body:
        body = b""
    else:
        body = body_text(shape).encode()
    return Probe(0, kind, part, shape.method, target, tuple(shape.headers), body)


def body_text(shape: Shape) -> str:
    """The body as its content type writes it: JSON, plain text, or a form's `name=value&...`."""
    if shape.body_kind == "text":
        return str(shape.body)
    if shape.body_kind == "form":
        return "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in shape.body)
    return json.dumps(shape.body)


def pact_of(spec: str, shape: Shape, rules: dict[tuple[str, str], Rule], undeclared: set[str]) -> dict[str, Any]:
    """The pact file of one case, written the way a pact of `spec` writes it."""
    v2, v4 = spec == V2, spec == V4
    request: dict[str, Any] = {"method": shape.method, "path": "/" + "/".join(shape.segments)}
    if shape.query:
        if v2:
            request["query"] = "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in shape.query)
        else:
            request["query"] = {name: [v for n, v in shape.query if n == name] for name, _ in shape.query}
    headers = {n: [v] if v4 else v for n, v in shape.headers if n not in undeclared}
    if headers:
        request["headers"] = headers
    if shape.has_body:
        content = shape.body if shape.body_kind == "json" else body_text(shape)
        request["body"] = {"content": content, "contentType": shape.content_type, "encoded": False} if v4 else content
    if rules:
        request["matchingRules"] = _v2_rules(rules) if v2 else _v3_rules(rules)
    return pact_file(spec, request)


def pact_file(spec: str, request: dict[str, Any]) -> dict[str, Any]:
    """A pact file of `spec` holding one interaction: `request`, answered 200 with `{"case": <its prefix>}`."""
    v4 = spec == V4
    answer = {"case": PLACEHOLDER}
    response: dict[str, Any] = {
        "status": 200,
        "headers": {"Content-Type": ["application/json"] if v4 else "application/json"},
        "body": {"content": answer, "contentType": "application/json", "encoded": False} if v4 else answer,
    }
    interaction: dict[str, Any] = {"description": f"case {PLACEHOLDER}", "request": request, "response": response}
    if v4:
        interaction = {"type": "Synchronous/HTTP", "key": PLACEHOLDER, "pending": False, **interaction}
    return {
        "consumer": {"name": "fuzz-consumer"},
        "provider": {"name": f"fuzz-provider-{PLACEHOLDER}"},
        "interactions": [interaction],
        "metadata": {"pactSpecification": {"version": spec}},
    }


def _v2_rules(rules: dict[tuple[str, str], Rule]) -> dict[str, Rule]:
    prefixes = {"path": "$.path", "query": "$.query.", "header": "$.headers.", "body": "$.body"}
    return {
        prefixes[category] + (key[1:] if category == "body" else key): rule for (category, key), rule in rules.items()
    }


def _v3_rules(rules: dict[tuple[str, str], Rule]) -> dict[str, Any]:
    categories: dict[str, Any] = {}
    for (category, key), rule in rules.items():
        entry = {"matchers": [rule], "combine": "AND"}
        if category == "path":
            categories["path"] = entry
        else:
            categories.setdefault(category, {})[key] = entry
    return categories
