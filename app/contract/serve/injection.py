"""Values a provider state injects into a request (`ProviderState` generators on the request).

A pact may say that part of a request comes from the provider's state set-up: the path
`/api/hello/${name}`, a query or header value `${id}`, a body field. The verifier asks the
state-change URL for the values and sends them instead of the example, so a mock must accept them:

- on the path, the expression's literal text must match and each `${...}` stands for one or more
  characters other than `/`;
- in a query or header value, the literal text must match and each `${...}` takes any text;
- a body field takes any value of its example's JSON type (besides what its own rule allows), or of the
  kind the verifier sends instead: the one its `dataType` converts to, or, without one, the state's value
  as it is for a lone `${id}` (the verifier passes a number through where the example is text).

An expression without `${...}` is itself the name of a parameter: the whole value is the placeholder.
The example still matches as before. When a request matched, the values it carries for each name
(`name` = `John` from `/api/hello/John`) are its bindings: they override the provider state's
parameters for the response's own `ProviderState` generators, so the answer carries them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2

from ..match.rulepaths import INDEX_STAR, STAR, parse_path
from ..match.rules import KINDS_MATCHER, kind_of
from ..match.uripath import decoded_path, path_forms
from ..model import MISSING, Generators, Mismatch, Request, RuleList, Rules

PROVIDER_STATE = "ProviderState"
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")


@dataclass(frozen=True)
class Template:
    """A text value written as an expression: literal text around `${name}` placeholders."""

    expression: str
    names: tuple[str, ...]
    program: Any  # RE2, compiled from our own escaping: linear in the text whatever clients send

    def bind(self, text: str) -> dict[str, str] | None:
        """The value of each placeholder in `text`, or None when `text` is not of the expression's form."""
        found = self.program.fullmatch(text)
        if found is None:
            return None
        bound: dict[str, str] = {}
        for name, value in zip(self.names, found.groups()):
            bound.setdefault(name, value)
        return bound

    @property
    def most_slashes(self) -> float:
        """The most "/" a path of this form holds (a bare name may stand for a whole path)."""
        return math.inf if not _PLACEHOLDER.search(self.expression) else self.literal.count("/")

    @property
    def literal(self) -> str:
        """The expression's literal text, every placeholder removed."""
        return _PLACEHOLDER.sub("", self.expression)

    @property
    def prefix(self) -> str:
        """The literal text before the first placeholder."""
        return self.expression.split("${", 1)[0] if "${" in self.expression else ""


@lru_cache(maxsize=1024)
def template(expression: str, in_path: bool) -> Template:
    """The expression as a template; on a path a placeholder holds no "/", elsewhere any text."""
    hole = "([^/]+)" if in_path else "(.*)"
    if "${" not in expression:
        # A bare parameter name: the whole value comes from the provider state.
        return Template(expression, (expression.strip(),), re2.compile("(?s)" + ("(/.*)" if in_path else hole)))
    pieces, names, position = [], [], 0
    for found in _PLACEHOLDER.finditer(expression):
        pieces.append(_literal(expression[position : found.start()]))
        pieces.append(hole)
        names.append(found.group(1).strip())
        position = found.end()
    pieces.append(_literal(expression[position:]))
    return Template(expression, tuple(names), re2.compile("(?s)" + "".join(pieces)))


def _literal(text: str) -> str:
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in text)


@dataclass(frozen=True)
class Injected:
    """What of a contract's request a provider state may set: the path, query and header values."""

    path: Template | None = None
    query: dict[str, Template] = field(default_factory=dict)
    headers: dict[str, Template] = field(default_factory=dict)  # by lower-case name

    def forgive(self, mismatches: list[Mismatch], actual: Request) -> list[Mismatch]:
        """The mismatches left once values of the expressions' form are taken as injected."""
        return [m for m in mismatches if not self._injected(m, actual)]

    def _injected(self, mismatch: Mismatch, actual: Request) -> bool:
        if mismatch.part == "path":
            return self.path is not None and _path_binding(self.path, actual.path) is not None
        if mismatch.part == "query":
            found = self.query.get(mismatch.path)
            values = actual.query.get(mismatch.path)
            return found is not None and bool(values) and all(found.bind(v) is not None for v in values or ())
        if mismatch.part == "header":
            found = self.headers.get(mismatch.path.lower())
            values = actual.header(mismatch.path)
            return found is not None and values is not None and _header_binding(found, values) is not None
        return False

    def bind(self, actual: Request) -> dict[str, str]:
        """The values `actual` carries for the expressions' placeholders (the first of a name wins)."""
        bound: dict[str, str] = {}
        if self.path is not None:
            _keep_first(bound, _path_binding(self.path, actual.path) or {})
        for name, each in self.query.items():
            for value in actual.query.get(name) or ():
                _keep_first(bound, each.bind(value) or {})
        for name, each in self.headers.items():
            values = actual.header(name)
            if values:
                _keep_first(bound, _header_binding(each, values) or {})
        return bound


