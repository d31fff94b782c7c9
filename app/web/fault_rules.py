"""Fault rules (issue 18 item 6) as plain data: a rule set checked, which rules match a request, and the draws.

A rule names what it matches ({"provider": P}, {"route": "POST /runs"} or {"interaction": "<description>"}) and
one or more effects: a delay (fixed, uniform or lognormal, in ms), an error status, a connection reset, an empty,
truncated or malformed body, a dribbled body. Each draw is a pure function of (seed, rule id, n), n being how many
requests the rule matched before (a counter kept in the database, faults.py), so the same requests in the same
order get the same faults on every worker and every server.

Nothing here touches the database or the network: faults.py keeps and applies what this module decides.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

EFFECTS = ("delay", "error", "reset", "body", "dribble")
BODY_KINDS = ("empty", "truncated", "malformed")
MATCH_KINDS = ("provider", "route", "interaction")
# A delay longer than this is a mistake in a test, not a simulation (a client would time out long before).
LONGEST_DELAY_MS = 600_000
ROUTE = re.compile(r"(\*|[A-Za-z]{1,20})\s+(/\S{0,2047})")
# A path with one of these is a regular expression (as pacts write them), else a glob when it has * or ?.
REGEX_SIGNS = ("^", "$", "\\", "(", "[", "+", "{", "|", ".*")


class BadRules(ValueError):
    """A rule set that cannot be used: `where` is the path to the bad value (("rules", 1, "error", "status"))."""

    def __init__(self, where: tuple[str | int, ...], message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{dotted(where)}: {message}" if where else message)


def dotted(where: tuple[str | int, ...]) -> str:
    """("rules", 1, "error") -> "rules[1].error"."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class Delay:
    """How long to hold an answer: `fixed` ms, `uniform` between two, or `lognormal` around a median."""

    kind: str
    low: float
    high: float = 0.0
    sigma: float = 0.0

    def ms(self, draw: float) -> float:
        """The delay for a draw in (0, 1)."""
        if self.kind == "uniform":
            return self.low + draw * (self.high - self.low)
        if self.kind == "lognormal":
            return min(LONGEST_DELAY_MS, self.low * math.exp(self.sigma * NormalDist().inv_cdf(draw)))
        return self.low


@dataclass(frozen=True)
class Rule:
    """One checked rule; `shown` is its JSON as GET /_mock/faults lists it."""

    id: int
    match_kind: str
    match_value: str
    shown: dict[str, Any]
    method: str | None = None
    path_matches: Callable[[str], bool] | None = None
    delay: Delay | None = None
    error: tuple[int, float, bool] | None = None  # status, probability, before the handler
    reset: tuple[float, bool] | None = None  # probability, before the handler
    body: tuple[str, float] | None = None  # kind, probability
    dribble: int | None = None  # bytes per second

    @property
    def needs_verdict(self) -> bool:
        """Whether matching needs the interaction that answers (known once the request is judged)."""
        return self.match_kind != "route"

    @property
    def draws(self) -> bool:
        """Whether the rule rolls dice (a probability below 1, a random delay): it then counts its requests."""
        chances = [e[1] for e in (self.error, self.body) if e] + ([self.reset[0]] if self.reset else [])
        random_delay = self.delay is not None and self.delay.kind != "fixed"
        return random_delay or any(0 < p < 1 for p in chances)

    def matches_route(self, method: str, path: str) -> bool:
        """Whether a route rule matches this method and path."""
        if self.path_matches is None or not self.path_matches(path):
            return False
        return self.method in (None, method)

    def matches(self, method: str, path: str, provider: str | None, description: str | None) -> bool:
        """Whether the rule applies to a request, given who answers it (None when no interaction does)."""
        if self.match_kind == "route":
            return self.matches_route(method, path)
        if self.match_kind == "provider":
            return provider == self.match_value
        return description == self.match_value


