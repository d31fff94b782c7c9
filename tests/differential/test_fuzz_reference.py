"""The differential fuzzer: pactmock's verdict (served or refused) against the reference stub's, for generated
pacts of spec V2 to V4 and requests near them (fuzz_pacts).

Every probe on which the two disagree, or that pactmock does not answer, must be explained by a named
difference below: either a deliberate one (the reference is more lenient, or wrong; docs/conformance.md
says why) or a known pactmock bug. Each difference carries a minimal case that is served with the batch:
a deliberate difference must still show on it, and a known bug is a strict expected failure, so fixing the
bug turns `test_known_bug_is_still_there` red until the bug is taken off KNOWN_BUGS.

FUZZ_CASES=<n> runs more cases (2,000 by default), FUZZ_SEED=<n> draws another sequence (CI runs the fixed one).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.differential.fuzz_bodies import FORM, LIST_PARAMETER, TEXT
from tests.differential.fuzz_pacts import draw_cases
from tests.differential.fuzz_servers import Outcome, judge
from tests.differential.fuzz_values import PLACEHOLDER, V2, V3, V4, Case, Probe
from tests.differential.fuzz_write import pact_file

CASES = int(os.environ.get("FUZZ_CASES", "2000"))
SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
PAYLOAD_METHODS = frozenset({"POST", "PUT", "PATCH"})
IGNORED_HEADERS = "reference ignores headers"
IGNORED_BODY = "reference ignores the body of a request without one"
BOOLEAN_KIND = "a JSON boolean example keeps its kind under a boolean matcher"
NOT_EMPTY_KIND = "notEmpty keeps the example's type"
SNIFFED_TYPE = "pactmock and the reference tell content types apart differently"


def _body_matcher(outcome: Outcome, case: Case, where: str) -> str | None:
    """The matcher the case's pact puts at a body location (`$.a`) or at the rule path the probe changed
    (`$.a[*]`, from its kind "body <rule path>: <mutation>"), as the fuzzer writes its rules."""
    rules = case.pact["interactions"][0]["request"].get("matchingRules", {})
    for path in (where, outcome.probe.kind.split(": ")[0].partition(" ")[2]):
        if case.spec == V2:
            rule = rules.get("$.body" + path[1:])
        else:
            rule = (rules.get("body", {}).get(path) or {"matchers": [None]})["matchers"][0]
        if isinstance(rule, dict):
            return str(rule.get("match"))
    return None


def _reasons(outcome: Outcome, case: Case) -> set[str | None]:
    """Why the reference served what pactmock refused, one reason per mismatch pactmock names (None: unknown)."""
    reasons: set[str | None] = set()
    for mismatch in outcome.pactmock.problem().get("mismatches", []) or [{}]:
        part, message, where = mismatch.get("part"), mismatch.get("message", ""), mismatch.get("path", "")
        if part == "header" and outcome.probe.part == "header":
            reasons.add(IGNORED_HEADERS)
        elif part == "body" and (outcome.probe.body == b"" or outcome.probe.method not in PAYLOAD_METHODS):
            reasons.add(IGNORED_BODY)
        elif (
            part == "body"
            and _body_matcher(outcome, case, where) == "boolean"
            and "a boolean but got string" in message
        ):
            reasons.add(BOOLEAN_KIND)
        elif part == "body" and _body_matcher(outcome, case, where) == "notEmpty" and " (like " in message:
            reasons.add(NOT_EMPTY_KIND)
        elif part == "body" and _body_matcher(outcome, case, where) == "contentType" and "it looks like" in message:
            reasons.add(SNIFFED_TYPE)
        else:
            reasons.add(None)
    return reasons


def _refusal_explained_by(name: str) -> Callable[[Outcome, Case], bool]:
    def applies(outcome: Outcome, case: Case) -> bool:
        if not _verdicts(outcome, "refused", "served"):
            return False
        reasons = _reasons(outcome, case)
        return name in reasons and None not in reasons

    return applies


def _verdicts(outcome: Outcome, mine: str, theirs: str) -> bool:
    return outcome.pactmock.verdict == mine and outcome.reference.verdict == theirs


@dataclass(frozen=True)
class Difference:
    name: str
    applies: Callable[[Outcome, Case], bool]
    repro: Case | None  # the minimal case that shows it, served with every batch
    fixed: Callable[[Outcome], bool] = lambda outcome: outcome.agrees


def _case(spec: str, request: dict[str, Any], probe: tuple[str, str, dict[str, str], bytes], kind: str) -> Case:
    """A hand-written minimal case: `request` (paths under PLACEHOLDER) and one probe, named as the fuzzer names
    its mutations ("<part> <where>: <mutation>")."""
    method, target, headers, body = probe
    only = Probe(0, kind, kind.split()[0], method, target, tuple(headers.items()), body)
    return Case(0, spec, pact_file(spec, request), [only])


JSON = {"Content-Type": "application/json"}
P = "/" + PLACEHOLDER

# Deliberate differences: the reference is more lenient than the specification, or gives up (see the doc).
EXPLAINED = [
    Difference(
        IGNORED_HEADERS,
        _refusal_explained_by(IGNORED_HEADERS),
        _case(
            V3,
            {"method": "GET", "path": P + "/h", "headers": {"X-Token": "abc"}},
            ("GET", P + "/h", {}, b""),
            "header X-Token: missing header",
        ),
    ),
    Difference(
        IGNORED_BODY,
        _refusal_explained_by(IGNORED_BODY),
        _case(
            V3,
            {"method": "POST", "path": P + "/b", "body": {"a": 1}},
            ("POST", P + "/b", JSON, b""),
            "body $: empty body",
        ),
    ),
    Difference(
        "pactmock treats equivalent percent-encodings as one path",
        lambda o, c: (
            _verdicts(o, "served", "refused")
            and o.probe.kind.endswith((": unreserved character encoded", ": hex in lower case"))
        ),
        _case(
            V3,
            {"method": "GET", "path": P + "/abc"},
            ("GET", P + "/%61bc", {}, b""),
            "path segment 1: unreserved character encoded",
        ),
    ),
    Difference(
        "reference gives up on a backtracking regex",
        lambda o, c: _verdicts(o, "refused", "no answer") and o.probe.kind.endswith(": adversarial"),
        _case(
            V3,
            {
                "method": "GET",
                "path": P + "/q",
                "query": {"q": ["ab cd"]},
                "matchingRules": {"query": {"q": {"matchers": [{"match": "regex", "regex": r"^(\w+\s?)*$"}]}}},
            },
            ("GET", P + "/q?q=" + "a" * 30 + "%21", {}, b""),
            "query q: adversarial",
        ),
    ),
    Difference(
        "pactmock cannot tell a reserved character in a path from its escape",
        lambda o, c: _verdicts(o, "served", "refused") and o.probe.kind.endswith(": reserved character not encoded"),
        _case(
            V3,
            {"method": "GET", "path": P + "/a%40b"},
            ("GET", P + "/a@b", {}, b""),
            "path segment 1: reserved character not encoded",
        ),
    ),
    Difference(
        BOOLEAN_KIND,
        _refusal_explained_by(BOOLEAN_KIND),
        _case(
            V3,
            {
                "method": "POST",
                "path": P + "/n",
                "headers": JSON,
                "body": {"n": True},
                "matchingRules": {"body": {"$.n": {"matchers": [{"match": "boolean"}]}}},
            },
            ("POST", P + "/n", JSON, b'{"n": "true"}'),
            "body $.n: wrong type",
        ),
    ),
    Difference(
        NOT_EMPTY_KIND,
        _refusal_explained_by(NOT_EMPTY_KIND),
        _case(
            V4,
            {
                "method": "POST",
                "path": P + "/e",
                "headers": {"Content-Type": ["application/json"]},
                "body": {"content": {"w": "abc"}, "contentType": "application/json", "encoded": False},
                "matchingRules": {"body": {"$.w": {"matchers": [{"match": "notEmpty"}]}}},
            },
            ("POST", P + "/e", JSON, b'{"w": 12}'),
            "body $.w: wrong type",
        ),
    ),
    Difference(
        SNIFFED_TYPE,
        _refusal_explained_by(SNIFFED_TYPE),
        _case(
            V3,
            {
                "method": "POST",
                "path": P + "/t",
                "headers": {"Content-Type": "text/plain"},
                "body": "hello you",
                "matchingRules": {"body": {"$": {"matchers": [{"match": "contentType", "value": "text/plain"}]}}},
            },
            ("POST", P + "/t", {"Content-Type": "text/plain"}, b'{"a": 1}'),
            "body $: JSON text",
        ),
    ),
]

# pactmock bugs: each repro disagrees today; when it agrees, the bug is fixed and comes off this list.
# pactmock bugs: each repro disagrees today; when it agrees, the bug is fixed and comes off this list. Empty since
# the fixes for percent-encoded paths, backtracking regexes, booleans written as text, eachKey values, equality on
# a repeated query parameter and impossible dates (docs/conformance.md keeps their minimal cases).
KNOWN_BUGS: list[Difference] = []
DIFFERENCES = EXPLAINED + KNOWN_BUGS


@dataclass
class Batch:
    cases: dict[int, Case]
    outcomes: list[Outcome]
    pinned: dict[str, Outcome]  # difference name -> its repro's outcome

    def in_question(self) -> list[Outcome]:
        """Probes the two servers disagree on, and any pactmock left unanswered or answered with an error."""
        return [o for o in self.outcomes if not o.agrees or o.pactmock.verdict not in ("served", "refused")]

    def explain(self, outcome: Outcome) -> str | None:
        case = self.cases[outcome.probe.case]
        return next((d.name for d in DIFFERENCES if d.applies(outcome, case)), None)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    cases = draw_cases(CASES, SEED)
    repros = [(d.name, d.repro) for d in DIFFERENCES if d.repro is not None]
    pinned_numbers = {}
    for offset, (name, repro) in enumerate(repros, start=len(cases) + 1):
        cases.append(repro.renumbered(offset))
        pinned_numbers[offset] = name
    outcomes = judge(cases, tmp_path_factory.mktemp("fuzz"))
    pinned = {pinned_numbers[o.probe.case]: o for o in outcomes if o.probe.case in pinned_numbers}
    return Batch({case.number: case for case in cases}, outcomes, pinned)


def _describe(batch: Batch, outcome: Outcome) -> str:
    request = batch.cases[outcome.probe.case].pact["interactions"][0]["request"]
    return (
        f"{outcome.probe.kind}: pactmock {outcome.pactmock.status}, reference {outcome.reference.status}\n"
        f"  pact request {json.dumps(request)}\n  probe {json.dumps(outcome.probe.as_dict())}\n"
        f"  pactmock said {outcome.pactmock.body[:400].decode(errors='replace')}"
    )


def test_every_disagreement_is_explained(batch: Batch) -> None:
    questioned = batch.in_question()
    explained = Counter(batch.explain(o) for o in questioned)
    unexplained = [o for o in questioned if batch.explain(o) is None]
    summary = f"{len(batch.cases)} cases, {len(batch.outcomes)} probes, {len(questioned)} in question: " + ", ".join(
        f"{name or 'UNEXPLAINED'} {count}" for name, count in explained.most_common()
    )
    print(summary)
    shown = "\n".join(_describe(batch, o) for o in unexplained[:15])
    assert not unexplained, f"{summary}\n{len(unexplained)} unexplained disagreements, the first:\n{shown}"


@pytest.mark.parametrize("difference", EXPLAINED, ids=lambda d: d.name)
def test_a_deliberate_difference_still_shows(batch: Batch, difference: Difference) -> None:
    outcome = batch.pinned[difference.name]
    assert not outcome.agrees, _describe(batch, outcome)
    assert batch.explain(outcome) == difference.name, _describe(batch, outcome)


@pytest.mark.parametrize(
    "difference",
    [pytest.param(d, marks=pytest.mark.xfail(strict=True, reason="a known pactmock bug")) for d in KNOWN_BUGS],
    ids=lambda d: d.name,
)
def test_known_bug_is_still_there(batch: Batch, difference: Difference) -> None:
    """Fails (as expected) while the bug is there; passes, and so turns red, once it is fixed."""
    outcome = batch.pinned[difference.name]
    assert difference.fixed(outcome), _describe(batch, outcome)


def test_the_batch_says_something(batch: Batch) -> None:
    """A fuzzer whose probes all agree trivially proves nothing: both servers must serve and refuse often."""
    verdicts = Counter(o.reference.verdict for o in batch.outcomes)
    assert verdicts["served"] > len(batch.outcomes) / 5, verdicts
    assert verdicts["refused"] > len(batch.outcomes) / 5, verdicts
    assert sum(o.probe.kind == "example" for o in batch.outcomes) >= CASES
    # Each kind of request the fuzzer draws is there: query lists (class 8), text and form bodies.
    sent_types = Counter(dict(o.probe.headers).get("Content-Type") for o in batch.outcomes)
    assert sent_types[TEXT] > CASES / 50 and sent_types[FORM] > CASES / 50, sent_types
    assert sum(o.probe.kind.startswith(f"query {LIST_PARAMETER}:") for o in batch.outcomes) > CASES / 50