def _keep_first(bound: dict[str, str], values: dict[str, str]) -> None:
    for name, value in values.items():
        bound.setdefault(name, value)


def path_takes(expression: str, path: str) -> bool:
    """Whether a request path is of the form a provider state's path expression writes."""
    return _path_binding(template(expression, True), path) is not None


def _path_binding(path: Template, actual: str) -> dict[str, str] | None:
    # A value is what the path stands for: decoded, as the state set-up gave it.
    for form in reversed(path_forms(actual)):
        found = path.bind(form)
        if found is not None:
            return found
    return None


def _header_binding(header: Template, values: list[str]) -> dict[str, str] | None:
    joined = header.bind(", ".join(values))
    if joined is not None or len(values) == 1:
        return joined
    bound: dict[str, str] = {}
    for value in values:
        found = header.bind(value)
        if found is None:
            return None
        _keep_first(bound, found)
    return bound


def _expression(definition: Any) -> str | None:
    if not isinstance(definition, dict) or definition.get("type") != PROVIDER_STATE:
        return None
    expression = definition.get("expression")
    return expression if isinstance(expression, str) and expression.strip() else None


def path_expression_of(raw_generators: Any) -> str | None:
    """The ProviderState expression a request's generators (as written in the pact) give its path, if any.

    Routing needs it before the request is compiled (large pacts are compiled on first use)."""
    if not isinstance(raw_generators, dict):
        return None
    path = raw_generators.get("path")
    return _expression(path) if isinstance(path, dict) else None


def injected_of(generators: Generators) -> Injected | None:
    """What of a request its ProviderState generators let a provider state set; None when nothing."""
    path = _expression((generators.get("path") or {}).get(""))
    query = {name: template(e, False) for name, d in (generators.get("query") or {}).items() if (e := _expression(d))}
    headers = {
        name.lower(): template(e, False)
        for name, d in (generators.get("header") or {}).items()
        if (e := _expression(d))
    }
    if path is None and not query and not headers:
        return None
    return Injected(template(path, True) if path else None, query, headers)


def with_injected_body(rules: Rules, generators: Generators, example: Any) -> Rules:
    """The request's rules, with each body field a provider state sets also taking a value of the kind the
    state gives it (its own rule, if any, still accepts what it did: the two combine with OR)."""
    fields = [(key, d) for key, d in (generators.get("body") or {}).items() if _expression(d) is not None]
    if not fields:
        return rules
    body = dict(rules.get("body") or {})
    for key, definition in fields:
        key = key if key.startswith("$") else "$." + key
        injected = {"match": KINDS_MATCHER, "kinds": _injected_kinds(definition, _example_at(example, key))}
        own = body.get(key)
        if own is None:
            body[key] = RuleList((injected,))
        elif own.combine == "OR" or len(own.matchers) == 1:
            body[key] = RuleList((*own.matchers, injected), "OR")
        # An AND of several matchers is the contract's word on the value: left as it is.
    return {**rules, "body": body}


_ALL_KINDS = ("string", "number", "boolean", "null", "object", "array")
_KIND_OF_DATA_TYPE = {"STRING": "string", "INTEGER": "number", "DECIMAL": "number", "FLOAT": "number"}


def _injected_kinds(definition: dict[str, Any], example: Any) -> tuple[str, ...]:
    """The example's kind, and what the verifier may send instead: the kind the generator's dataType converts
    to, or, without one, the state's value as it is (for a lone placeholder) or text (for an expression)."""
    kinds = [] if example is MISSING else [kind_of(example)]
    data_type = str(definition.get("dataType") or "").upper()
    expression = str(definition.get("expression"))
    if data_type in _KIND_OF_DATA_TYPE or data_type == "BOOLEAN":
        kinds.append(_KIND_OF_DATA_TYPE.get(data_type, "boolean"))
    elif "${" not in expression or _PLACEHOLDER.fullmatch(expression.strip()):
        kinds += _ALL_KINDS
    else:
        kinds.append("string")
    return tuple(dict.fromkeys(kinds))


def _example_at(example: Any, key: str) -> Any:
    node = example
    for token in parse_path(key):
        if isinstance(node, dict) and isinstance(token, str) and token in node:
            node = node[token]
        elif isinstance(node, list) and node and (token in (STAR, INDEX_STAR) or isinstance(token, int)):
            node = node[token if isinstance(token, int) and token < len(node) else 0]
        elif isinstance(node, dict) and token == STAR and node:
            node = next(iter(node.values()))
        else:
            return MISSING
    return node


def bucket_prefix(literal_path: str, expression: str) -> str:
    """The decoded prefix, up to a "/", shared by a path's example and its expression: where routing files it."""
    example, written = decoded_path(literal_path), decoded_path(template(expression, True).prefix)
    shared = 0
    while shared < min(len(example), len(written)) and example[shared] == written[shared]:
        shared += 1
    common = example[:shared]
    return common[: common.rfind("/") + 1]
