"""Hypothesis strategies for the fuzzer's bodies that are not JSON (plain text, forms) and for the V4 matchers
that hold a query parameter's list of values (`arrayContains`, `eachValue`): issue 12's class 8 and the
content types real pacts carry besides JSON.

Each strategy puts its example into the request shape, its matchers into the builder, and the mutations of it
into the builder's list, as fuzz_pacts does for JSON bodies, paths, queries and headers.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.differential.fuzz_values import LOWER, V2, V4, WORDS, Builder, Draw, Mutation, Rule, Shape, text_slot

TEXT = "text/plain"
FORM = "application/x-www-form-urlencoded"
# A parameter name no drawn one can be (those are lowercase letters only).
LIST_PARAMETER = "list-x"
_TEXT_RULES = ["none", "regex", "include", "contentType"]


@st.composite
def text_body(draw: Draw, b: Builder, shape: Shape) -> None:
    """A plain-text body, with no rule, a regex, an include or a contentType matcher at `$`."""
    first, second = draw(WORDS), draw(WORDS)
    shape.body_kind, shape.content_type, shape.body = "text", TEXT, f"{first} {second}"
    kind = draw(st.sampled_from(_TEXT_RULES[:2] if b.spec == V2 else _TEXT_RULES))
    rules: dict[str, Rule] = {
        "regex": {"match": "regex", "regex": "^[a-z0-9]+ [a-z0-9]+$"},
        "include": {"match": "include", "value": first},
        "contentType": {"match": "contentType", "value": TEXT},
    }
    if kind in rules:
        b.rules[("body", "$")] = rules[kind]
    replacements = [
        ("changed text", draw(WORDS) + " " + draw(WORDS) + "x"),
        ("breaks regex", f"{first}! {second}"),
        ("JSON text", '{"a": 1}'),
        ("XML text", "<a>1</a>"),
    ]
    for kind_, text in replacements:
        b.mutations.append(Mutation("body", "$", kind_, lambda s, t=text: setattr(s, "body", t)))
    _content_type_mutations(b, "application/json")


@st.composite
def form_body(draw: Draw, b: Builder, shape: Shape) -> None:
    """A form body (`name=value&...`), each field a text slot with the matchers a string can carry."""
    names = draw(st.lists(st.text(LOWER, min_size=1, max_size=5), min_size=1, max_size=3, unique=True))
    shape.body_kind, shape.content_type, shape.body = "form", FORM, []
    for name in names:
        slot = draw(text_slot(b.spec))
        shape.body.append((name, slot.example))

        def put(s: Shape, value: Any, name: str = name) -> None:
            s.body = [(n, value if n == name else v) for n, v in s.body]

        b.slot("body", "$." + name, slot, "$." + name, put)
        b.mutations.append(
            Mutation("body", "$." + name, "missing field", lambda s, n=name: setattr(s, "body", _without(s.body, n)))
        )
        b.mutations.append(
            Mutation("body", "$." + name, "field repeated", lambda s, n=name, v=slot.example: s.body.append((n, v)))
        )
    b.mutations.append(Mutation("body", "$", "extra field", lambda s: s.body.append(("extra", "1"))))
    b.mutations.append(Mutation("body", "$", "fields reordered", lambda s: s.body.reverse()))
    _content_type_mutations(b, TEXT)


def _without(pairs: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(n, v) for n, v in pairs if n != name]


def _content_type_mutations(b: Builder, other: str) -> None:
    b.mutations.append(Mutation("header", "Content-Type", "another content type", lambda s: _set_type(s, other)))
    b.mutations.append(Mutation("body", "$", "empty body", lambda s: setattr(s, "has_body", False)))


def _set_type(shape: Shape, content_type: str) -> None:
    shape.headers = [(n, content_type if n == "Content-Type" else v) for n, v in shape.headers]


@st.composite
def list_parameter(draw: Draw, b: Builder) -> list[tuple[str, str]]:
    """(V4) A query parameter of several values under `eachValue` or `arrayContains`, which speak of the list."""
    assert b.spec == V4
    values = draw(st.lists(st.text(LOWER, min_size=1, max_size=5), min_size=2, max_size=3))
    word = {"matchers": [{"match": "regex", "regex": "^[a-z]+$"}], "combine": "AND"}
    if draw(st.booleans()):
        rule: Rule = {"match": "eachValue", "rules": [word["matchers"][0]], "value": values}
    else:
        last = len(values) - 1
        same = {"matchers": [{"match": "equality"}], "combine": "AND"}
        rule = {
            "match": "arrayContains",
            "variants": [{"index": 0, "rules": {"$": same}}, {"index": last, "rules": {"$": word}}],
        }
    b.rules[("query", LIST_PARAMETER)] = rule
    edits = [
        ("values reordered", lambda vs: list(reversed(vs))),
        ("first value dropped", lambda vs: vs[1:]),
        ("value added", lambda vs: [*vs, "zz"]),
        ("value breaking the rule", lambda vs: [*vs, "Zz9"]),
        ("first value changed", lambda vs: ["q" + vs[0], *vs[1:]]),
    ]
    for kind, edit in edits:
        b.mutations.append(Mutation("query", LIST_PARAMETER, kind, lambda s, e=edit: _edit_values(s, e)))
    return [(LIST_PARAMETER, value) for value in values]


def _edit_values(shape: Shape, edit: Any) -> None:
    values = [v for n, v in shape.query if n == LIST_PARAMETER]
    others = [(n, v) for n, v in shape.query if n != LIST_PARAMETER]
    shape.query[:] = others + [(LIST_PARAMETER, v) for v in edit(values)]
