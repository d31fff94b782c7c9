"""Find the interactions a request may be aimed at, then the one it satisfies.

Literal paths sit in a dictionary keyed by (method, decoded path), so their lookup
costs the same with ten interactions or a hundred thousand. Paths given by a matcher
(regex, type, ...) are bucketed by their literal prefix up to a "/", and a request
tries only the buckets its own path's prefixes name, at the depths buckets exist:
cost and memory stay linear in the path's length. A path with more "/" than any
served interaction allows is refused before any of that.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..match.compare import match_request
from ..match.regexes import ContractRegex, RegexRefused, contract_regex, most_slashes
from ..match.rules import check_all
from ..match.uripath import decoded_path, decoded_regex, path_forms, same_path
from ..model import Interaction, Mismatch, Request
from .injection import bucket_prefix, path_takes, template

_REGEX_META = set(".^$*+?{}[]\\|()")
_MAX_SUGGESTION_SCAN = 2000
# Paths compared with the served ones to suggest the closest are cut to this: difflib's cost grows with it.
_SUGGESTION_PATH_CHARS = 256


@dataclass
class RouteResult:
    """The interaction to answer with, or the closest near-miss and why it failed."""

    interaction: Interaction | None
    mismatches: list[Mismatch] = field(default_factory=list)
    closest: Interaction | None = None
    suggestions: list[Interaction] = field(default_factory=list)
    # Why no interaction can have this path at all (deeper than any served one), when that is the answer.
    too_deep: str | None = None


def _first_segment(path: str) -> str:
    parts = path.split("/", 2)
    return "/" + parts[1] if len(parts) > 1 else path


class _PathPattern:
    """A path given by a matcher. A lone regex is compiled the first time a request reaches its bucket
    (compiling thousands at start would delay the first answer); anything else takes the matchers' slow path."""

    __slots__ = ("_compiled", "_regex", "interaction")

    def __init__(self, regex: str | None, interaction: Interaction) -> None:
        self._regex = regex
        self._compiled: tuple[ContractRegex, ...] | None = None
        self.interaction = interaction

    def matches(self, path: str) -> bool:
        if self._compiled is None and self._regex is not None:
            try:
                # The regex as written, and with the escapes it spells out decoded (see uripath.py).
                written = [self._regex, decoded_regex(self._regex)]
                self._compiled = tuple(contract_regex(regex) for regex in written if regex is not None)
            except RegexRefused:
                self._regex = None  # the slow path reports the refused regex as a mismatch
        if self._compiled is not None and any(r.fullmatch(f) for r in self._compiled for f in path_forms(path)):
            return True
        interaction = self.interaction
        rule, expression = interaction.path_rule, interaction.path_expression
        if expression is not None and (path_takes(expression, path) or same_path(interaction.path, path)):
            return True
        if rule is None or self._compiled is not None:
            return False
        return any(
            not check_all(rule.matchers, rule.combine, interaction.path, form, stringly=True)
            for form in path_forms(path)
        )


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
    """The interactions a mock serves, filed so that a request finds its candidates by method and path."""

    def __init__(self, interactions: Iterable[Interaction] = ()) -> None:
        self._literal: dict[tuple[str, str], list[Interaction]] = {}
        # method -> literal prefix up to a "/" -> the paths given by matchers there
        self._patterned: dict[str, dict[str, list[_PathPattern]]] = {}
        self._all: list[Interaction] = []
        # path -> interactions, and first segment -> interactions: only a request no interaction has
        # a route for needs them, so they are built then, not at start.
        self._suggestion_index: tuple[dict[str, list[Interaction]], dict[str, list[Interaction]]] | None = None
        # The "/" counts of the bucket keys, and the most "/" a served path can hold.
        self._bucket_depths: list[int] = []
        self.most_slashes: float = 0
        self.count = 0
        for interaction in interactions:
            self.add(interaction)

    def add(self, interaction: Interaction) -> None:
        """File an interaction under its literal path, or in the bucket of its path pattern's literal prefix."""
        # Only what an indexed interaction always holds: its request is compiled when first routed to.
        method, path, path_rule = interaction.method, interaction.path, interaction.path_rule
        self.count += 1
        self._all.append(interaction)
        self._suggestion_index = None
        expression = interaction.path_expression
        if path_rule is None and expression is None:
            key = decoded_path(path)
            self._literal.setdefault((method, key), []).append(interaction)
            self.most_slashes = max(self.most_slashes, key.count("/"))
            return
        if path_rule is None:
            # A path a provider state writes (`/api/hello/${name}`): its example, or any path of its form.
            assert expression is not None
            self._file(method, bucket_prefix(path, expression), _PathPattern(None, interaction))
            bound = max(decoded_path(path).count("/"), template(expression, True).most_slashes)
            self.most_slashes = max(self.most_slashes, bound)
            return
        regexes = [m.get("regex", "") for m in path_rule.matchers if m["match"] == "regex"]
        only_regex = len(regexes) == len(path_rule.matchers) == 1
        prefix = decoded_path(_literal_prefix(regexes[0])) if only_regex else ""
        # Bucket under the literal prefix up to its last "/": a request path then needs one
        # dictionary lookup per depth at which buckets exist, however many patterns are loaded.
        bucket = prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""
        if expression is not None and not bucket_prefix(path, expression).startswith(bucket):
            bucket = ""  # paths of the expression's form must be found in the bucket too
        pattern = _PathPattern(regexes[0] if only_regex else None, interaction)
        self._file(method, bucket, pattern)
        # A regex's own bound, unless it is the only matcher: then the example path's is as good a guess as none.
        bound = max(most_slashes(regexes[0]), most_slashes(decoded_regex(regexes[0]) or "")) if only_regex else math.inf
        if expression is not None:
            bound = max(bound, template(expression, True).most_slashes)
        self.most_slashes = max(self.most_slashes, bound)

    def _file(self, method: str, bucket: str, pattern: _PathPattern) -> None:
        self._patterned.setdefault(method, {}).setdefault(bucket, []).append(pattern)
        depth = bucket.count("/")
        if depth not in self._bucket_depths:
            self._bucket_depths = sorted([*self._bucket_depths, depth])

    def candidates(self, method: str, path: str) -> list[Interaction]:
        """The interactions whose method and path a request has, literal paths first; nothing else is judged yet."""
        method = method.upper()
        key = decoded_path(path)
        found = list(self._literal.get((method, key), ()))
        buckets = self._patterned.get(method)
        if not buckets or key.count("/") > self.most_slashes:
            return found
        for bucket_key in self._bucket_keys(key):
            found += [pattern.interaction for pattern in buckets.get(bucket_key, ()) if pattern.matches(path)]
        return found

    def _bucket_keys(self, key: str) -> Iterator[str]:
        """The prefixes of `key` ending in "/" at the depths buckets exist, one at a time: never one per "/"."""
        depths = self._bucket_depths
        if depths and depths[0] == 0:
            yield ""
        position, depth = -1, 0
        for wanted in depths:
            if wanted == 0:
                continue
            while depth < wanted:
                position = key.find("/", position + 1)
                if position < 0:
                    return
                depth += 1
            yield key[: position + 1]

    def too_deep(self, path: str) -> str | None:
        """Why no served interaction can have this path (more "/" than any allows), else None."""
        depth = decoded_path(path).count("/")
        if depth <= self.most_slashes:
            return None
        return (
            f"the path has {depth} segments and no served interaction allows more than {int(self.most_slashes)}, "
            "so nothing can match it"
        )

    def route(
        self,
        actual: Request,
        active_states: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
        ignored_headers: frozenset[str] = frozenset(),
    ) -> RouteResult:
        """The interaction `actual` fully matches, preferring those whose provider states are active.

        `active_states` may be a function: it is called only when several candidates compete, so the
        common single-candidate request never pays for looking the states up.

        A candidate found broken when compiled (see read/index.py) cannot judge the request: it is chosen
        only when no sound candidate matches fully, and its stand-in response says what is wrong.
        """
        candidates = self.candidates(actual.method, actual.path)
        if not candidates:
            too_deep = self.too_deep(actual.path)
            if too_deep is not None:
                return RouteResult(None, too_deep=too_deep)
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
            # Active provider states first; then the candidate that asked for more of what the request carries
            # (an interaction requiring Accept: application/xml over one requiring no Accept); then file order.
            return RouteResult(max(full, key=lambda i: (_state_preference(i, active), _specificity(i))))
        mismatches, closest = min(scored, key=lambda pair: (len(pair[0]), -_state_preference(pair[1], active)))
        return RouteResult(None, mismatches=mismatches, closest=closest)

    def suggest(self, method: str, path: str, limit: int = 3) -> list[Interaction]:
        """Interactions a client probably meant: same path with another method, else similar paths."""
        by_path, by_segment = self._suggestion_index or self._index_for_suggestions()
        path = decoded_path(path)[:_SUGGESTION_PATH_CHARS]
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
            by_path.setdefault(decoded_path(interaction.path), []).append(interaction)
            by_segment.setdefault(_first_segment(interaction.path), []).append(interaction)
        # Built whole before it is published: a thread that races this one builds the same index.
        self._suggestion_index = (by_path, by_segment)
        return by_path, by_segment


def _specificity(interaction: Interaction) -> int:
    """How much of a request an interaction pins down: its headers, query parameters and body."""
    request = interaction.request
    return len(request.headers) + len(request.query) + request.body.present


def _state_preference(interaction: Interaction, active: frozenset[str]) -> int:
    names = interaction.state_names
    if names and all(name in active for name in names):
        return 2
    return 1 if not names else 0