@dataclass(frozen=True)
class RuleSet:
    """The rules every worker applies; `version` changes with every change (the per-process cache's key)."""

    version: str = ""
    seed: int = 0
    next_id: int = 1
    rules: tuple[Rule, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """What GET /_mock/faults answers (and what is stored)."""
        return {"version": self.version, "seed": self.seed, "rules": [r.shown for r in self.rules]}


@dataclass
class Plan:
    """What the faults do to one request: decided before its handler runs."""

    rules: list[int] = field(default_factory=list)  # the ids of the rules that matched
    delay_ms: float = 0.0
    error: tuple[int, int] | None = None  # rule id, status
    reset: int | None = None  # rule id
    before: bool = False  # the error or reset comes instead of the handler
    body: tuple[int, str] | None = None  # rule id, kind
    dribble: int | None = None  # bytes per second

    @property
    def changes_anything(self) -> bool:
        """Whether the answer differs at all from the one without faults."""
        return bool(self.delay_ms or self.error or self.reset or self.body or self.dribble)


def draw(seed: int, rule_id: int, n: int, effect: str) -> float:
    """A number in (0, 1) for the n-th request a rule matched, one per effect: the same on every worker."""
    digest = hashlib.blake2b(f"{seed}:{rule_id}:{n}:{effect}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2**64


def plan_for(rules: list[Rule], counts: dict[int, int], seed: int) -> Plan:
    """The faults of one request from the rules it matched (in id order) and each rule's request count.

    Delays add up; for the other effects the first rule whose draw fires decides; a reset beats an error.
    """
    plan = Plan(rules=[r.id for r in rules])
    for rule in rules:
        n = counts.get(rule.id, 0)
        if rule.delay is not None:
            plan.delay_ms += rule.delay.ms(draw(seed, rule.id, n, "delay"))
        if rule.reset is not None and plan.reset is None and draw(seed, rule.id, n, "reset") < rule.reset[0]:
            plan.reset = rule.id
            plan.before = rule.reset[1]
        if rule.error is not None and plan.error is None and draw(seed, rule.id, n, "error") < rule.error[1]:
            plan.error = (rule.id, rule.error[0])
            if plan.reset is None:
                plan.before = rule.error[2]
        if rule.body is not None and plan.body is None and draw(seed, rule.id, n, "body") < rule.body[1]:
            plan.body = (rule.id, rule.body[0])
        if rule.dribble is not None:
            plan.dribble = min(plan.dribble or rule.dribble, rule.dribble)
    return plan


def parse_rule_set(raw: Any) -> tuple[int | None, list[Any]]:
    """A rule set's seed (None: not given) and its raw rules: {"seed": 7, "rules": [...]} or a bare list."""
    if isinstance(raw, list):
        return None, raw
    if not isinstance(raw, dict):
        raise BadRules((), 'a rule set is {"seed": 7, "rules": [...]} or a list of rules')
    unknown = sorted(set(raw) - {"seed", "rules", "version"})
    if unknown:
        raise BadRules((unknown[0],), 'unknown key; a rule set has "seed" and "rules"')
    seed = raw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        raise BadRules(("seed",), f"must be a whole number from 0 to 2**63-1, not {seed!r}")
    rules = raw.get("rules", [])
    if not isinstance(rules, list):
        raise BadRules(("rules",), "must be a list of rules")
    return seed, rules


def parse_rule(raw: Any, rule_id: int, where: tuple[str | int, ...] = ()) -> Rule:
    """One rule, checked: BadRules says where it is wrong."""
    if not isinstance(raw, dict):
        raise BadRules(where, 'a rule is an object: {"match": {"route": "POST /runs"}, "error": {"status": 503}}')
    unknown = sorted(set(raw) - {"id", "match", *EFFECTS})
    if unknown:
        raise BadRules((*where, unknown[0]), f"unknown key; a rule has match and any of {', '.join(EFFECTS)}")
    if not any(effect in raw for effect in EFFECTS):
        raise BadRules(where, f"a rule needs at least one effect: {', '.join(EFFECTS)}")
    match = raw.get("match")
    if not isinstance(match, dict) or len(match) != 1 or next(iter(match)) not in MATCH_KINDS:
        raise BadRules((*where, "match"), 'must be one of {"provider": P}, {"route": "POST /runs"}, {"interaction": D}')
    kind, value = next(iter(match.items()))
    if not isinstance(value, str) or not value.strip() or len(value) > 2048:
        raise BadRules((*where, "match", kind), "must be a non-empty string of at most 2,048 characters")
    shown: dict[str, Any] = {"id": rule_id, "match": {kind: value}}
    parts: dict[str, Any] = {}
    if kind == "route":
        parts["method"], parts["path_matches"] = _route(value, (*where, "match", kind))
    if "delay" in raw:
        parts["delay"] = _delay(raw["delay"], (*where, "delay"))
    if "error" in raw:
        spec = _object(raw["error"], (*where, "error"), {"status", "probability", "before"})
        status = spec.get("status", 503)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise BadRules((*where, "error", "status"), f"must be a status from 400 to 599, not {status!r}")
        parts["error"] = (status, _chance(spec, (*where, "error")), _before(spec, (*where, "error")))
    if "reset" in raw:
        spec = _object(raw["reset"], (*where, "reset"), {"probability", "before"})
        parts["reset"] = (_chance(spec, (*where, "reset")), _before(spec, (*where, "reset")))
    if "body" in raw:
        spec = _object(raw["body"], (*where, "body"), {"kind", "probability"})
        if spec.get("kind") not in BODY_KINDS:
            raise BadRules((*where, "body", "kind"), f"must be one of {', '.join(BODY_KINDS)}")
        parts["body"] = (spec["kind"], _chance(spec, (*where, "body")))
    if "dribble" in raw:
        spec = _object(raw["dribble"], (*where, "dribble"), {"bytes_per_second"})
        rate = spec.get("bytes_per_second")
        if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= 100_000_000:
            raise BadRules((*where, "dribble", "bytes_per_second"), f"must be a whole number from 1, not {rate!r}")
        parts["dribble"] = rate
    shown.update({effect: raw[effect] for effect in EFFECTS if effect in raw})
    return Rule(id=rule_id, match_kind=kind, match_value=value, shown=shown, **parts)


def _object(raw: Any, where: tuple[str | int, ...], keys: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadRules(where, f"must be an object with {', '.join(sorted(keys))}")
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise BadRules((*where, unknown[0]), f"unknown key; expected {', '.join(sorted(keys))}")
    return raw


def _chance(spec: dict[str, Any], where: tuple[str | int, ...]) -> float:
    chance = spec.get("probability", 1.0)
    if isinstance(chance, bool) or not isinstance(chance, int | float) or not 0 <= chance <= 1:
        raise BadRules((*where, "probability"), f"must be a number from 0 to 1, not {chance!r}")
    return float(chance)


def _before(spec: dict[str, Any], where: tuple[str | int, ...]) -> bool:
    before = spec.get("before", False)
    if not isinstance(before, bool):
        raise BadRules((*where, "before"), f"must be true or false, not {before!r}")
    return before


def _ms(value: Any, where: tuple[str | int, ...]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= LONGEST_DELAY_MS:
        raise BadRules(where, f"must be a number of ms from 0 to {LONGEST_DELAY_MS:,}, not {value!r}")
    return float(value)


def _delay(raw: Any, where: tuple[str | int, ...]) -> Delay:
    example = '{"fixed": 200}, {"uniform": [100, 300]} or {"lognormal": {"median": 200, "sigma": 0.5}}'
    if not isinstance(raw, dict) or len(raw) != 1:
        raise BadRules(where, f"must be one of {example}")
    kind, value = next(iter(raw.items()))
    if kind == "fixed":
        return Delay("fixed", _ms(value, (*where, kind)))
    if kind == "uniform":
        if not isinstance(value, list) or len(value) != 2:
            raise BadRules((*where, kind), "must be [low, high] in ms")
        low, high = _ms(value[0], (*where, kind, 0)), _ms(value[1], (*where, kind, 1))
        if low > high:
            raise BadRules((*where, kind), f"low ({low:g}) is above high ({high:g})")
        return Delay("uniform", low, high)
    if kind == "lognormal":
        spec = _object(value, (*where, kind), {"median", "sigma"})
        sigma = spec.get("sigma")
        if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not 0 <= sigma <= 5:
            raise BadRules((*where, kind, "sigma"), f"must be a number from 0 to 5, not {sigma!r}")
        return Delay("lognormal", _ms(spec.get("median"), (*where, kind, "median")), sigma=float(sigma))
    raise BadRules((*where, str(kind)), f"unknown delay; expected {example}")


def _route(text: str, where: tuple[str | int, ...]) -> tuple[str | None, Callable[[str], bool]]:
    found = ROUTE.fullmatch(text.strip())
    if found is None:
        raise BadRules(where, f'must be "METHOD /path" (a path, a glob such as /runs/* or a regex), not {text[:80]!r}')
    method, path = found.group(1).upper(), found.group(2)
    chosen = None if method == "*" else method
    if any(sign in path for sign in REGEX_SIGNS):
        try:
            pattern = re.compile(path)
        except re.error as error:
            raise BadRules(where, f"the path is not a valid regular expression: {error}") from None
        return chosen, lambda p: pattern.fullmatch(p) is not None
    if "*" in path or "?" in path:
        glob = re.compile(fnmatch.translate(path))
        return chosen, lambda p: glob.match(p) is not None
    return chosen, path.__eq__
