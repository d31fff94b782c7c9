"""The declared behaviour of a generic stateful provider: collections, state machines, actions, fixtures.

A model comes from a model file (modelfile.py) or is inferred from a pact (infer.py); both build these
classes, and the engine (engine.py) acts on nothing else. docs/resources.md describes each field.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

ID_STRATEGIES = ("counter", "uuid", "prefixed", "given")
# A {name} segment of a path template.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_pattern(template: str) -> re.Pattern[str]:
    """`/pools/{pool}/workspace` as a regex whose named groups are the placeholders (a trailing / allowed)."""
    pieces, last = [], 0
    for found in PLACEHOLDER.finditer(template):
        pieces.append(re.escape(template[last : found.start()]))
        pieces.append(f"(?P<{found.group(1)}>[^/]+)")
        last = found.end()
    pieces.append(re.escape(template[last:]))
    return re.compile("".join(pieces) + "/?")


@dataclass(frozen=True)
class IdRule:
    """How a collection's items are identified and how a created item gets its id."""

    field: str = "id"
    strategy: str = "counter"
    prefix: str = ""
    start: int = 1
    # prefixed: the number is zero-padded to this many digits (the example's suffix length)
    width: int = 6


@dataclass(frozen=True)
class Timed:
    """A move the clock makes: after a time (fixed, or drawn from the seed in [low, high] seconds), to a state
    (or to one of several, each with its probability)."""

    low: float
    high: float
    to: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class StateMachine:
    """The states one field of an item moves through, the moves a client may ask for, and those time makes."""

    field: str
    initial: str
    states: tuple[str, ...]
    terminal: frozenset[str] = frozenset()
    # `field` above hides dataclasses.field in this class body.
    transitions: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    timed: dict[str, Timed] = dataclasses.field(default_factory=dict)
    # The item field that says when the item entered its state (RFC 3339); None keeps it out of answers.
    since: str | None = None

    def allowed_from(self, state: str) -> tuple[str, ...]:
        """The states an item in `state` may move to (none from a terminal one)."""
        if state in self.terminal:
            return ()
        return self.transitions.get(state, ())


@dataclass(frozen=True)
class Children:
    """Items of another collection made with each created item, holding its id in `field`."""

    collection: str
    count: int
    field: str
    # The request body's field that says how many instead (`{"name": "gpu", "size": 4}`), when present.
    count_from: str | None = None


@dataclass(frozen=True)
class Every:
    """A periodic event of a collection: every `seconds`, with these probabilities, a new item starts (made
    like a created one) or a random item that is not terminal moves to `stop_to`."""

    seconds: float
    start: float = 0.0
    stop: float = 0.0
    stop_to: str | None = None


PRESETS = {"LOW": 100, "DEFAULT": 10_000, "HIGH": 100_000}
MAX_GENERATED = 10_000_000
PAGE_STYLES = ("offset", "from", "page", "cursor")


@dataclass(frozen=True)
class Page:
    """How the contract pages a list: the style and its query parameter names, the default and largest size."""

    style: str = "offset"
    start: str = "offset"  # offset / from / page / cursor: the parameter that says where the page starts
    size: str = "limit"  # limit / size / per_page
    default: int = 100
    largest: int = 10_000


