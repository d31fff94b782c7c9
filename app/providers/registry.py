"""Which hook answers (provider, method, path): the routes of every stateful provider, coded or declared.

A route's hook is a hook like a model file's (resources/hooks.py): it takes a `HookCall` and returns a value or
an `Answer`. Epistemix's routes name theirs as `module:function` (epistemix/routes.py); a generic provider's
routes are its engine's operations (generic/routes.py), whose action hooks the model file names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import update_wrapper
from typing import Any

from ..domain.model import Policy
from ..domain.ports import Store
from ..resources.engine import Engine
from ..resources.hooks import Answer, HeaderLookup, Hook, HookCall, answer_of, load_hook

__all__ = ["Answer", "Binding", "Call", "Handler", "HeaderLookup", "HookCall", "Registry", "StateHandler", "route"]


def Call(
    *,
    store: Store,
    policy: Policy,
    clock: Callable[[], datetime],
    json: Any,
    data: bytes,
    content_type: str | None,
    query: dict[str, list[str]],
    headers: HeaderLookup,
    path_params: dict[str, str],
    base_url: str,
) -> HookCall:
    """A route's `HookCall` for one request, under the names web/bound.py gives its parts (`json` is the
    call's `body`, `path_params` its `path`, `clock` its `moment`)."""
    return HookCall(
        moment=clock,
        body=json,
        query=query,
        path=path_params,
        store=store,
        policy=policy,
        headers=headers,
        data=data,
        content_type=content_type,
        base_url=base_url,
    )


# A route's hook made HTTP (answer_of): what web/bound.py calls.
Handler = Callable[[HookCall], Answer]
# Sets up (True) or tears down (False) a provider state by name and parameters at a time; True when it knew it.
StateHandler = Callable[[Store, str, dict[str, Any], bool, datetime], bool]


@dataclass(frozen=True)
class Binding:
    """A hook bound to one route of one provider; interactions of other providers there stay stubbed."""

    provider: str
    method: str
    path: re.Pattern[str]
    hook: Hook
    # Response fields (rule paths, indices as [*]; a path covers what is inside it) the hook works out from
    # state rather than echoing the request: a contract that pins one to a literal disagrees with the mock.
    varies: tuple[str, ...] = ()
    # The hook, its value made an answer (answer_of) and its random seeded from the route.
    handler: Handler = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hook, route = self.hook, f"{self.provider} {self.method} {self.path.pattern}"

        def handler(call: HookCall) -> Answer:
            call.seeded = route
            return answer_of(hook(call), call)

        # Named as its hook is (the journal's answeredBy names the handler).
        object.__setattr__(self, "handler", update_wrapper(handler, hook))


def route(provider: str, method: str, path: str, hook: str, varies: tuple[str, ...] = ()) -> Binding:
    """A route declared as a model file declares a hook: `path` a regex (named groups are the path parameters),
    `hook` a `module:function` of an importable module, resolved now so that a broken name stops the start."""
    return Binding(provider, method, re.compile(path), load_hook(hook), varies)


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
