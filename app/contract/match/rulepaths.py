"""Matching-rule paths (`$.a[0].b`, `$.a[*].*`, `$['x y']`) and rule selection.

A rule applies at its own path and, inherited, to everything below it. When
several rules apply, the most specific one wins: each exact token weighs 2 and
each wildcard 1, multiplied along the path (the weighting pact-reference uses);
ties go to the longer path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from ..model import RuleList, RuleSet
from .rules import STRUCTURAL

# An actual location inside a body: field names are str, array indices int.
Location = tuple[str | int, ...]

STAR = "*"
INDEX_STAR = "[*]"
_TOKEN = re.compile(r"""\.(\*|[^.\[]+)|\[(\*|-?\d+)\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]""")


class RuleChoice:
    """The rules that apply at a location, and what a body walk derives from them (once per choice)."""

    __slots__ = ("exact", "kinds", "matchers", "only_equality", "rules")

    def __init__(self, rules: RuleList, exact: bool) -> None:
        self.rules = rules
        self.exact = exact  # False when inherited from an ancestor's path
        matchers = rules.matchers
        if not exact:
            # Rules reach descendants as "same shape"; what a container rule says about the container
            # itself (lengths, keys, variants) stays at its own level.
            matchers = tuple(m for m in matchers if m["match"] not in STRUCTURAL)
        self.matchers = matchers
        self.kinds = frozenset(m["match"] for m in matchers)
        self.only_equality = self.kinds <= {"equality"}


@lru_cache(maxsize=4096)
def parse_path(expression: str) -> tuple[str | int, ...]:
    """Tokens after the root; `*` and `[*]` stay as the STAR / INDEX_STAR markers."""
    text = expression.strip()
    if not text.startswith("$"):
        text = "$." + text
    tokens: list[str | int] = []
    pos = 1
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if not found:
            # Unparseable tails are treated as one literal field so the rule still
            # applies where its author clearly meant it.
            tokens.append(text[pos:].lstrip("."))
            break
        field, index, single, double = found.groups()
        if field is not None:
            tokens.append(field)
        elif index is not None:
            tokens.append(INDEX_STAR if index == "*" else int(index))
        else:
            tokens.append(single if single is not None else double)
        pos = found.end()
    return tuple(tokens)


def _token_weight(token: str | int, element: str | int) -> int:
    if token in (STAR, INDEX_STAR):
        return 1
    if isinstance(token, int):
        return 2 if token == element else 0
    if token == element or (isinstance(element, int) and token == str(element)):
        return 2
    return 0


def path_weight(tokens: tuple[str | int, ...], location: Location) -> int:
    """How well a rule path covers a location (0 when it does not apply at all)."""
    if len(tokens) > len(location):
        return 0
    weight = 2  # the root
    for token, element in zip(tokens, location):
        token_weight = _token_weight(token, element)
        if not token_weight:
            return 0
        weight *= token_weight
    return weight


def xml_path_weight(tokens: tuple[str | int, ...], location: Location) -> tuple[int, bool]:
    """Like path_weight for XML locations, which carry an index after each element
    name that rule authors may or may not write (`$.a.b['@x']` and `$.a.b[*]['@x']`
    both name attribute x of every b). Returns the weight and whether it is exact."""

    def walk(t: int, e: int) -> tuple[int, bool]:
        if t == len(tokens):
            rest = location[e:]
            return 1, all(isinstance(x, int) for x in rest)
        best = (0, False)
        if e < len(location):
            weight = _token_weight(tokens[t], location[e])
            if weight:
                inner, exact = walk(t + 1, e + 1)
                if inner:
                    best = max(best, (weight * inner, exact))
            if isinstance(location[e], int) and not isinstance(tokens[t], int) and tokens[t] != INDEX_STAR:
                best = max(best, walk(t, e + 1))
        if tokens[t] == INDEX_STAR:
            best = max(best, walk(t + 1, e))
        return best

    weight, exact = walk(0, 0)
    return weight * 2, exact


def select_rule(ruleset: RuleSet | None, location: Location, *, xml: bool = False) -> RuleChoice | None:
    """The rules that apply at ``location`` (the most specific rule path wins), or None.
    With ``xml``, rule paths are weighed against XML locations (`xml_path_weight`)."""
    if not ruleset:
        return None
    return _memo_of(ruleset, xml).select(location)


def rule_selector(ruleset: RuleSet | None) -> Callable[[Location], RuleChoice | None]:
    """`select_rule` for one rule set and many locations (a body walk): the memo is found once."""
    if not ruleset:
        return _no_rule
    return _memo_of(ruleset, False).select


def _no_rule(location: Location) -> None:
    return None


class _Memo:
    """The rule choices made for one rule set, by location; one RuleChoice per (rule path, exact)."""

    __slots__ = ("choices", "made", "ruleset", "xml")

    def __init__(self, ruleset: RuleSet, xml: bool) -> None:
        self.ruleset = ruleset  # kept alive, so that its id is not reused while it is a key
        self.xml = xml
        self.choices: dict[Location, RuleChoice | None] = {}
        self.made: dict[tuple[str, bool], RuleChoice] = {}

    def select(self, location: Location) -> RuleChoice | None:
        found = self.choices.get(location, _UNKNOWN)
        if found is not _UNKNOWN:
            return found  # type: ignore[return-value]
        long_keys = sum(len(e) for e in location if isinstance(e, str)) > _MEMO_KEY_CHARS
        choice = self.choose(location, long_keys)
        if not long_keys:
            self.remember(location, choice)
        return choice

    def choose(self, location: Location, long_keys: bool) -> RuleChoice | None:
        expressions = tuple(self.ruleset)
        if long_keys:
            found = _select(expressions, location, self.xml)
        else:
            found = _select_memo(expressions, _index_blind(expressions, location), self.xml)
        if found is None:
            return None
        choice = self.made.get(found)
        if choice is None:
            choice = self.made[found] = RuleChoice(self.ruleset[found[0]], found[1])
        return choice

    def remember(self, location: Location, choice: RuleChoice | None) -> None:
        global _memo_entries
        if _memo_entries >= _MEMO_ENTRIES:
            # Many rule sets (lazily compiled contracts come and go, arrayContains variants are made per
            # request) or long arrays: start again rather than grow.
            _memos.clear()
            _memo_entries = 0
        self.choices[location] = choice
        _memo_entries += 1


# A body walk asks for the rule of every location, and a list of a thousand items asks the same
# question a thousand times: the answer depends only on the rule paths and the location, so it is
# remembered. Locations with long keys (a client's) are not, so the memo stays small.
_MEMO_KEY_CHARS = 512
# Each request body is walked node by node, asking the same questions of the same rule set as the last
# request: the answers are kept per rule set (by its identity), so a repeat costs one dict lookup. At
# most this many answers are kept in all (a few MB); past it the memo starts again.
_MEMO_ENTRIES = 50_000
_UNKNOWN = object()
_memos: dict[tuple[int, bool], _Memo] = {}
_memo_entries = 0


def _memo_of(ruleset: RuleSet, xml: bool) -> _Memo:
    key = (id(ruleset), xml)
    memo = _memos.get(key)
    if memo is None or memo.ruleset is not ruleset:
        memo = _memos[key] = _Memo(ruleset, xml)
    return memo


def _select(expressions: tuple[str, ...], location: Location, xml: bool) -> tuple[str, bool] | None:
    best: tuple[int, int] = (0, -1)
    choice: tuple[str, bool] | None = None
    for expression in expressions:
        tokens = parse_path(expression)
        if xml:
            weight, exact = xml_path_weight(tokens, location)
        else:
            weight, exact = path_weight(tokens, location), len(tokens) == len(location)
        if weight and (weight, len(tokens)) > best:
            best = (weight, len(tokens))
            choice = (expression, exact)
    return choice


_select_memo = lru_cache(maxsize=8192)(_select)


@lru_cache(maxsize=1024)
def _names_no_index(expressions: tuple[str, ...]) -> bool:
    """No rule path names a particular array index ([3], or .3): then every index weighs the same."""
    return not any(
        isinstance(token, int) or (token not in (STAR, INDEX_STAR) and token.lstrip("-").isdigit())
        for expression in expressions
        for token in parse_path(expression)
    )


def _index_blind(expressions: tuple[str, ...], location: Location) -> Location:
    """The location with every array index as -1 when no rule can tell indices apart, so item 7 hits item 0's memo."""
    if not _names_no_index(expressions):
        return location
    return tuple(-1 if isinstance(element, int) else element for element in location)


def format_location(location: Location) -> str:
    """The location written as a rule path (`$.a[0]['x y']`): how mismatches name where they are."""
    out = "$"
    for element in location:
        if isinstance(element, int):
            out += f"[{element}]"
        elif re.fullmatch(r"[A-Za-z_][\w-]*", element):
            out += f".{element}"
        else:
            out += "['" + element.replace("'", "\\'") + "']"
    return out
