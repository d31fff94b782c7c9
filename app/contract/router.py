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


class _PathPattern:
    """A path given by a matcher. A lone regex is compiled the first time a request reaches its bucket
    (compiling thousands at start would delay the first answer); anything else takes the matchers' slow path."""

    __slots__ = ("_compiled", "_regex", "interaction")

    def __init__(self, regex: str | None, interaction: Interaction) -> None:
        self._regex = regex
        self._compiled: re.Pattern[str] | None = None
        self.interaction = interaction

    def matches(self, path: str) -> bool:
        if self._compiled is None and self._regex is not None:
            try:
                self._compiled = re.compile(self._regex)
            except re.error:
                self._regex = None  # the slow path reports the broken regex as a mismatch
        if self._compiled is not None:
            return self._compiled.fullmatch(path) is not None
        rule = self.interaction.path_rule
        assert rule is not None  # only interactions with a path rule are bucketed
        return not check_all(rule.matchers, rule.combine, self.interaction.path, path, stringly=True)


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
        # method -> literal prefix up to a "/" -> the paths given by matchers there
        self._patterned: dict[str, dict[str, list[_PathPattern]]] = {}
        self._all: list[Interaction] = []
        # path -> interactions, and first segment -> interactions: only a request no interaction has
        # a route for needs them, so they are built then, not at start.
        self._suggestion_index: tuple[dict[str, list[Interaction]], dict[str, list[Interaction]]] | None = None
        self.count = 0
        for interaction in interactions:
            self.add(interaction)

    def add(self, interaction: Interaction) -> None:
        # Only what an indexed interaction always holds: its request is compiled when first routed to.
        method, path, path_rule = interaction.method, interaction.path, interaction.path_rule
        self.count += 1
        self._all.append(interaction)
        self._suggestion_index = None
        if path_rule is None:
            self._literal.setdefault((method, path), []).append(interaction)
            return
        regexes = [m.get("regex", "") for m in path_rule.matchers if m["match"] == "regex"]
        only_regex = len(regexes) == len(path_rule.matchers) == 1
        prefix = _literal_prefix(regexes[0]) if only_regex else ""
        # Bucket under the literal prefix up to its last "/": a request path then needs one
        # dictionary lookup per segment of its own, however many patterns are loaded.
        bucket = prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""
        pattern = _PathPattern(regexes[0] if only_regex else None, interaction)
        self._patterned.setdefault(method, {}).setdefault(bucket, []).append(pattern)

    def candidates(self, method: str, path: str) -> list[Interaction]:
        method = method.upper()
        found = list(self._literal.get((method, path), ()))
        buckets = self._patterned.get(method)
        if not buckets:
            return found
        keys = [""] + [path[: i + 1] for i, char in enumerate(path) if char == "/"]
        for key in keys:
            found += [pattern.interaction for pattern in buckets.get(key, ()) if pattern.matches(path)]
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

        A candidate found broken when compiled (see index.py) cannot judge the request: it is chosen
        only when no sound candidate matches fully, and its stand-in response says what is wrong.
        """
        candidates = self.candidates(actual.method, actual.path)
        if not candidates:
            return RouteResult(None, suggestions=self.suggest(actual.method, actual.path))
        parts = [(i.parts(), i) for i in candidates]
        scored = [
            (match_request(p.request, actual, ignored_headers=ignored_headers), i) for p, i in parts if not p.problem
        ]
        full = [i for mismatches, i in scored if not mismatches]
        if len(full) == 1:
            return RouteResult(full[0])
        if not full and len(scored) < len(parts):
            return RouteResult(next(i for p, i in parts if p.problem))
        if len(scored) == 1:
            return RouteResult(None, mismatches=scored[0][0], closest=scored[0][1])
        active = active_states() if callable(active_states) else active_states
        if full:
            return RouteResult(max(full, key=lambda i: _state_preference(i, active)))
        mismatches, closest = min(scored, key=lambda pair: (len(pair[0]), -_state_preference(pair[1], active)))
        return RouteResult(None, mismatches=mismatches, closest=closest)

    def suggest(self, method: str, path: str, limit: int = 3) -> list[Interaction]:
        """Interactions a client probably meant: same path with another method, else similar paths."""
        by_path, by_segment = self._suggestion_index or self._index_for_suggestions()
        same_path = by_path.get(path)
        if same_path:
            return same_path[:limit]
        pool = by_segment.get(_first_segment(path)) or [i for bucket in by_segment.values() for i in bucket[:50]]
        pool = pool[:_MAX_SUGGESTION_SCAN]
        paths = sorted({i.path for i in pool})
        best = difflib.get_close_matches(path, paths, n=limit, cutoff=0.0)
        ranked = sorted(
            (i for i in pool if i.path in best),
            key=lambda i: (best.index(i.path), i.method != method.upper()),
        )
        return ranked[:limit]

    def _index_for_suggestions(self) -> tuple[dict[str, list[Interaction]], dict[str, list[Interaction]]]:
        by_path: dict[str, list[Interaction]] = {}
        by_segment: dict[str, list[Interaction]] = {}
        for interaction in self._all:
            by_path.setdefault(interaction.path, []).append(interaction)
            by_segment.setdefault(_first_segment(interaction.path), []).append(interaction)
        # Built whole before it is published: a thread that races this one builds the same index.
        self._suggestion_index = (by_path, by_segment)
        return by_path, by_segment


def _state_preference(interaction: Interaction, active: frozenset[str]) -> int:
    names = interaction.state_names
    if names and all(name in active for name in names):
        return 2
    return 1 if not names else 0
