"""Values and requests for the differential fuzzer: a value with the matcher it is held to and values near it,
and the request shape the fuzzer edits, the probes it sends and the cases they belong to.

A `Slot` is one place in a request (a path segment, a query or header value, a JSON leaf): its example, the
matcher the pact puts on it (or none), and the values a mutation may put there instead. Nothing here says which
of those values should be accepted: the reference stub's verdict is the oracle.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import strategies as st

Draw = Any  # hypothesis' draw function
Rule = dict[str, Any]  # one matcher, as a V3/V4 pact writes it: {"match": "regex", "regex": "..."}

V2, V3, V4 = "2.0.0", "3.0.0", "4.0"
LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
# The value the brief names for catastrophic backtracking: 30 word characters and one that ends every match.
ADVERSARIAL = "a" * 30 + "!"


@dataclass
class Slot:
    example: Any
    rule: Rule | None = None
    variants: list[tuple[str, Any]] = field(default_factory=list)  # (mutation kind, value)
    regex: str | None = None  # the pattern of the slot's regex matcher, for the adversarial probes


# --- regexes: each piece is a pattern and a strategy for text it matches; all are valid in Python and Rust ---

_PIECES: list[tuple[str, st.SearchStrategy[str]]] = [
    ("[a-z]+", st.text(LOWER, min_size=1, max_size=6)),
    ("[0-9]{2,4}", st.text(DIGITS, min_size=2, max_size=4)),
    (r"\d+", st.text(DIGITS, min_size=1, max_size=5)),
    ("[A-Z][a-z]*", st.tuples(st.sampled_from("ABCXYZ"), st.text(LOWER, max_size=4)).map("".join)),
    (r"\w+", st.text(LOWER + DIGITS + "_", min_size=1, max_size=6)),
    ("(red|green|blue)", st.sampled_from(["red", "green", "blue"])),
    ("(-[0-9]+)?", st.one_of(st.just(""), st.text(DIGITS, min_size=1, max_size=3).map(lambda d: "-" + d))),
    ("-", st.just("-")),
    ("v", st.just("v")),
    (r"\.", st.just(".")),
]
# Nested quantifiers: linear for an automaton (the reference's Rust `regex`), exponential for a backtracking
# engine on ADVERSARIAL. Only some cases carry one (see fuzz_pacts), each costs a timeout while pactmock backtracks.
_CATASTROPHIC: list[tuple[str, st.SearchStrategy[str]]] = [
    (r"(\w+\s?)*", st.lists(st.text(LOWER, min_size=1, max_size=3), max_size=3).map(" ".join)),
    ("([a-z]+)*", st.text(LOWER, max_size=6)),
    ("(a|aa)+", st.text("a", min_size=1, max_size=5)),
]


@st.composite
def regexes(draw: Draw, catastrophic: bool = False) -> tuple[str, str]:
    """A pattern (anchored or not) and an example it matches as a whole."""
    pieces = draw(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3))
    if catastrophic:
        pieces = [draw(st.sampled_from(_CATASTROPHIC))]
    pattern = "".join(piece for piece, _ in pieces)
    example = "".join(draw(strategy) for _, strategy in pieces)
    if not example:  # an empty value is a missing one in some places; keep every example visible
        pattern, example = pattern + "x", example + "x"
    if draw(st.booleans()):
        pattern = "^" + pattern + "$"
    return pattern, example


def adversarial_values(example: str) -> list[str]:
    """Values a backtracking engine may take exponential time to refuse."""
    values = [ADVERSARIAL]
    if example and example[0] != "a":
        values.append(example[0] * 30 + "!")
    return values


# --- dates and times: Java patterns the pact carries, and the strftime that writes an example ---

DATE_FORMATS = {
    "date": [("yyyy-MM-dd", "%Y-%m-%d"), ("dd/MM/yyyy", "%d/%m/%Y"), ("yyyyMMdd", "%Y%m%d")],
    "time": [("HH:mm:ss", "%H:%M:%S"), ("HH:mm", "%H:%M")],
    "datetime": [("yyyy-MM-dd'T'HH:mm:ss", "%Y-%m-%dT%H:%M:%S"), ("yyyy-MM-dd HH:mm:ss", "%Y-%m-%d %H:%M:%S")],
}
_MOMENTS = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31))


def date_rule(kind: str, java: str, spec: str) -> Rule:
    """V3 names the pattern after the matcher (`"date": ...`, `"timestamp": ...`); V4 calls it `format`."""
    if spec == V4:
        return {"match": kind, "format": java}
    name = "timestamp" if kind == "datetime" else kind
    return {"match": name, name: java}


@st.composite
def date_slot(draw: Draw, spec: str) -> Slot:
    kind = draw(st.sampled_from(sorted(DATE_FORMATS)))
    java, strf = draw(st.sampled_from(DATE_FORMATS[kind]))
    example, other = draw(_MOMENTS).strftime(strf), draw(_MOMENTS).strftime(strf)
    others = [fmt for _, fmt in DATE_FORMATS[kind] if fmt != strf]
    variants = [("changed value", other), ("breaks format", "not a " + kind)]
    if others:
        variants.append(("breaks format", draw(_MOMENTS).strftime(others[0])))
    if strf == "%Y-%m-%d":
        variants.append(("impossible date", example[:5] + "02-30"))
    return Slot(example, date_rule(kind, java, spec), variants)


# --- text slots: path segments, query and header values, JSON strings ---

WORDS = st.text(LOWER + DIGITS, min_size=1, max_size=8)


@st.composite
def text_slot(draw: Draw, spec: str, catastrophic: bool = False, json: bool = False) -> Slot:
    """A string with one of the matchers a string can carry in this spec version (or none)."""
    kinds = ["none", "type", "regex"]
    if spec != V2:
        kinds += ["integer", "decimal", "number", "boolean", "date", "include", "equality"]
    if spec == V4:
        kinds += ["notEmpty", "semver"]
    kind = "regex" if catastrophic else draw(st.sampled_from(kinds))
    word, other = draw(WORDS), draw(WORDS)
    wrong_type: Any = 12 if json else ""
    if kind == "regex":
        pattern, example = draw(regexes(catastrophic=catastrophic))
        _, another = draw(regexes())
        variants = [("changed value", another), ("breaks regex", example + "!"), ("wrong type", wrong_type)]
        variants += [("adversarial", value) for value in adversarial_values(example)]
        return Slot(example, {"match": "regex", "regex": pattern}, variants, regex=pattern)
    if kind == "date":
        return draw(date_slot(spec))
    if kind in ("integer", "decimal", "number"):
        number = draw(st.integers(0, 99_999))
        example = f"{number}.{draw(st.integers(1, 9))}" if kind == "decimal" else str(number)
        variants = [("changed value", str(number + 7)), ("changed value", f"{number}.5"), ("wrong type", word)]
        return Slot(example, {"match": kind}, variants)
    if kind == "boolean":
        example = draw(st.sampled_from(["true", "false"]))
        return Slot(example, {"match": "boolean"}, [("changed value", "false"), ("wrong type", "yes")])
    if kind == "include":
        return Slot(
            word + other, {"match": "include", "value": word}, [("changed value", "z" + word), ("wrong type", other)]
        )
    if kind == "semver":
        example = ".".join(str(draw(st.integers(0, 20))) for _ in range(3))
        return Slot(example, {"match": "semver"}, [("changed value", "1.2.3-rc.1"), ("wrong type", "1.2")])
    variants = [("changed value", other if other != word else word + "x"), ("wrong type", wrong_type)]
    rule = None if kind == "none" else {"match": kind}
    return Slot(word, rule, variants + [("empty", "")])


# --- JSON leaves ---


@st.composite
def json_leaf(draw: Draw, spec: str, catastrophic: bool = False) -> Slot:
    """A JSON scalar with a matcher it can carry in this spec version (or none)."""
    kind = "string" if catastrophic else draw(st.sampled_from(["string", "integer", "decimal", "boolean", "null"]))
    if kind == "string":
        return draw(text_slot(spec, catastrophic=catastrophic, json=True))
    v3 = spec != V2
    if kind == "integer":
        number = draw(st.integers(-1000, 10**6))
        rules = [None, {"match": "type"}] + (
            [{"match": "integer"}, {"match": "number"}, {"match": "equality"}] if v3 else []
        )
        variants = [("changed value", number + 1), ("wrong type", str(number)), ("wrong type", number + 0.5)]
        return Slot(number, draw(st.sampled_from(rules)), variants + [("wrong type", True)])
    if kind == "decimal":
        number = draw(st.integers(0, 10**5)) + draw(st.sampled_from([0.25, 0.5, 0.75]))
        rules = [None, {"match": "type"}] + ([{"match": "decimal"}, {"match": "number"}] if v3 else [])
        variants = [("changed value", number + 1), ("wrong type", int(number)), ("wrong type", str(number))]
        return Slot(number, draw(st.sampled_from(rules)), variants)
    if kind == "boolean":
        flag = draw(st.booleans())
        rules = [None, {"match": "type"}] + ([{"match": "boolean"}] if v3 else [])
        return Slot(
            flag, draw(st.sampled_from(rules)), [("changed value", not flag), ("wrong type", str(flag).lower())]
        )
    rules = [None] + ([{"match": "null"}] if v3 else [])
    return Slot(None, draw(st.sampled_from(rules)), [("wrong type", "null"), ("wrong type", 0)])


# --- a request as the fuzzer edits it, and what it sends ---

# Stands for the case prefix until the case is numbered; no drawn text can hold it (lowercase and digits).
PLACEHOLDER = "CASE0"
Location = tuple[str | int, ...]


@dataclass
class Shape:
    """A request as the fuzzer edits it: path segments as sent (percent-encoded); query and headers decoded."""

    method: str
    segments: list[str]
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None  # JSON: the value; text: the text; form: (name, value) pairs
    has_body: bool = False
    body_kind: str = "json"  # json, text or form (fuzz_bodies)
    content_type: str = "application/json"
    raw_body: bytes | None = None  # sent instead of the body when set (JSON that does not parse)
    plus_for_space: bool = False  # a space in a query value written `+` rather than `%20`


@dataclass(frozen=True)
class Probe:
    """One request of a case, as sent on the wire."""

    case: int
    kind: str  # "example", or "<part> <where>: <mutation>"
    part: str  # the part the mutation changed ("" for the example)
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "target": self.target, "headers": dict(self.headers), "body": self.body.decode()}


@dataclass
class Case:
    number: int
    spec: str
    pact: dict[str, Any]
    probes: list[Probe]

    def renumbered(self, number: int) -> Case:
        """The case under its own prefix `/c{number}/`, so cases served side by side cannot answer for each other."""
        prefix = f"c{number}"
        pact = json.loads(json.dumps(self.pact).replace(PLACEHOLDER, prefix))
        probes = [replace(p, case=number, target=p.target.replace(PLACEHOLDER, prefix)) for p in self.probes]
        return Case(number, self.spec, pact, probes)


@dataclass
class Mutation:
    part: str
    where: str
    kind: str
    edit: Callable[[Shape], None]


@dataclass
class Builder:
    spec: str
    rules: dict[tuple[str, str], Rule] = field(default_factory=dict)  # (category, key) -> matcher
    mutations: list[Mutation] = field(default_factory=list)

    def slot(self, category: str, key: str, slot: Slot, where: str, put: Callable[[Shape, Any], None]) -> None:
        if slot.rule is not None:
            self.rules[(category, key)] = slot.rule
        for kind, value in slot.variants:
            self.mutations.append(Mutation(category, where, kind, lambda shape, v=value: put(shape, v)))


def rule_path_of(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if key.isidentifier() else f"{parent}['{key}']"


def value_at(document: Any, location: Location) -> Any:
    for step in location:
        document = document[step]
    return document


def set_value(shape: Shape, location: Location, value: Any) -> None:
    value_at(shape.body, location[:-1])[location[-1]] = value
