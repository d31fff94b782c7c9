"""Walk an expected and an actual JSON value side by side, collecting every mismatch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import RuleList, RuleSet
from .rulepaths import Location, RuleChoice, rule_selector
from .rules import TYPE_LIKE, check_all, described, kind_of, show, values_equal


@dataclass
class Finding:
    """One mismatch a body walk found: where, what the contract has there, what came, and the sentence."""

    location: Location
    expected: Any
    actual: Any
    message: str


@dataclass
class JsonWalker:
    """Compares JSON values under body matching rules.

    ``allow_unexpected_keys`` is the Pact asymmetry: a provider may send more
    than the consumer reads (responses), a consumer may not send more than the
    provider expects (requests).
    """

    ruleset: RuleSet | None
    allow_unexpected_keys: bool
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rule_at = rule_selector(self.ruleset)

    def compare(self, location: Location, expected: Any, actual: Any) -> None:
        """Compare ``actual`` with ``expected`` at ``location``, under the rule that applies there if any.
        Every mismatch found goes to ``findings``."""
        choice = self._rule_at(location)
        if choice is None:
            self._plain(location, expected, actual)
        else:
            self._ruled(location, expected, actual, choice)

    def _fail(self, location: Location, expected: Any, actual: Any, message: str) -> None:
        self.findings.append(Finding(location, expected, actual, message))

    def _plain(self, location: Location, expected: Any, actual: Any) -> None:
        if isinstance(expected, dict) and isinstance(actual, dict):
            self._object(location, expected, actual)
        elif isinstance(expected, list) and isinstance(actual, list):
            self._array_in_order(location, expected, actual)
        elif not values_equal(expected, actual):
            self._fail(location, expected, actual, f"expected {described(expected)} but got {described(actual)}")

    def _object(self, location: Location, expected: dict[str, Any], actual: dict[str, Any]) -> None:
        for key, value in expected.items():
            if key in actual:
                self.compare(location + (key,), value, actual[key])
            else:
                self._fail(
                    location + (key,), value, None, f"expected key {key!r} ({described(value)}) but it is missing"
                )
        if not self.allow_unexpected_keys:
            for key in actual.keys() - expected.keys():
                self._fail(
                    location + (key,), None, actual[key], f"unexpected key {key!r} (the contract does not allow it)"
                )

    def _array_in_order(self, location: Location, expected: list[Any], actual: list[Any]) -> None:
        if len(expected) != len(actual):
            self._fail(
                location, expected, actual, f"expected an array of {len(expected)} item(s) but got {len(actual)}"
            )
        for index, (item, got) in enumerate(zip(expected, actual)):
            self.compare(location + (index,), item, got)

    def _ruled(self, location: Location, expected: Any, actual: Any, choice: RuleChoice) -> None:
        matchers = choice.matchers
        inherited = not choice.exact
        if inherited and choice.only_equality:
            self._plain(location, expected, actual)
            return
        for message in check_all(matchers, choice.rules.combine, expected, actual, inherited=inherited):
            self._fail(location, expected, actual, message)
        if not isinstance(actual, (dict, list)):
            return
        kinds = choice.kinds
        if "arrayContains" in kinds:
            for matcher in matchers:
                if matcher["match"] == "arrayContains" and isinstance(actual, list):
                    self._array_contains(location, expected, actual, matcher)
            return
        if (type(expected) is not type(actual) and kind_of(expected) != kind_of(actual)) or not kinds & TYPE_LIKE:
            return
        if isinstance(actual, list):
            self._array_by_example(location, expected, actual, matchers)
        else:
            self._object_by_example(location, expected, actual, matchers)

    def _array_by_example(
        self, location: Location, expected: list[Any], actual: list[Any], matchers: tuple[dict[str, Any], ...]
    ) -> None:
        each_value = next((m for m in matchers if m["match"] == "eachValue"), None)
        template_source = expected or ([each_value["value"]] if each_value and "value" in each_value else [])
        if not template_source:
            return
        for index, got in enumerate(actual):
            example = template_source[index] if index < len(template_source) else template_source[0]
            self._child(location + (index,), example, got, each_value)

    def _object_by_example(
        self, location: Location, expected: dict[str, Any], actual: dict[str, Any], matchers: tuple[dict[str, Any], ...]
    ) -> None:
        kinds = {m["match"] for m in matchers}
        each_value = next((m for m in matchers if m["match"] == "eachValue"), None)
        for matcher in matchers:
            if matcher["match"] == "eachKey":
                for key in actual:
                    rules = tuple(matcher.get("rules", ()))
                    for message in check_all(rules, "AND", key, key, stringly=True):
                        self._fail(location + (key,), None, key, f"key {key!r}: {message}")
        if "eachKey" in kinds and not kinds & {"values", "eachValue"}:
            # eachKey speaks of the keys only: a value is held to nothing unless a rule names its own path
            # of its example's keys (the reference leaves other keys' values unchecked, as eachKey does not cascade).
            for key, got in actual.items():
                choice = self._rule_at(location + (key,)) if key in expected else None
                if choice is not None and choice.exact:
                    self._ruled(location + (key,), expected[key], got, choice)
            return
        if kinds & {"values", "eachValue", "eachKey"}:
            # Keys are free: each value is held to the example under the same key, or the first one.
            first = next(iter(expected.values()), None) if expected else None
            template = each_value.get("value") if each_value else None
            for key, got in actual.items():
                example = expected.get(key, first)
                if example is None and isinstance(template, dict):
                    example = next(iter(template.values()), None)
                if example is not None:
                    self._child(location + (key,), example, got, each_value)
            return
        self._object(location, expected, actual)

    def _child(self, location: Location, example: Any, got: Any, each_value: dict[str, Any] | None) -> None:
        if each_value is None:
            self.compare(location, example, got)
            return
        choice = self._rule_at(location)
        if choice is not None and choice.exact:
            self._ruled(location, example, got, choice)
            return
        rules = RuleList(tuple(each_value.get("rules", ())) or ({"match": "type"},))
        self._ruled(location, example, got, RuleChoice(rules, True))

    def _array_contains(self, location: Location, expected: Any, actual: list[Any], matcher: dict[str, Any]) -> None:
        for number, variant in enumerate(matcher.get("variants", [])):
            index = int(variant.get("index", number))
            example = expected[index] if isinstance(expected, list) and index < len(expected) else None
            sub_rules = _variant_rules(variant.get("rules", {}))
            if not any(_matches_variant(sub_rules, example, item, self.allow_unexpected_keys) for item in actual):
                self._fail(
                    location,
                    example,
                    actual,
                    f"expected the array to contain an item like {show(example)} (variant {index}) but none matches",
                )


def _variant_rules(raw: dict[str, Any]) -> RuleSet:
    from ..read.normalize import normalize_rules

    if not raw:
        return {}
    # Variants carry body rules rooted at the item, in either V3 or category form.
    wrapped = raw if "body" in raw else {"body": raw}
    return normalize_rules(wrapped, "V4").get("body", {})


def _matches_variant(rules: RuleSet, example: Any, item: Any, allow_unexpected_keys: bool) -> bool:
    walker = JsonWalker(rules, allow_unexpected_keys)
    walker.compare((), example, item)
    return not walker.findings
