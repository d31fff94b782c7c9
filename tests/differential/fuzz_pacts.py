"""Hypothesis strategies for the differential fuzzer: small pacts of spec V2, V3 and V4, and requests near them.

A case is one pact file holding one HTTP interaction under its own path prefix `/c{n}/`, so cases served side
by side cannot answer for each other. Its probes are the interaction's example request and mutations of it: a
changed value, a wrong type, a missing or extra key or array item, an extra or repeated query parameter, a
missing header, a value that breaks a regex or a date format, a percent-encoding written differently, and two
adversarial values for every regex in the case. No probe carries an expected answer: the reference stub's
verdict is the oracle.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import hypothesis
from hypothesis import strategies as st

from tests.differential.fuzz_bodies import form_body, list_parameter, text_body
from tests.differential.fuzz_values import (
    LOWER,
    PLACEHOLDER,
    V2,
    V3,
    V4,
    WORDS,
    Builder,
    Case,
    Draw,
    Location,
    Mutation,
    Rule,
    Shape,
    Slot,
    adversarial_values,
    json_leaf,
    regexes,
    rule_path_of,
    set_value,
    text_slot,
    value_at,
)
from tests.differential.fuzz_write import pact_of, probe_of

# --- whole cases ---

METHODS = ("GET", "DELETE", "POST", "PUT", "PATCH")
PAYLOAD_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Bodies: JSON mostly, as in real pacts; plain text and forms (fuzz_bodies) one in six each.
BODY_KINDS = ("json", "json", "json", "json", "text", "form")
# One case in CATASTROPHIC_EVERY carries a nested-quantifier regex on a query parameter (see fuzz_values); each
# costs a 5 s timeout and a restart while pactmock backtracks.
CATASTROPHIC_EVERY = 400
# Characters a pact path may carry percent-encoded, as real pacts do (`/pacticipants/Pricing%20Service`).
_ENCODED = [" ", "é", "/", "%", ":", "@", "+", "!"]
_KEYS = ["id", "name", "tags", "when", "items", "first name", "x-y", "a.b", "count"]


@st.composite
def _json_node(draw: Draw, b: Builder, location: Location, rule_path: str, depth: int) -> Any:
    """A JSON value with its matchers recorded in `b` and the mutations of it added there; the root is an object."""
    spec, v4 = b.spec, b.spec == V4
    kind = (
        "object"
        if depth == 0
        else draw(st.sampled_from(["leaf", "leaf", "object", "array"] if depth < 2 else ["leaf"]))
    )
    where = rule_path
    if kind == "leaf":
        leaf = draw(json_leaf(spec))
        b.slot("body", rule_path, leaf, where, lambda shape, v, loc=location: set_value(shape, loc, v))
        return leaf.example
    if kind == "object":
        flavour = draw(st.sampled_from(["plain", "type", *(["eachKey", "eachValue"] if v4 else [])]))
        if flavour in ("eachKey", "eachValue"):
            # Each key and each value held to one rule: lowercase keys, string values.
            keys = draw(st.lists(st.text(LOWER, min_size=1, max_size=5), min_size=1, max_size=3, unique=True))
            example = {key: draw(WORDS) for key in keys}
            inner = {"match": "regex", "regex": "^[a-z]+$"} if flavour == "eachKey" else {"match": "type"}
            b.rules[("body", rule_path)] = {"match": flavour, "rules": [inner], "value": example}
            extras = [
                ("extra key", "zz", "word"),
                ("extra key breaking the rule", "Zz 9", "word"),
                ("extra key of another type", "zz", 7),
            ]
            for kind_, key, value in extras:
                b.mutations.append(
                    Mutation("body", where, kind_, lambda s, k=key, v=value, loc=location: set_value(s, (*loc, k), v))
                )
            return example
        if flavour == "type":
            b.rules[("body", rule_path)] = {"match": "type"}
        keys = draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=3, unique=True))
        example = {key: draw(_json_node(b, (*location, key), rule_path_of(rule_path, key), depth + 1)) for key in keys}
        for key in keys:
            b.mutations.append(
                Mutation(
                    "body", where, f"missing key {key!r}", lambda s, k=key, loc=location: value_at(s.body, loc).pop(k)
                )
            )
        b.mutations.append(
            Mutation("body", where, "extra key", lambda s, loc=location: set_value(s, (*loc, "extra"), 1))
        )
        return example
    flavour = draw(st.sampled_from(["plain", "eachLike", "minMax", *(["arrayContains"] if v4 else [])]))
    if flavour == "arrayContains":
        example = [{"type": "created", "id": draw(st.integers(1, 999))}, {"type": "named", "name": draw(WORDS)}]
        b.rules[("body", rule_path)] = {
            "match": "arrayContains",
            "variants": [
                {"index": 0, "rules": {"$.id": {"matchers": [{"match": "integer"}], "combine": "AND"}}},
                {"index": 1, "rules": {"$.name": {"matchers": [{"match": "type"}], "combine": "AND"}}},
            ],
        }
        edits: list[tuple[str, Callable[[list[Any]], Any]]] = [
            ("items reordered", lambda items: items.reverse()),
            ("variant 0 missing", lambda items: items.pop(0)),
            ("extra item", lambda items: items.append({"type": "other"})),
            ("variant 0 id of wrong type", lambda items: items[0].update(id="1")),
        ]
        for kind_, edit in edits:
            b.mutations.append(Mutation("body", where, kind_, lambda s, e=edit, loc=location: e(value_at(s.body, loc))))
        return example
    items_path = rule_path_of(rule_path, 0) if flavour == "plain" else rule_path + "[*]"
    first = draw(_json_node(b, (*location, 0), items_path, depth + 1))
    count = draw(st.integers(1, 3))
    if flavour != "plain":
        minimum = draw(st.integers(0, count))
        rule: Rule = {"match": "type", "min": minimum}
        if flavour == "minMax":
            rule["max"] = count + draw(st.integers(0, 1))
        b.rules[("body", rule_path)] = rule
    example = [first] + [copy.deepcopy(first) for _ in range(count - 1)]
    array_edits: list[tuple[str, Callable[[list[Any]], Any]]] = [
        ("empty array", lambda items: items.clear()),
        ("item dropped", lambda items: items.pop()),
        ("item added", lambda items: items.append(copy.deepcopy(items[0]))),
        ("item of another type added", lambda items: items.append("other")),
    ]
    for kind_, edit in array_edits:
        b.mutations.append(Mutation("body", where, kind_, lambda s, e=edit, loc=location: e(value_at(s.body, loc))))
    return example


# --- path, query, headers ---


@st.composite
def _segment(draw: Draw) -> str:
    """A path segment as a pact writes it: plain, or (one in four) with one character percent-encoded."""
    word = draw(WORDS)
    if not draw(st.sampled_from([False, False, False, True])):
        return word
    return word + quote(draw(st.sampled_from(_ENCODED)), safe="") + draw(WORDS)


def _encoding_variants(segment: str) -> list[tuple[str, str]]:
    """The same segment with its percent-encoding written another way."""
    variants = []
    hex_escape = re.search("%[0-9A-F]{2}", segment)
    if hex_escape and hex_escape.group() != hex_escape.group().lower():
        variants.append(("hex in lower case", segment.replace(hex_escape.group(), hex_escape.group().lower())))
    for char in ":@+!":
        encoded = quote(char, safe="")
        if encoded in segment:
            variants.append(("reserved character not encoded", segment.replace(encoded, char)))
    if "%" not in segment:
        variants.append(("unreserved character encoded", f"%{ord(segment[0]):02X}{segment[1:]}"))
    return variants


@st.composite
def _path(draw: Draw, b: Builder) -> list[str]:
    segments = [PLACEHOLDER, *draw(st.lists(_segment(), min_size=1, max_size=2))]
    for index in range(1, len(segments)):
        for kind, value in _encoding_variants(segments[index]):
            b.mutations.append(
                Mutation("path", f"segment {index}", kind, lambda s, i=index, v=value: s.segments.__setitem__(i, v))
            )
    b.mutations.append(Mutation("path", "end", "trailing slash", lambda s: s.segments.append("")))
    if draw(st.booleans()):
        # A regex on the path: one segment free within a pattern, the rest literal.
        index = len(segments) - 1
        pattern, example = draw(regexes())
        pattern = pattern.removeprefix("^").removesuffix("$")
        segments[index] = quote(example, safe="")
        literal = ["/".join(segments[:index])]
        whole = "^/" + literal[0].replace(".", r"\.").replace("+", r"\+") + "/" + pattern + "$"
        slot = Slot(example, {"match": "regex", "regex": whole if draw(st.booleans()) else whole[1:-1]})
        _, another = draw(regexes())
        slot.variants = [("changed value", another), ("breaks regex", example + "!")]
        slot.variants += [("adversarial", value) for value in adversarial_values(example)]
        b.slot(
            "path", "", slot, f"segment {index}", lambda s, v, i=index: s.segments.__setitem__(i, quote(v, safe="!"))
        )
    return segments


@st.composite
def _query(draw: Draw, b: Builder, catastrophic: bool) -> list[tuple[str, str]]:
    names = draw(st.lists(st.text(LOWER, min_size=1, max_size=5), max_size=3, unique=True))
    if catastrophic:
        names = [name for name in names if name != "q"] + ["q"]
    query = []
    for name in names:
        slot = draw(text_slot(b.spec, catastrophic=catastrophic and name == "q"))
        query.append((name, slot.example))

        def put(shape: Shape, value: Any, name: str = name) -> None:
            shape.query = [(n, value if n == name else v) for n, v in shape.query]

        b.slot("query", name, slot, name, put)
        b.mutations.append(
            Mutation(
                "query",
                name,
                "missing parameter",
                lambda s, n=name: s.query.__setitem__(slice(None), [p for p in s.query if p[0] != n]),
            )
        )
        b.mutations.append(
            Mutation("query", name, "parameter repeated", lambda s, n=name, v=slot.example: s.query.append((n, v)))
        )
    if draw(st.booleans()):
        # A value that must be percent-encoded on the wire; clients write its space as %20 or +.
        query.append(("text", draw(WORDS) + " " + draw(WORDS) + "&=" + draw(WORDS)))
        b.mutations.append(
            Mutation("query", "text", "space written as +", lambda s: setattr(s, "plus_for_space", True))
        )
    if b.spec == V4 and not catastrophic and draw(st.integers(0, 2)) == 0:
        query += draw(list_parameter(b))
    b.mutations.append(Mutation("query", "extra", "extra parameter", lambda s: s.query.append(("extra", "1"))))
    return query


@st.composite
def _headers(draw: Draw, b: Builder) -> list[tuple[str, str]]:
    names = draw(st.lists(st.text(LOWER, min_size=1, max_size=6), max_size=2, unique=True))
    headers = []
    for name in (f"X-Fuzz-{word.capitalize()}" for word in names):
        slot = draw(text_slot(b.spec))
        headers.append((name, slot.example))

        def put(shape: Shape, value: Any, name: str = name) -> None:
            shape.headers = [(n, value if n == name else v) for n, v in shape.headers]

        b.slot("header", name, slot, name, put)
        b.mutations.append(
            Mutation("header", name, "name in lower case", lambda s, n=name: _rename_header(s, n, n.lower()))
        )
        b.mutations.append(Mutation("header", name, "missing header", lambda s, n=name: _drop_header(s, n)))
    return headers


def _rename_header(shape: Shape, name: str, new: str) -> None:
    shape.headers = [(new if n == name else n, v) for n, v in shape.headers]


def _drop_header(shape: Shape, name: str) -> None:
    shape.headers = [(n, v) for n, v in shape.headers if n != name]


# --- the case: its pact and its probes ---

MUTATIONS_PER_CASE = 6


@st.composite
def cases(draw: Draw, catastrophic: bool = False) -> Case:
    """A case numbered 0 (`Case.renumbered` gives it its own prefix)."""
    spec = draw(st.sampled_from([V2, V3, V4]))
    b = Builder(spec)
    shape = Shape(draw(st.sampled_from(METHODS)), draw(_path(b)))
    shape.query = draw(_query(b, catastrophic))
    shape.headers = draw(_headers(b))
    undeclared: set[str] = set()
    if shape.method in PAYLOAD_METHODS and draw(st.integers(0, 3)) > 0:
        shape.has_body = True
        kind = draw(st.sampled_from(BODY_KINDS))
        if kind == "json":
            shape.body = draw(_json_node(b, (), "$", 0))
            b.mutations.append(Mutation("body", "$", "empty body", lambda s: setattr(s, "has_body", False)))
            b.mutations.append(Mutation("body", "$", "not JSON", lambda s: setattr(s, "raw_body", b'{"a": ')))
        else:
            draw(text_body(b, shape) if kind == "text" else form_body(b, shape))
        shape.headers.append(("Content-Type", shape.content_type))
        if kind == "json" and draw(st.booleans()):
            undeclared.add("Content-Type")  # the pact gives none; the client sends it all the same
        b.mutations.append(
            Mutation("header", "Content-Type", "missing header", lambda s: _drop_header(s, "Content-Type"))
        )
    pact = pact_of(spec, shape, b.rules, undeclared)
    adversarial = [m for m in b.mutations if m.kind == "adversarial"]
    others = [m for m in b.mutations if m.kind != "adversarial"]
    chosen = [others[i] for i in draw(st.permutations(range(len(others))))[:MUTATIONS_PER_CASE]]
    probes = [probe_of("example", "", shape)]
    for mutation in chosen + adversarial:
        mutated = copy.deepcopy(shape)
        mutation.edit(mutated)
        probes.append(probe_of(f"{mutation.part} {mutation.where}: {mutation.kind}", mutation.part, mutated))
    return Case(0, spec, pact, probes)


def draw_cases(count: int, seed: int) -> list[Case]:
    """`count` cases drawn by hypothesis from `seed`, numbered 1..count; one in CATASTROPHIC_EVERY carries a
    nested-quantifier regex (drawn apart: a strategy's structure may not depend on the case's number)."""
    catastrophic = count // CATASTROPHIC_EVERY
    drawn = _collect(cases(), count - catastrophic, seed) + _collect(cases(catastrophic=True), catastrophic, seed)
    # The catastrophic cases spread through the numbers rather than bunched at the end.
    order = sorted(range(len(drawn)), key=lambda i: (i * 7919) % len(drawn)) if drawn else []
    return [drawn[i].renumbered(n) for n, i in enumerate(order, start=1)]


def _collect(strategy: st.SearchStrategy[Case], count: int, seed: int) -> list[Case]:
    drawn: list[Case] = []
    if count == 0:
        return drawn

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=count,
        database=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        deadline=None,
    )
    @hypothesis.given(strategy)
    def collect(case: Case) -> None:
        drawn.append(case)

    collect()
    return drawn
