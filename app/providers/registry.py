"""The seam every stateful provider registers through: which handler answers (provider, method, path)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from ..domain.model import Policy
from ..domain.ports import Store
from ..resources.engine import Engine


class HeaderLookup(Protocol):
    """A request's headers, looked up by name in any case (a dict of lower-case names will do in tests)."""

    def get(self, key: str, default: str | None = None, /) -> str | None:
        """The header's value, or `default`."""


@dataclass
class Call:
    """What a handler gets: the request as parsed, and what it may act on (store, policy, the time now)."""

    store: Store
    policy: Policy
    # Reads the mock's clock: `now` asks it once, when a handler first needs the time.
    clock: Callable[[], datetime]
    json: Any
    data: bytes
    content_type: str | None
    query: dict[str, list[str]]
    headers: HeaderLookup
    path_params: dict[str, str]
    base_url: str
    # The status and response body (generators applied) of the route's interaction that answers success:
    # what a generic provider's answer is shaped like.
    status: int = 200
    example: Callable[[], Any] = field(default=lambda: None)
    # That interaction's response Content-Type, if it gives one (a text answer is sent with it).
    example_type: str | None = None

    @cached_property
    def now(self) -> datetime:
        """The time this request is served at."""
        return self.clock()


@dataclass
class Answer:
    """A handler's answer: status and a JSON value, or bytes, plus headers."""

    status: int
    json: Any = None
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Answer]
# Sets up (True) or tears down (False) a provider state by name and parameters at a time; True when it knew it.
StateHandler = Callable[[Store, str, dict[str, Any], bool, datetime], bool]


@dataclass(frozen=True)
class Binding:
    """A handler bound to one route of one provider; interactions of other providers there stay stubbed."""

    provider: str
    method: str
    path: re.Pattern[str]
    handler: Handler
    # Response fields (rule paths, indices as [*]; a path covers what is inside it) the handler works out from
    # state rather than echoing the request: a contract that pins one to a literal disagrees with the mock.
    varies: tuple[str, ...] = ()


class Registry:
    """The bindings of every registered provider."""

    def __init__(
        self,
        bindings: Iterable[Binding] = (),
        states: Iterable[tuple[str, StateHandler]] = (),
        engines: dict[str, Callable[[Store], Engine]] | None = None,
    ) -> None:
        self.bindings: list[Binding] = list(bindings)
        self.providers = frozenset(binding.provider for binding in self.bindings)
        # (provider, handler): the provider states of providers whose state is declared, not coded.
        self.states: list[tuple[str, StateHandler]] = list(states)
        # The engine of each declared provider, over a store: what the control plane acts on.
        self.engines: dict[str, Callable[[Store], Engine]] = dict(engines or {})

    def find(self, provider: str | None, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The handler for this route of this provider and its path parameters, or None (a stub answers)."""
        if provider not in self.providers:
            return None
        for binding in self.bindings:
            if binding.provider == provider and binding.method == method:
                found = binding.path.fullmatch(path)
                if found:
                    return binding.handler, found.groupdict()
        return None

    def binding_for(self, provider: str | None, method: str, path: str) -> Binding | None:
        """The binding that answers this route of this provider, or None."""
        if provider not in self.providers:
            return None
        return next(
            (b for b in self.bindings if b.provider == provider and b.method == method and b.path.fullmatch(path)),
            None,
        )

    def without(self, providers: Iterable[str]) -> Registry:
        """The bindings of every provider but these (served in replay mode: their contracts' examples)."""
        replayed = set(providers)
        return Registry(
            (binding for binding in self.bindings if binding.provider not in replayed),
            ((provider, state) for provider, state in self.states if provider not in replayed),
            {provider: engine for provider, engine in self.engines.items() if provider not in replayed},
        )

    def joined(self, other: Registry) -> Registry:
        """These bindings and states, then the other's."""
        return Registry(
            [*self.bindings, *other.bindings], [*self.states, *other.states], {**self.engines, **other.engines}
        )

    def apply_state(self, store: Store, name: str, params: dict[str, Any], setup: bool, now: datetime) -> bool:
        """Set up or tear down a provider state in every declared provider; True when one of them knew it."""
        known = False
        for _provider, state in self.states:
            known = state(store, name, params, setup, now) or known
        return known
