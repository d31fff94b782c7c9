"""JSON Schemas from a pact's examples and matching rules, as the mock judges them.

A request is held strictly (a value no rule loosens must equal the example, a key the example lacks is
refused), so its schema says so with `const` and `additionalProperties: false`. A response is what the
mock may answer: a stub replays the example, a stateful provider answers from its state shaped like the
example, so its schema keeps the example's keys and types but not its values. Rules are chosen by the
matcher's own rule selection (contract/match/rulepaths.py), so a rule inherited from a parent applies here
exactly where it applies when the mock compares.
"""

from __future__ import annotations

import re
from typing import Any

from ..contract.match.rulepaths import Location, RuleChoice, parse_path, rule_selector
from ..contract.match.rules import TYPE_LIKE
from ..contract.model import RuleList, RuleSet
from .merging import Schema, merged, merged_all

# The semantic-version matcher's grammar (pact's `semver`), for a schema's pattern.
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
# Pact date formats (Java's letters) that are the RFC 3339 forms JSON Schema's `format` names.
_ISO_FORMATS = {
    "date": ("yyyy-MM-dd",),
    "date-time": (
        "yyyy-MM-dd'T'HH:mm:ssXXX",
        "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
        "yyyy-MM-dd'T'HH:mm:ss'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
        "yyyy-MM-dd'T'HH:mm:ssZZZZZ",
    ),
}
_REGEX_SPECIALS = re.compile(r"([\\^$.|?*+()\[\]{}])")
# Generators that make a value of a known kind (the example's kind otherwise).
_GENERATED = {
    "RandomInt": {"type": "integer"},
    "RandomDecimal": {"type": "number"},
    "RandomBoolean": {"type": "boolean"},
    "RandomHexadecimal": {"type": "string", "pattern": "^[0-9a-fA-F]*$"},
    "RandomString": {"type": "string"},
    "Uuid": {"type": "string", "format": "uuid"},
    "MockServerURL": {"type": "string"},
}


def literal_pattern(text: str) -> str:
    """A regex matching exactly this text (escaping only what regex dialects agree on)."""
    return "^" + _REGEX_SPECIALS.sub(r"\\\1", text) + "$"


def anchored(pattern: str) -> str:
    """A pact regex (matched against the whole value) as a JSON Schema pattern (which searches)."""
    if pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern
    return f"^(?:{pattern})$"


