"""One JSON Schema that admits what each of several schemas admits: how the interactions of one
operation (and the items of one list) share a schema.

Schemas here are the plain dicts schemas.py writes: `type` (a name or a sorted list of names), `const`
or `enum`, the keywords of one type (`pattern`, `items`, `properties`, ...) and `anyOf` for what cannot
be folded into one. The result is never narrower than either input; it may be wider (two patterns
become their alternation, lengths their hull).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_VALUE_KEYS = ("const", "enum")


def merged(first: Schema, second: Schema) -> Schema:
    """A schema every value of either admits."""
    if first == second:
        return first
    if not first or not second:
        return {}  # the empty schema admits anything, and so does the union with it
    if "anyOf" in first or "anyOf" in second:
        return _any_of(first, second)
    if _has_values(first) and _has_values(second):
        values = _values(first) + [v for v in _values(second) if not _contains(_values(first), v)]
        return _with_types({"enum": values}, _types(first) | _types(second))
    if _has_values(first) or _has_values(second):
        return _any_of(first, second)
    first_types, second_types = _types(first), _types(second)
    if first_types == second_types and len(first_types) == 1:
        return _same_type(next(iter(first_types)), first, second)
    if first_types.isdisjoint(second_types) and first_types and second_types:
        # Keywords are per type: a string's pattern says nothing of a null, so both sets can stand together.
        together = {**_without_type(first), **_without_type(second)}
        return _with_types(together, first_types | second_types)
    return _any_of(first, second)


def merged_all(schemas: list[Schema]) -> Schema:
    """The union of a non-empty list of schemas, folded left to right."""
    result = schemas[0]
    for schema in schemas[1:]:
        result = merged(result, schema)
    return result


def _same_type(kind: str, first: Schema, second: Schema) -> Schema:
    result: Schema = {"type": kind}
    if kind == "object":
        result.update(_objects(first, second))
    elif kind == "array":
        if "items" in first and "items" in second:
            result["items"] = merged(first["items"], second["items"])
        _hull(result, first, second, "minItems", "maxItems")
    elif kind == "string":
        patterns = [p for p in (first.get("pattern"), second.get("pattern")) if p is not None]
        if len(patterns) == 2:
            result["pattern"] = patterns[0] if patterns[0] == patterns[1] else _alternation(patterns)
        if first.get("format") is not None and first.get("format") == second.get("format"):
            result["format"] = first["format"]
        _hull(result, first, second, "minLength", "maxLength")
    elif kind in ("number", "integer"):
        _hull(result, first, second, "minimum", "maximum")
    for key in ("description",):
        if first.get(key) is not None and first.get(key) == second.get(key):
            result[key] = first[key]
    return result


def _objects(first: Schema, second: Schema) -> Schema:
    result: Schema = {}
    first_properties, second_properties = first.get("properties", {}), second.get("properties", {})
    properties = dict(first_properties)
    for name, schema in second_properties.items():
        properties[name] = merged(properties[name], schema) if name in properties else schema
    if properties:
        result["properties"] = properties
    required = [name for name in first.get("required", []) if name in second.get("required", [])]
    if required:
        result["required"] = required
    closed = (first.get("additionalProperties"), second.get("additionalProperties"))
    if closed[0] is False and closed[1] is False:
        result["additionalProperties"] = False
    elif isinstance(closed[0], dict) and isinstance(closed[1], dict):
        result["additionalProperties"] = merged(closed[0], closed[1])
    if first.get("propertyNames") is not None and first.get("propertyNames") == second.get("propertyNames"):
        result["propertyNames"] = first["propertyNames"]
    return result


def _hull(result: Schema, first: Schema, second: Schema, low: str, high: str) -> None:
    # A bound survives only if both have it: one without admits any length.
    if low in first and low in second:
        result[low] = min(first[low], second[low])
    if high in first and high in second:
        result[high] = max(first[high], second[high])


def _alternation(patterns: list[str]) -> str:
    return "|".join(f"(?:{pattern})" for pattern in patterns)


def _any_of(first: Schema, second: Schema) -> Schema:
    options: list[Schema] = []
    for schema in (first, second):
        for option in schema["anyOf"] if list(schema) == ["anyOf"] else [schema]:
            if option not in options:
                options.append(option)
    return options[0] if len(options) == 1 else {"anyOf": options}


def _types(schema: Schema) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return set()
    return {kind} if isinstance(kind, str) else set(kind)


def _with_types(schema: Schema, types: set[str]) -> Schema:
    if {"integer", "number"} <= types:
        types = types - {"integer"}  # every integer is a number
    if types:
        schema = {"type": next(iter(types)) if len(types) == 1 else sorted(types), **schema}
    return schema


def _without_type(schema: Schema) -> Schema:
    return {key: value for key, value in schema.items() if key != "type"}


def _has_values(schema: Schema) -> bool:
    return any(key in schema for key in _VALUE_KEYS)


def _values(schema: Schema) -> list[Any]:
    return [schema["const"]] if "const" in schema else list(schema["enum"])


def _contains(values: list[Any], value: Any) -> bool:
    # 1 == True in Python, not in JSON: compare the kinds as well.
    return any(type(v) is type(value) and v == value for v in values)