@dataclass(frozen=True)
class Generated:
    """A virtual collection: `count` items made on demand from (seed, collection, index), never stored.

    `fields` overrides how a field is made: {"enum": [...]}, {"range": [low, high]}, {"age": [low, high]}
    (seconds before the clock), {"text": "wf-{index}"}, or {"hook": "module:function"}.
    """

    count: int
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Item i copies these fields (its own name -> the parent's) from item i modulo the parent's count of
    # another generated collection: an execution inherits job_id, name and workers from its job.
    parent: str | None = None
    inherit: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Collection:
    """A set of items of one kind: where it is listed and created, where one item is, and its rules."""

    name: str
    path: str | None
    item: str | None
    ids: IdRule = field(default_factory=IdRule)
    envelope: str | None = None
    total: str | None = None
    filters: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    capacity: int | None = None
    machine: StateMachine | None = None
    children: Children | None = None
    auto_create: int = 0
    # The example item from the contract (a created item has its keys); empty when the pact shows none.
    example: dict[str, Any] = field(default_factory=dict)
    # The contract's matchers for the item's top-level fields (field -> matcher definitions), from the pact.
    rules: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    every: tuple[Every, ...] = ()
    generated: Generated | None = None
    page: Page | None = None
    # Fields an item may also be looked up by in its item path (a workflow by id or by name).
    lookup: tuple[str, ...] = ()
    # field -> "module:function": a value worked out when the item is read (hooks.py)
    hooks: dict[str, str] = field(default_factory=dict)

    def path_fields(self) -> tuple[str, ...]:
        """The item fields the list path binds (`pool` in `/pools/{pool}/workspaces`)."""
        return tuple(PLACEHOLDER.findall(self.path or ""))


@dataclass(frozen=True)
class Claim:
    """Take one item matching `where` atomically; create one when none matches and `create_when_none`."""

    where: dict[str, Any] = field(default_factory=dict)
    create_when_none: bool = False


@dataclass(frozen=True)
class Summary:
    """An aggregate answer: counts under `totals` ("*" counts all; a dict counts items whose fields match)."""

    totals: dict[str, Any] = field(default_factory=dict)
    items: str | None = None


@dataclass(frozen=True)
class Action:
    """A method and path bound to an effect: a transition, field updates, a claim, a summary, reset or load."""

    method: str
    path: str
    collection: str | None = None
    to: str | None = None
    to_from_body: str | None = None
    # Values may be literals or $now, $body.<field>, $query.<name>, $path.<name>.
    set: dict[str, Any] = field(default_factory=dict)
    set_from_body: tuple[str, ...] = ()
    guard: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    claim: Claim | None = None
    summary: Summary | None = None
    reset: bool = False
    load: str | None = None
    # "module:function": the action's answer is what the hook returns (hooks.py), after any other effect.
    hook: str | None = None


@dataclass(frozen=True)
class Auth:
    """Who may call, instead of the contract's own rule for the Authorization header: any bearer token
    (`any_token`), one that starts with `bearer_prefix`, or one of the `allow` list."""

    bearer_prefix: str = ""
    allow: tuple[str, ...] = ()
    any_token: bool = False

    def admits(self, authorization: str | None) -> bool:
        """Whether an Authorization header's value passes."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        token = token.strip()
        if self.any_token:
            return True
        if self.allow:
            return token in self.allow
        return token.startswith(self.bearer_prefix)

    def wanted(self) -> str:
        """What a refusal tells the client to send."""
        if self.any_token:
            return "Authorization: Bearer <any token>"
        if self.allow:
            return "Authorization: Bearer <one of the tokens the model file allows>"
        return f"Authorization: Bearer {self.bearer_prefix}..."


@dataclass(frozen=True)
class ResourceModel:
    """Everything one provider's state does."""

    provider: str
    collections: dict[str, Collection] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    # fixture name -> collection name -> the items (documents) it holds
    fixtures: dict[str, dict[str, tuple[dict[str, Any], ...]]] = field(default_factory=dict)
    scenarios: dict[str, tuple[str, ...]] = field(default_factory=dict)
    start: tuple[str, ...] = ()
    # provider state name -> fixtures it loads
    states: dict[str, tuple[str, ...]] = field(default_factory=dict)
    auth: Auth | None = None
    # Seeds every random choice (timed durations, branches, periodic events, generated items).
    seed: int = 0
    # Seconds the provider's time moves by at once (None: continuously): within a step every read answers the same.
    clock_step: float | None = None
    # Where the model came from: a model file's path, or "inferred from <pact>".
    source: str = ""

    def fixtures_named(self, name: str) -> tuple[str, ...]:
        """The fixtures a name stands for: a scenario's, or the fixture itself."""
        if name in self.scenarios:
            return self.scenarios[name]
        return (name,)
