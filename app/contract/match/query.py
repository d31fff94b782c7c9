"""Query parameters (and form fields, which are compared the same way): each name with its list of values.

A parameter may repeat, so the contract gives each name a list. How a rule applies to it follows the
reference (pact-stub-server): `equality` compares the whole list (`?r=a&r=a` is not `r=a`);
`arrayContains` and `eachValue` hold the list as a JSON array; every other matcher judges each value,
against the example at the same index (or the first), and `min`/`max` count the values.
"""

from __future__ import annotations

from typing import Any

from ..model import Mismatch, RuleList, RuleSet
from .jsonbody import JsonWalker
from .rulepaths import format_location
from .rules import check_all, show

_LIST_MATCHERS = frozenset({"arrayContains", "eachValue"})
# The rule of a parameter as the rule set of a JSON array, made once per rule (rule memos key on its identity).
_LIST_RULESETS: dict[int, tuple[RuleList, RuleSet]] = {}


def match_query(
    expected: dict[str, list[str]], actual: dict[str, list[str]], ruleset: RuleSet | None, part: str = "query"
) -> list[Mismatch]:
    """Every expected parameter missing or breaking its rule, and every parameter the contract does not name.
    ``part`` says which these are: query parameters, or form fields of a body."""
    label = "query parameter" if part == "query" else "form field"
    mismatches: list[Mismatch] = []
    for name, want in expected.items():
        got = actual.get(name)
        if got is None:
            mismatches.append(
                Mismatch(part, name, want, None, f"{label} {name!r} is missing (expected {show(_one(want))})")
            )
            continue
        rule = (ruleset or {}).get(name) or (ruleset or {}).get(f"$.{name}")
        messages = _unequal(want, got) if rule is None else _ruled(rule, want, got)
        mismatches += [Mismatch(part, name, want, got, f"{label} {name!r}: {text}") for text in messages]
    for name in actual.keys() - expected.keys():
        mismatches.append(Mismatch(part, name, None, actual[name], f"unexpected {label} {name!r}"))
    return mismatches


def _unequal(want: list[str], got: list[str]) -> list[str]:
    return [] if want == got else [f"expected {show(_one(want))} but got {show(_one(got))}"]


def _ruled(rule: RuleList, want: list[str], got: list[str]) -> list[str]:
    kinds = {m["match"] for m in rule.matchers}
    if kinds & _LIST_MATCHERS:
        return _values_as_list(rule, want, got)
    messages = _length_failures(rule.matchers, got)
    if "equality" in kinds:
        # The reference compares the list of values whole: a repeated value is a different query.
        messages += _unequal(want, got)
        scalar = tuple(m for m in rule.matchers if m["match"] != "equality")
    else:
        scalar = rule.matchers
    if not scalar:
        return messages
    for index, value in enumerate(got):
        example = want[index] if index < len(want) else (want[0] if want else "")
        messages += check_all(scalar, rule.combine, example, value, stringly=True, inherited=True)
    return messages


def _values_as_list(rule: RuleList, want: list[str], got: list[str]) -> list[str]:
    held = _LIST_RULESETS.get(id(rule))
    if held is None or held[0] is not rule:
        if len(_LIST_RULESETS) >= 10_000:
            _LIST_RULESETS.clear()
        held = _LIST_RULESETS[id(rule)] = (rule, {"$": rule})
    walker = JsonWalker(held[1], allow_unexpected_keys=False)
    walker.compare((), want, got)
    return [f"{format_location(f.location)}: {f.message}" if f.location else f.message for f in walker.findings]


def _one(values: list[str]) -> Any:
    return values[0] if len(values) == 1 else values


def _length_failures(matchers: tuple[dict[str, Any], ...], values: list[str]) -> list[str]:
    failures = []
    for matcher in matchers:
        low, high = matcher.get("min"), matcher.get("max")
        if low is not None and len(values) < int(low):
            failures.append(f"expected at least {low} value(s) but got {len(values)}")
        if high is not None and len(values) > int(high):
            failures.append(f"expected at most {high} value(s) but got {len(values)}")
    return failures
