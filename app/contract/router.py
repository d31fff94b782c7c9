"""Find the interactions a request may be aimed at, then the one it satisfies.

Literal paths sit in a dictionary keyed by (method, path), so their lookup costs
the same with ten interactions or a hundred thousand. Paths given by a matcher
(regex, type, ...) are bucketed by the first segment of their literal prefix and
only the bucket the request's path falls into is tried.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .compare import match_request
from .model import Interaction, Mismatch, Request
from .rules import check_all

_REGEX_META = set(".^$*+?{}[]\\|()")
_MAX_SUGGESTION_SCAN = 2000


@dataclass
class RouteResult:
    """The interaction to answer with, or the closest near-miss and why it failed."""

    interaction: Interaction | None
    mismatches: list[Mismatch] = field(default_factory=list)
    closest: Interaction | None = None
    suggestions: list[Interaction] = field(default_factory=list)

    @property
    def route_found(self) -> bool:
        return self.interaction is not None or self.closest is not None


def _first_segment(path: str) -> str:
    parts = path.split("/", 2)
    return "/" + parts[1] if len(parts) > 1 else path


def _compile(regex: str) -> re.Pattern[str] | None:
    try:
        return re.compile(regex)
    except re.error:
        return None  # the slow path reports the broken regex as a mismatch


def _literal_prefix(regex: str) -> str:
    if "|" in regex:
        return ""  # an alternation may start anywhere: only the catch-all bucket is safe
    text = regex[1:] if regex.startswith("^") else regex
    prefix = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "/-.":
            prefix.append(text[i + 1])
            i += 2
            continue
        if char in _REGEX_META:
            # a quantifier makes the previous character optional
            if char in "?*{" and prefix:
                prefix.pop()
            break
        prefix.append(char)
        i += 1
    return "".join(prefix)


class Router:
    def __init__(self, interactions: Iterable[Interaction] = ()) -> None:
        self._literal: dict[tuple[str, str], list[Interaction]] = {}
        # method -> literal prefix up to a "/" -> (compiled regex or None, interaction)
        self._patterned: dict[str, dict[str, list[tuple[re.Pattern[str] | None, Interaction]]]] = {}
        self._by_path: dict[str, list[Interaction]] = {}
        self._by_segment: dict[str, list[Interaction]] = {}
        self.count = 0
        for interaction in interactions:
            self.add(interaction)

    def add(self, interaction: Interaction) -> None:
        request = interaction.request
        method = request.method.upper()
        path_rule = (request.rules.get("path") or {}).get("")
        self.count += 1
        self._by_path.setdefault(request.path, []).append(interaction)
        self._by_segment.setdefault(_first_segment(request.path), []).append(interaction)
        if path_rule is None:
            self._literal.setdefault((method, request.path), []).append(interaction)
            return
        regexes = [m.get("regex", "") for m in path_rule.matchers if m["match"] == "regex"]
        only_regex = len(regexes) == len(path_rule.matchers) == 1
        prefix = _literal_prefix(regexes[0]) if only_regex else ""
        compiled = _compile(regexes[0]) if only_regex else None
        # Bucket under the literal prefix up to its last "/": a request path then needs one
        # dictionary lookup per segment of its own, however many patterns are loaded.
        bucket = prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""
        self._patterned.setdefault(method, {}).setdefault(bucket, []).append((compiled, interaction))

    def candidates(self, method: str, path: str) -> list[Interaction]:
        method = method.upper()
        found = list(self._literal.get((method, path), ()))
        buckets = self._patterned.get(method)
        if not buckets:
            return found
        keys = [""] + [path[: i + 1] for i, char in enumerate(path) if char == "/"]
        for key in keys:
            for compiled, interaction in buckets.get(key, ()):
                if compiled is not None:
                    if compiled.fullmatch(path):
                        found.append(interaction)
                    continue
                rule = interaction.request.rules["path"][""]
                if not check_all(rule.matchers, rule.combine, interaction.request.path, path, stringly=True):
                    found.append(interaction)
        return found

    def route(
        self,
        actual: Request,
        active_states: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
        ignored_headers: frozenset[str] = frozenset(),
    ) -> RouteResult:
        """The interaction `actual` fully matches, preferring those whose provider states are active.

        `active_states` may be a function: it is called only when several candidates compete, so the
        common single-candidate request never pays for looking the states up.
        """
        candidates = self.candidates(actual.method, actual.path)
        if not candidates:
            return RouteResult(None, suggestions=self.suggest(actual.method, actual.path))
        scored = [(match_request(i.request, actual, ignored_headers=ignored_headers), i) for i in candidates]
        full = [i for mismatches, i in scored if not mismatches]
        if len(full) == 1:
            return RouteResult(full[0])
        if len(scored) == 1:
            return RouteResult(None, mismatches=scored[0][0], closest=scored[0][1])
        active = active_states() if callable(active_states) else active_states
        if full:
            return RouteResult(max(full, key=lambda i: _state_preference(i, active)))
        mismatches, closest = min(scored, key=lambda pair: (len(pair[0]), -_state_preference(pair[1], active)))
        return RouteResult(None, mismatches=mismatches, closest=closest)

    def suggest(self, method: str, path: str, limit: int = 3) -> list[Interaction]:
        """Interactions a client probably meant: same path with another method, else similar paths."""
        same_path = self._by_path.get(path)
        if same_path:
            return same_path[:limit]
        pool = self._by_segment.get(_first_segment(path)) or [
            i for bucket in self._by_segment.values() for i in bucket[:50]
        ]
        pool = pool[:_MAX_SUGGESTION_SCAN]
        paths = sorted({i.request.path for i in pool})
        best = difflib.get_close_matches(path, paths, n=limit, cutoff=0.0)
        ranked = sorted(
            (i for i in pool if i.request.path in best),
            key=lambda i: (best.index(i.request.path), i.request.method.upper() != method.upper()),
        )
        return ranked[:limit]


def _state_preference(interaction: Interaction, active: frozenset[str]) -> int:
    names = interaction.state_names
    if names and all(name in active for name in names):
        return 2
    return 1 if not names else 0