def json_type(value: Any) -> str:
    """The JSON Schema type of an example value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class BodySchema:
    """The schema of one JSON body: its example walked under its rules and generators."""

    def __init__(self, ruleset: RuleSet | None, generators: dict[str, dict[str, Any]] | None, *, request: bool):
        self.rule_at = rule_selector(ruleset)  # the rule memo of this rule set, found once for the whole walk
        self.request = request
        self.generated = {parse_path(expression): definition for expression, definition in (generators or {}).items()}

    def of(self, example: Any) -> Schema:
        """The schema of the whole body."""
        return self.at((), example)

    def at(self, location: Location, example: Any) -> Schema:
        """The schema of the value at `location`, whose example is `example`."""
        choice = self.rule_at(location)
        if choice is not None and not (not choice.exact and choice.only_equality):
            schema = self._ruled(location, example, choice)
        else:
            schema = self._plain(location, example)
        generator = self._generator_at(location)
        if generator is not None:
            schema = _generated(schema, generator, example)
        return schema

    def _plain(self, location: Location, example: Any) -> Schema:
        if isinstance(example, dict):
            return self._object(location, example)
        if isinstance(example, list):
            items = [self.at((*location, index), item) for index, item in enumerate(example)]
            schema: Schema = {"type": "array"}
            if items:
                schema["items"] = merged_all(items)
            if self.request:
                # Without a rule a request's list must be the example's, item for item.
                schema["minItems"] = schema["maxItems"] = len(example)
            return schema
        return self.exact(example)

    def exact(self, example: Any) -> Schema:
        """A value no rule loosens: the example itself in a request, its kind in a response."""
        if self.request:
            return {"type": json_type(example), "const": example}
        return {"type": json_type(example)}

    def _object(self, location: Location, example: dict[str, Any]) -> Schema:
        schema: Schema = {"type": "object"}
        if example:
            schema["properties"] = {key: self.at((*location, key), value) for key, value in example.items()}
            schema["required"] = list(example)
        if self.request:
            schema["additionalProperties"] = False
        return schema

    def _ruled(self, location: Location, example: Any, choice: RuleChoice) -> Schema:
        options = [self._matcher(location, matcher, example, choice) for matcher in choice.matchers]
        if not options:
            return self._plain(location, example)
        if choice.rules.combine == "OR":
            return merged_all(options)
        schema: Schema = {}
        for option in options:  # AND: every matcher holds, so their keywords stand together
            schema.update(option)
        if isinstance(example, (dict, list)) and choice.kinds & TYPE_LIKE:
            schema.update(self._contents(location, example, choice))
        return schema

    def _matcher(self, location: Location, matcher: dict[str, Any], example: Any, choice: RuleChoice) -> Schema:
        kind = matcher.get("match")
        if kind == "equality":
            return self._plain(location, example)
        if kind == "regex" and isinstance(example, str):
            return {"type": "string", "pattern": anchored(str(matcher.get("regex", "")))}
        if kind in ("type", "notEmpty", "contentType", "values", "eachKey", "eachValue", "arrayContains"):
            return _by_kind(matcher, example, not_empty=kind == "notEmpty", request=self.request)
        if kind in ("integer", "decimal", "number", "boolean", "null"):
            return {"type": {"decimal": "number"}.get(kind, kind)}
        if kind == "include":
            return {"type": "string", "pattern": _REGEX_SPECIALS.sub(r"\\\1", str(matcher.get("value", "")))}
        if kind in ("date", "time", "datetime", "timestamp"):
            return temporal(matcher, kind)
        if kind == "semver":
            return {"type": "string", "pattern": SEMVER_PATTERN}
        return {"type": json_type(example)}

    def _contents(self, location: Location, example: dict[str, Any] | list[Any], choice: RuleChoice) -> Schema:
        """What a type-like rule says of a container's contents: each item (or value) like the example's."""
        each_value = next((m for m in choice.matchers if m["match"] == "eachValue"), None)
        if isinstance(example, list):
            source = example or ([each_value["value"]] if each_value and "value" in each_value else [])
            if not source:
                return {}
            return {
                "items": merged_all([self._child((*location, i), item, each_value) for i, item in enumerate(source)])
            }
        if choice.kinds & {"values", "eachValue", "eachKey"}:
            schema: Schema = {}
            each_key = next((m for m in choice.matchers if m["match"] == "eachKey"), None)
            if each_key is not None:
                names = [_name_rule(rule) for rule in each_key.get("rules", ())]
                if names and all(names):
                    schema["propertyNames"] = names[0] if len(names) == 1 else {"allOf": names}
                if not choice.kinds & {"values", "eachValue"}:
                    return schema  # eachKey holds the keys only: values are free
            if example:
                values = [self._child((*location, key), value, each_value) for key, value in example.items()]
                schema["additionalProperties"] = merged_all(values)
            return schema
        return self._object(location, example)

    def _child(self, location: Location, example: Any, each_value: dict[str, Any] | None) -> Schema:
        if each_value is None:
            return self.at(location, example)
        choice = self.rule_at(location)
        if choice is not None and choice.exact:
            return self._ruled(location, example, choice)
        rules = RuleList(tuple(each_value.get("rules", ())) or ({"match": "type"},))
        return self._ruled(location, example, RuleChoice(rules, True))

    def _generator_at(self, location: Location) -> dict[str, Any] | None:
        if not self.generated:
            return None
        for tokens, definition in self.generated.items():
            if len(tokens) == len(location) and all(
                t == e or t in ("*", "[*]") or (isinstance(e, int) and t == str(e)) for t, e in zip(tokens, location)
            ):
                return definition
        return None


def _by_kind(matcher: dict[str, Any], example: Any, *, not_empty: bool, request: bool) -> Schema:
    kind = json_type(example)
    if request and kind == "integer":
        kind = "number"  # the type matcher takes any number where the example has one
    schema: Schema = {"type": kind}
    if kind == "array":
        if "min" in matcher:
            schema["minItems"] = int(matcher["min"])
        if "max" in matcher:
            schema["maxItems"] = int(matcher["max"])
    if not_empty:
        schema[{"array": "minItems", "object": "minProperties", "string": "minLength"}.get(kind, "minLength")] = 1
    return schema


def temporal(matcher: dict[str, Any], kind: str) -> Schema:
    """A date, time or timestamp matcher: RFC 3339 `format` when its pattern is one, else the pattern named."""
    pattern = matcher.get("format") or matcher.get(kind) or matcher.get("timestamp") or matcher.get("datetime")
    schema: Schema = {"type": "string"}
    if pattern is None:
        schema["format"] = {"date": "date", "time": "time"}.get(kind, "date-time")
        return schema
    for name, forms in _ISO_FORMATS.items():
        if pattern in forms:
            schema["format"] = name
            return schema
    schema["description"] = f"a {kind} written as {pattern!r} (Java date pattern letters)"
    return schema


def _name_rule(rule: dict[str, Any]) -> Schema | None:
    if rule.get("match") == "regex":
        return {"pattern": anchored(str(rule.get("regex", "")))}
    return None


def _generated(schema: Schema, generator: dict[str, Any], example: Any) -> Schema:
    """A generated value varies: it is held to its rule (or its kind), never to the example."""
    kind = generator.get("type")
    if kind in ("Date", "Time", "DateTime"):
        made = temporal({"format": generator.get("format")} if generator.get("format") else {}, kind.lower())
    elif kind == "Regex":
        made = {"type": "string", "pattern": anchored(str(generator.get("regex", "")))}
    else:
        made = dict(_GENERATED.get(str(kind), {"type": json_type(example)}))
    loose = {key: value for key, value in schema.items() if key not in ("const", "enum")}
    if loose.get("type") in (None, made.get("type")):
        return {**made, **loose}
    return merged(loose, made)
