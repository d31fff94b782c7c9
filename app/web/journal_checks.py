"""Questions asked of the journal and of the contracts: "was POST /runs received twice with this body?" (verify)
and "which interactions come closest to this request, and why do they not match?" (near miss).

Both take plain data (parsed and checked by control_journal.py) and give plain data; a failed verification
says in words what was received on the route, as WireMock's verify does.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..contract.match.compare import match_request
from ..contract.model import MISSING, Body, Interaction
from ..contract.model import Request as ContractRequest
from ..domain.sessions import DEFAULT
from .dispatch import TRANSPORT_HEADERS, clipped, describe
from .journal_record import WITHHELD, withheld
from .served import Served

# A failure text lists at most this many of the requests received on the route.
LISTED_IN_FAILURE = 20
NEAR_MISSES = 3
# Similar paths are looked for among this many interactions at most: difflib's cost grows with their number.
SIMILARITY_SCAN = 5000


@dataclass(frozen=True)
class Expectation:
    """What a verification asks: requests of this method and path (a prefix when it ends in "*"), carrying
    this body (a JSON subset), these headers and query parameters, received a number of times."""

    method: str
    path: str
    body: Any = MISSING
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    at_least: int | None = None
    at_most: int | None = None
    session: str | None = None  # only requests of this session count (None: every session's)

    def on_route(self, record: dict[str, Any]) -> bool:
        """Whether the record was sent to this method and path (in the session asked about, if one was)."""
        path = str(record.get("path"))
        same_path = path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path
        same_session = self.session is None or record.get("session", DEFAULT) == self.session
        return record.get("method") == self.method and same_path and same_session

    def difference(self, record: dict[str, Any]) -> str | None:
        """Why the record is not what is expected, or None when it is."""
        headers = record.get("headers") or {}
        for name, value in self.headers.items():
            got = headers.get(name.lower())
            if got is None:
                return f"no header {name}"
            if got == WITHHELD:
                return f"header {name} is a credential: the journal withholds it, so it cannot be compared"
            if got != value:
                return f"header {name} is {clipped(got, 80)!r}, not {clipped(value, 80)!r}"
        query = record.get("query") or {}
        for name, value in self.query.items():
            if value not in (query.get(name) or []):
                return f"query {name} is {query.get(name)!r}, not {value!r}"
        if self.body is MISSING:
            return None
        if record.get("bodyClipped"):
            return f"its body of {record.get('bodyBytes')} bytes was clipped (PACTMOCK_JOURNAL_BODY_BYTES)"
        text = record.get("body")
        if text is None:
            return "it has no body" if "bodyBase64" not in record else "its body is not text"
        try:
            actual = json.loads(text)
        except (ValueError, RecursionError):
            return f"its body is not JSON: {clipped(text, 80)!r}"
        return subset_difference(self.body, actual, "$")

    def count_words(self) -> str:
        """The count asked for, in words."""
        if self.at_least == self.at_most and self.at_least is not None:
            return f"exactly {_times(self.at_least)}"
        if self.at_most is None:
            return f"at least {_times(self.at_least or 0)}"
        if self.at_least is None:
            return f"at most {_times(self.at_most)}"
        return f"between {self.at_least} and {_times(self.at_most)}"

    def counted(self, matched: int) -> bool:
        """Whether `matched` requests is the count asked for."""
        return (self.at_least is None or matched >= self.at_least) and (self.at_most is None or matched <= self.at_most)

    def words(self) -> str:
        """The expected request in words."""
        parts = [f"{self.method} {self.path}"]
        if self.session is not None:
            parts.append(f"in session {self.session!r}")
        if self.query:
            parts.append(f"with query {json.dumps(self.query)}")
        if self.headers:
            parts.append(f"with headers {json.dumps(self.headers)}")
        if self.body is not MISSING:
            parts.append(f"with a body containing {clipped(json.dumps(self.body), 200)}")
        return " ".join(parts)


def _times(count: int) -> str:
    return f"{count} time" if count == 1 else f"{count} times"


def subset_difference(expected: Any, actual: Any, where: str) -> str | None:
    """Where `actual` does not contain `expected` (objects: every key, recursively; lists: element by element,
    the same length; anything else: equal), or None when it does."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where} is {_short(actual)}, not an object"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}.{key} is missing"
            found = subset_difference(value, actual[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where} is {_short(actual)}, not a list of {len(expected)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found = subset_difference(want, got, f"{where}[{index}]")
            if found:
                return found
        return None
    same = type(expected) is type(actual) or (_number(expected) and _number(actual))
    if same and expected == actual:
        return None
    return f"{where} is {_short(actual)}, not {_short(expected)}"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _short(value: Any) -> str:
    return clipped(json.dumps(value, ensure_ascii=False), 80)


def verify(expectation: Expectation, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The verification's answer: how many matched, whether that is the count asked for, and when it is not,
    a failure text listing what was received on the route (or, when nothing was, on which routes)."""
    on_route = [r for r in records if expectation.on_route(r)]
    differences = [expectation.difference(r) for r in on_route]
    matched = sum(1 for d in differences if d is None)
    answer: dict[str, Any] = {"ok": expectation.counted(matched), "matched": matched, "onRoute": len(on_route)}
    answer["expected"] = f"{expectation.words()}, {expectation.count_words()}"
    if answer["ok"]:
        return answer
    lines = [f"expected {answer['expected']}, but it was received {_times(matched)}."]
    if on_route:
        where = f" in session {expectation.session!r}" if expectation.session is not None else ""
        lines.append(
            f"{expectation.method} {expectation.path} was received{where} {_times(len(on_route))} (newest first):"
        )
        for record, difference in list(zip(on_route, differences, strict=True))[:LISTED_IN_FAILURE]:
            verdict = "matches" if difference is None else f"does not match: {difference}"
            lines.append(f"  {record.get('time')} {record.get('status')} {record.get('path')}: {verdict}")
        if len(on_route) > LISTED_IN_FAILURE:
            lines.append(f"  ... and {len(on_route) - LISTED_IN_FAILURE} older ones")
    else:
        routes = Counter(
            f"{r.get('method')} {r.get('path')}" + (f" [{r.get('session', DEFAULT)}]" if expectation.session else "")
            for r in records
        )
        others = ", ".join(f"{route} ({count})" for route, count in routes.most_common(LISTED_IN_FAILURE))
        lines.append(
            f"Nothing was received on {expectation.method} {expectation.path}; the journal holds: {others}."
            if records
            else "The journal is empty."
        )
    answer["failure"] = "\n".join(lines)
    return answer


def near_misses(request: ContractRequest, served: Served) -> list[dict[str, Any]]:
    """The interactions closest to `request`, each with its mismatches: those on its method and path first
    (fewest mismatches first), then the same path with another method, then the most similar paths."""
    router = served.router
    tiers: list[list[Interaction]] = [list(router.candidates(request.method, request.path))]
    taken = {id(i) for i in tiers[0]}
    if len(taken) < NEAR_MISSES:
        tiers.append([i for i in router.suggest(request.method, request.path, limit=NEAR_MISSES) if id(i) not in taken])
        taken |= {id(i) for i in tiers[-1]}
    if len(taken) < NEAR_MISSES:
        tiers.append(_similar_paths(request, served, taken))
    judged = []
    for tier, interactions in enumerate(tiers):
        for order, interaction in enumerate(interactions):
            if interaction.parts().problem:
                continue
            mismatches = match_request(interaction.request, request, ignored_headers=TRANSPORT_HEADERS)
            judged.append(((tier, len(mismatches), order), interaction, mismatches))
    judged.sort(key=lambda entry: entry[0])
    return [
        {
            "interaction": describe(interaction),
            "matches": not mismatches,
            "mismatches": [withheld(m.as_dict()) for m in mismatches],
        }
        for _, interaction, mismatches in judged[:NEAR_MISSES]
    ]


def _similar_paths(request: ContractRequest, served: Served, taken: set[int]) -> list[Interaction]:
    """Interactions not yet taken whose paths are most like the request's (its own method first)."""
    pool = [i for i in served.contracts.interactions[:SIMILARITY_SCAN] if id(i) not in taken]
    paths = sorted({i.path for i in pool})
    best = difflib.get_close_matches(request.path[:256], paths, n=NEAR_MISSES, cutoff=0.0)
    ranked = sorted((i for i in pool if i.path in best), key=lambda i: (best.index(i.path), i.method != request.method))
    return ranked[:NEAR_MISSES]


def contract_request(
    method: str, path: str, query: dict[str, list[str]], headers: dict[str, list[str]], body: Any
) -> ContractRequest:
    """A request given as data (near miss) as the engine judges it: a JSON body encoded, a text one as it is."""
    content_type = next((v[0] for k, v in headers.items() if k.lower() == "content-type" and v), None)
    if body is MISSING or body is None:
        data: bytes | object = MISSING
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode("utf-8")
        if content_type is None:
            content_type = "application/json"
            headers = {**headers, "Content-Type": [content_type]}
    return ContractRequest(method=method, path=path, query=query, headers=headers, body=Body(data, content_type))
