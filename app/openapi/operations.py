"""One OpenAPI operation from the interactions of one method on one path template.

Its parameters (query and headers) and request body hold what any of its interactions accepts; each
interaction's response is an example of its status, named after the interaction and given with its
provider states. What the mock itself answers besides the examples (a refused request's 400, a missing
credential's 401, an unknown path's 404) is documented too, so a client reads every answer it can get.
"""

from __future__ import annotations

import re
from typing import Any

from ..contract.model import Body, Interaction, RuleList
from .merging import Schema, merged, merged_all
from .schemas import BodySchema, anchored, json_type, temporal

PROBLEM_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Headers OpenAPI describes elsewhere (the body's media type, the security scheme): never parameters.
_NOT_PARAMETERS = frozenset({"content-type", "accept", "authorization"})
# What pactmock answers whatever the pacts say: status -> (problem type, why).
MOCK_ANSWERS = {
    400: ("contract-mismatch", "the request differs from every interaction on this route (`mismatches` says how)"),
    401: ("unauthorized", "the credential header the interactions expect is missing or in another form"),
    404: ("no-interaction", "no interaction has this path"),
}


def operation_of(interactions: list[Interaction], path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """The operation of these interactions (one method, one path template)."""
    operation: dict[str, Any] = {
        "summary": _summary(interactions),
        "description": describe_interactions(interactions),
        "tags": list(dict.fromkeys(i.contract.provider for i in interactions if i.contract is not None)),
    }
    parameters = [*path_parameters, *_parameters(interactions, "query"), *_parameters(interactions, "header")]
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(interactions)
    if body is not None:
        operation["requestBody"] = body
    security = security_of(interactions)
    if security is not None:
        operation["security"] = security
    operation["responses"] = _responses(interactions)
    add_mock_answer(operation, 400)
    if security is not None:
        add_mock_answer(operation, 401)
    if path_parameters:
        add_mock_answer(operation, 404)
    return operation


def _summary(interactions: list[Interaction]) -> str:
    first = interactions[0].description
    return first if len(interactions) == 1 else f"{first} (and {len(interactions) - 1} more interactions)"


def given(interaction: Interaction) -> str:
    """The interaction's provider states as a sentence, or the empty string."""
    states = [state.name + (f" {state.params}" if state.params else "") for state in interaction.provider_states]
    return "given " + "; ".join(f"'{state}'" for state in states) if states else ""


def describe_interactions(interactions: list[Interaction]) -> str:
    """A Markdown list of the interactions: description, provider states, status."""
    lines = ["The interactions of the pacts on this route:", ""]
    for interaction in interactions:
        states = given(interaction)
        pending = " (pending)" if interaction.pending else ""
        problem = f" **Not served**: {interaction.problem}." if interaction.problem else ""
        lines.append(
            f"- {interaction.description}{pending}{', ' + states if states else ''}"
            f" → {interaction.response.status}.{problem}"
        )
    return "\n".join(lines)


def _parameters(interactions: list[Interaction], place: str) -> list[dict[str, Any]]:
    found: dict[str, list[Schema]] = {}
    examples: dict[str, str] = {}
    present: dict[str, int] = {}
    for interaction in interactions:
        request = interaction.request
        values = request.query if place == "query" else request.headers
        rules = request.rules.get(place) or {}
        for name, given_values in values.items():
            key = name.lower() if place == "header" else name
            if key in _NOT_PARAMETERS and place == "header":
                continue
            rule = rules.get(name) or next((r for n, r in rules.items() if n.lower() == key), None)
            found.setdefault(key, []).append(_value_schema(given_values, rule))
            examples.setdefault(key, given_values[0] if given_values else "")
            present[key] = present.get(key, 0) + 1
    parameters = []
    for name, schemas in found.items():
        parameter: dict[str, Any] = {"name": name, "in": place, "schema": merged_all(schemas)}
        if present[name] == len(interactions):
            parameter["required"] = True
        parameter["example"] = examples[name]
        parameters.append(parameter)
    return parameters


def _value_schema(values: list[str], rule: RuleList | None) -> Schema:
    """A query or header value (all its repeats): held to its rule, else equal to the pact's."""
    example = values[0] if values else ""
    one = rule_schema(rule, example) if rule is not None else {"type": "string", "const": example}
    if len(values) <= 1:
        return one
    items = one if rule is not None else {"type": "string", "enum": list(dict.fromkeys(values))}
    return {"type": "array", "items": items, "minItems": len(values)}


def rule_schema(rule: RuleList, example: str) -> Schema:
    """The schema of a text value (query, header) under its rule."""
    options: list[Schema] = []
    for matcher in rule.matchers:
        kind = matcher.get("match")
        if kind == "regex":
            options.append({"type": "string", "pattern": anchored(str(matcher.get("regex", "")))})
        elif kind in ("integer", "decimal", "number"):
            options.append({"type": "integer" if kind == "integer" else "number"})
        elif kind in ("date", "time", "datetime", "timestamp"):
            options.append(temporal(matcher, kind))
        elif kind == "equality":
            options.append({"type": "string", "const": example})
        else:
            options.append({"type": "string"})
    if rule.combine == "OR":
        return merged_all(options)
    schema: Schema = {}
    for option in options:
        schema.update(option)
    return schema


def media_type(body: Body, headers: dict[str, list[str]]) -> str:
    """The body's media type without parameters: as the pact gives it, else from its kind."""
    given_type = body.content_type or next(
        (v[0] for k, v in headers.items() if k.lower() == "content-type" and v), None
    )
    if given_type:
        return given_type.split(";")[0].strip().lower()
    if isinstance(body.value, bytes):
        return "application/octet-stream"
    return "text/plain" if isinstance(body.value, str) else "application/json"


def body_schema(body: Body, kind: str, rules: Any, generators: Any, request: bool) -> Schema | None:
    """The schema of a body of this media type, or None for bytes (nothing a schema can say)."""
    value = body.value
    if isinstance(value, bytes):
        return None
    if isinstance(value, str) and not kind.endswith("json"):
        return {"type": "string"} if not request else {"type": "string", "const": value}
    return BodySchema(rules.get("body"), generators.get("body"), request=request).of(value)


def example_name(interaction: Interaction, taken: set[str]) -> str:
    """A name for the interaction's example, unique in its media type."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", interaction.description).strip("_")[:80] or "example"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name


def _example(interaction: Interaction, value: Any) -> dict[str, Any]:
    example: dict[str, Any] = {"summary": interaction.description}
    states = given(interaction)
    if states:
        example["description"] = states[0].upper() + states[1:]
    if not isinstance(value, bytes):
        example["value"] = value
    return example


def _content(entries: list[tuple[Interaction, Body, dict[str, list[str]], Any, Any]], request: bool) -> dict[str, Any]:
    content: dict[str, dict[str, Any]] = {}
    schemas: dict[str, list[Schema]] = {}
    names: dict[str, set[str]] = {}
    # A response's schema holds the example's kinds, never its values (schemas.py): thousands of interactions of
    # one shape under the same rules share one, and walking each body under its rules is most of the work.
    by_shape: dict[str, Schema | None] = {}
    for interaction, body, headers, rules, generators in entries:
        kind = media_type(body, headers)
        media = content.setdefault(kind, {})
        if request:
            schema = body_schema(body, kind, rules, generators, request)
        else:
            key = repr((kind, rules.get("body"), generators.get("body"), _shape(body.value)))
            if key not in by_shape:
                by_shape[key] = body_schema(body, kind, rules, generators, request)
            schema = by_shape[key]
        if schema is not None:
            schemas.setdefault(kind, []).append(schema)
        examples = media.setdefault("examples", {})
        examples[example_name(interaction, names.setdefault(kind, set()))] = _example(interaction, body.value)
    for kind, media in content.items():
        if kind in schemas:
            media["schema"] = _distinct_merged(schemas[kind])
    return content


def _shape(value: Any) -> Any:
    """The value with every leaf replaced by its JSON kind: what a response schema depends on besides the rules."""
    if isinstance(value, dict):
        return ("{", tuple((key, _shape(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("[", tuple(_shape(item) for item in value))
    return "bytes" if isinstance(value, bytes) else json_type(value)


def _distinct_merged(schemas: list[Schema]) -> Schema:
    # Thousands of interactions often share a few shapes: merge each distinct one once (a schema shared by
    # shape is the same object: its text is made once).
    distinct = list({repr(schema): schema for schema in {id(schema): schema for schema in schemas}.values()}.values())
    return merged_all(distinct)


def _request_body(interactions: list[Interaction]) -> dict[str, Any] | None:
    entries = [
        (i, i.request.body, i.request.headers, i.request.rules, i.request.generators)
        for i in interactions
        if i.request.body.present
    ]
    if not entries:
        return None
    return {"required": len(entries) == len(interactions), "content": _content(entries, request=True)}


def _responses(interactions: list[Interaction]) -> dict[str, Any]:
    by_status: dict[int, list[Interaction]] = {}
    for interaction in interactions:
        by_status.setdefault(interaction.response.status, []).append(interaction)
    responses: dict[str, Any] = {}
    for status in sorted(by_status):
        members = by_status[status]
        answer: dict[str, Any] = {"description": "; ".join(dict.fromkeys(i.description for i in members))}
        entries = [
            (i, i.response.body, i.response.headers, i.response.rules, i.response.generators)
            for i in members
            if i.response.body.present
        ]
        if entries:
            answer["content"] = _content(entries, request=False)
        headers = _response_headers(members)
        if headers:
            answer["headers"] = headers
        responses[str(status)] = answer
    return responses


def _response_headers(interactions: list[Interaction]) -> dict[str, Any]:
    headers: dict[str, Schema] = {}
    for interaction in interactions:
        response = interaction.response
        rules = response.rules.get("header") or {}
        for name, values in response.headers.items():
            if name.lower() == "content-type":
                continue
            rule = rules.get(name)
            # The mock's own answers (stateful, refusals) need not repeat a header: its schema is its kind.
            schema = rule_schema(rule, values[0]) if rule is not None and values else {"type": "string"}
            headers[name] = merged(headers[name], schema) if name in headers else schema
    return {name: {"schema": schema} for name, schema in headers.items()}


def security_of(interactions: list[Interaction]) -> list[dict[str, list[str]]] | None:
    """The security requirement: the scheme of the Authorization header the interactions send, if any."""
    schemes = [scheme_name(i.request.header("Authorization")) for i in interactions]
    named = list(dict.fromkeys(s for s in schemes if s is not None))
    if not named:
        return None
    requirement: list[dict[str, list[str]]] = [{name: []} for name in named]
    if None in schemes:
        requirement.append({})  # some interactions send none: the route is open too
    return requirement


def scheme_name(values: list[str] | None) -> str | None:
    """The security scheme an Authorization value belongs to: bearer, basic or another (a raw header)."""
    if not values:
        return None
    word = values[0].split(" ", 1)[0].lower()
    return word if word in ("bearer", "basic") else "authorization"


def add_mock_answer(operation: dict[str, Any], status: int, slug: str | None = None, why: str | None = None) -> None:
    """Document a problem+json answer the mock gives on this route, beside any the pacts give."""
    default_slug, default_why = MOCK_ANSWERS.get(status, ("", ""))
    slug, why = slug or default_slug, why or default_why
    responses = operation["responses"]
    answer = responses.setdefault(str(status), {"description": ""})
    line = f"pactmock answers `{slug}` when {why}."
    answer["description"] = (
        f"{answer['description']}\n\n{line}".strip() if line not in answer["description"] else answer["description"]
    )
    content = answer.setdefault("content", {})
    media = content.setdefault(PROBLEM_TYPE, {})
    current = media.get("schema")
    media["schema"] = PROBLEM_REF if current is None or current == PROBLEM_REF else merged(current, PROBLEM_REF)
