"""XML bodies: elements compared by qualified name, attributes as a map, text,
and child elements grouped by name and compared in order.

Locations are `(root, child, index, ..., '@attr' | '#text')`, so rules written
as `$.a.b['@x']`, `$.a.b[*]['@x']` or `$.a.*['@x']` all reach attribute x.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from ..model import RuleSet
from .jsonbody import Finding
from .rulepaths import Location, RuleChoice, select_rule
from .rules import TYPE_LIKE, check_all, show


class XmlSyntaxError(ValueError):
    """A body that is not well-formed XML; the message says where."""

    pass


def parse_xml(text: Any) -> ET.Element:
    """The root element of an XML body given as text or bytes; XmlSyntaxError when it is not well-formed."""
    data = text if isinstance(text, bytes) else str(text).encode("utf-8")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise XmlSyntaxError(f"body is not well-formed XML ({exc})") from None


def local_name(tag: str) -> str:
    """An element or attribute name without its `{namespace}` part."""
    return tag.rsplit("}", 1)[-1]


def _qualified(tag: str) -> str:
    if tag.startswith("{"):
        uri, name = tag[1:].split("}", 1)
        return f"{name} (namespace {uri})"
    return tag


@dataclass
class XmlWalker:
    """Compares XML elements under body matching rules, collecting every mismatch in ``findings``.

    ``allow_unexpected`` is the Pact asymmetry (see JsonWalker): a response may carry attributes and
    elements the contract lacks, a request may not.
    """

    ruleset: RuleSet | None
    allow_unexpected: bool
    findings: list[Finding] = field(default_factory=list)

    def _rule(self, location: Location) -> RuleChoice | None:
        return select_rule(self.ruleset, location, xml=True)

    def _fail(self, location: Location, expected: Any, actual: Any, message: str) -> None:
        self.findings.append(Finding(location, expected, actual, message))

    def compare_root(self, expected: ET.Element, actual: ET.Element) -> None:
        """Compare two documents from their root elements, located by the expected root's local name."""
        self.compare_element((local_name(expected.tag),), expected, actual)

    def compare_element(self, location: Location, expected: ET.Element, actual: ET.Element) -> None:
        """Compare one element's tag, attributes, text and children at ``location``.
        Under a type-like rule at exactly that location the tag may differ."""
        choice = self._rule(location)
        type_like = choice is not None and choice.exact and any(m["match"] in TYPE_LIKE for m in choice.rules.matchers)
        if expected.tag != actual.tag and not type_like:
            self._fail(
                location,
                _qualified(expected.tag),
                _qualified(actual.tag),
                f"expected element <{_qualified(expected.tag)}> but got <{_qualified(actual.tag)}>",
            )
            return
        self._attributes(location, expected, actual)
        self._text(location, expected, actual)
        self._children(location, expected, actual, choice)

    def _value(self, location: Location, expected: str, actual: str, what: str) -> None:
        choice = self._rule(location)
        if choice is not None:
            for message in check_all(
                choice.rules.matchers, choice.rules.combine, expected, actual, stringly=True, inherited=not choice.exact
            ):
                self._fail(location, expected, actual, f"{what}: {message}")
        elif expected != actual:
            self._fail(location, expected, actual, f"{what}: expected {show(expected)} but got {show(actual)}")

    def _attributes(self, location: Location, expected: ET.Element, actual: ET.Element) -> None:
        for name, value in expected.attrib.items():
            where = location + ("@" + local_name(name),)
            if name not in actual.attrib:
                self._fail(where, value, None, f"expected attribute {local_name(name)}={show(value)} but it is missing")
            else:
                self._value(where, value, actual.attrib[name], f"attribute {local_name(name)}")
        if not self.allow_unexpected:
            for name in actual.attrib.keys() - expected.attrib.keys():
                where = location + ("@" + local_name(name),)
                self._fail(where, None, actual.attrib[name], f"unexpected attribute {local_name(name)}")

    def _text(self, location: Location, expected: ET.Element, actual: ET.Element) -> None:
        want = (expected.text or "").strip()
        got = (actual.text or "").strip()
        if want or got:
            self._value(location + ("#text",), want, got, "text")

    def _children(
        self, location: Location, expected: ET.Element, actual: ET.Element, choice: RuleChoice | None
    ) -> None:
        want, got = list(expected), list(actual)
        if choice is not None and choice.exact and any(m["match"] in TYPE_LIKE for m in choice.rules.matchers):
            # A type rule on an element makes its children a list held to the example(s).
            for message in check_all(choice.rules.matchers, choice.rules.combine, want, got):
                self._fail(location, len(want), len(got), f"children: {message}")
            self._by_example(location, want, got)
            return
        groups: dict[str, list[ET.Element]] = {}
        for child in got:
            groups.setdefault(child.tag, []).append(child)
        seen: set[str] = set()
        for child in want:
            if child.tag in seen:
                continue
            seen.add(child.tag)
            self._group(location, [c for c in want if c.tag == child.tag], groups.get(child.tag, []))
        if not self.allow_unexpected:
            for tag, children in groups.items():
                if tag not in seen:
                    where = location + (local_name(tag), 0)
                    self._fail(
                        where, None, local_name(tag), f"unexpected element <{_qualified(tag)}> ({len(children)} found)"
                    )

    def _group(self, location: Location, want: list[ET.Element], got: list[ET.Element]) -> None:
        name = local_name(want[0].tag)
        group_location = location + (name,)
        choice = self._rule(group_location)
        if choice is not None and choice.exact and any(m["match"] in TYPE_LIKE for m in choice.rules.matchers):
            for message in check_all(choice.rules.matchers, choice.rules.combine, want, got):
                self._fail(group_location, len(want), len(got), f"<{name}> elements: {message}")
            self._by_example(location, want, got)
            return
        if len(got) < len(want):
            self._fail(
                group_location + (len(got),),
                len(want),
                len(got),
                f"expected {len(want)} <{name}> element(s) but got {len(got)}",
            )
        elif len(got) > len(want) and not self.allow_unexpected:
            self._fail(
                group_location + (len(want),),
                len(want),
                len(got),
                f"expected {len(want)} <{name}> element(s) but got {len(got)} (unexpected extra)",
            )
        for index, (example, child) in enumerate(zip(want, got)):
            self.compare_element(group_location + (index,), example, child)

    def _by_example(self, location: Location, want: list[ET.Element], got: list[ET.Element]) -> None:
        if not want:
            return
        counts: dict[str, int] = {}
        for index, child in enumerate(got):
            example = want[index] if index < len(want) else want[0]
            name = local_name(child.tag)
            position = counts.get(name, 0)
            counts[name] = position + 1
            self.compare_element(location + (name, position), example, child)
