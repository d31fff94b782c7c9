"""A generic provider's model as bindings: each collection's routes and each action, answered by its engine.

The contract has judged the request before a binding is reached. Each route's hook takes the `HookCall`
like any route's, hands what it needs (path parameters, query, body) to the engine (resources/engine.py)
and returns the engine's value, which the binding answers as every hook's is (answer_of); an action's own
hook, named in the model file, makes that value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ...domain.cached import items_generation, kept
from ...domain.clock import stepped
from ...domain.errors import NotAuthenticated
from ...domain.ports import Store
from ...domain.sessions import current_session
from ...resources.engine import Engine
from ...resources.hooks import Answer, Hook, HookCall, answer_of
from ...resources.model import Action, ResourceModel, template_pattern
from ...resources.values import Given
from ..registry import Binding, StateHandler

# Sessions whose engines one process keeps at once; past it they are made again as used.
MAX_SESSIONS_KEPT = 1_000
# The name under which the engines' epoch is kept per session (domain/cached.py).
ENGINE_EPOCH = "generic engines"


class EngineCell:
    """The provider's engine, made with the store the first call brings (one store per worker process), one per
    session: an engine remembers what it found in its session's namespace (whether the start fixtures are in)."""

    def __init__(self, model: ResourceModel) -> None:
        self.model = model
        self._engines: dict[str, tuple[object, Engine]] = {}

    def get(self, store: Store) -> Engine:
        """The engine over this store, in the current session, made again after a control-plane change (a session
        dropped and made anew, on any worker or server, has no start fixtures until its engine loads them)."""
        session = current_session()
        # The same object until a change is announced (domain/cached.py); a new one each call for a store the web
        # app did not register, whose engine is then made each time.
        epoch = kept(store, ENGINE_EPOCH, object)
        held = self._engines.get(session)
        if held is not None and held[0] is epoch and held[1].store is store:
            return held[1]
        if len(self._engines) >= MAX_SESSIONS_KEPT:
            self._engines.clear()  # sessions of finished test runs
        engine = Engine(self.model, store)
        self._engines[session] = (epoch, engine)
        return engine


def bindings_of(cell: EngineCell) -> list[Binding]:
    """The routes of the model: actions first (a longer, more particular path), then each collection's."""
    model = cell.model
    bindings = [_bound(model, action.method, action.path, _action_handler(cell, action)) for action in model.actions]
    for collection in model.collections.values():
        bindings.extend(_collection_bindings(model, cell, collection.name))
    return bindings


def _collection_bindings(model: ResourceModel, cell: EngineCell, name: str) -> list[Binding]:
    collection = model.collections[name]
    routes: list[tuple[str, str | None, Callable[[Engine, Given], Any]]] = [
        ("GET", collection.path, lambda e, g: e.listing(name, g)),
        ("POST", collection.path, lambda e, g: e.create(name, g)),
        ("GET", collection.item, lambda e, g: e.read(name, g)),
        ("PUT", collection.item, lambda e, g: e.change(name, g, False)),
        ("PATCH", collection.item, lambda e, g: e.change(name, g, True)),
        ("DELETE", collection.item, lambda e, g: e.remove(name, g)),
    ]
    return [
        _bound(model, method, path, (_reusable if method == "GET" else _answering)(cell, operation))
        for method, path, operation in routes
        if path
    ]


def state_handler_of(cell: EngineCell) -> StateHandler:
    """The provider states the model maps to fixtures: set up loads them, tear down removes them."""
    model = cell.model

    def apply(store: Store, name: str, params: dict[str, Any], setup: bool, now: datetime) -> bool:
        fixtures = model.states.get(name)
        if fixtures is None:
            return False
        names = tuple(f for fixture in fixtures for f in model.fixtures_named(fixture))
        at = now if model.clock_step is None else stepped(now, model.clock_step)
        cell.get(store).load(names, at, remove=not setup)
        return True

    return apply


def _bound(model: ResourceModel, method: str, template: str, hook: Hook) -> Binding:
    return Binding(model.provider, method.upper(), template_pattern(template), _authenticated(model, hook))


def _authenticated(model: ResourceModel, hook: Hook) -> Hook:
    auth = model.auth
    if auth is None:
        return hook

    def checked(call: HookCall) -> Any:
        if not auth.admits(call.headers.get("Authorization")):
            raise NotAuthenticated(f'send "{auth.wanted()}" (the model file\'s auth)')
        return hook(call)

    return checked


def _given(call: HookCall) -> Given:
    # The clock is read only if the engine needs the time (a plain read does not).
    return Given(call.body, call.query, call.path, lambda: call.now, call.example, call)


def _answering(cell: EngineCell, operation: Callable[[Engine, Given], Any]) -> Hook:
    step = cell.model.clock_step

    def handler(call: HookCall) -> Any:
        _step_clock(call, step)
        # The engine's value: an item, a page, None for a removal, or what an action's hook returned.
        return operation(cell.get(call.store), _given(call))

    return handler


def _reusable(cell: EngineCell, operation: Callable[[Engine, Given], Any]) -> Hook:
    """A read, its answer marked reusable (hooks.Answer.reusable_at) when it is a function of the request and the
    generation of item writes alone: nothing was written while it was made, and it read no time, or a frozen
    clock's, or one that moves in steps (then only until the step ends: `reusable_until`). The entrance sends the
    same bytes to the same request while that holds (web/replays.py)."""
    step = cell.model.clock_step

    def handler(call: HookCall) -> Answer:
        clock = call.moment
        reader = _step_clock(call, step)
        generation = items_generation(call.store)
        answer = answer_of(operation(cell.get(call.store), _given(call)), call)
        if generation is None or items_generation(call.store) != generation:
            return answer
        if call.moment is reader or _frozen(clock):
            answer.reusable_at = generation  # the time it would read again is the time it read
        elif step is not None:
            answer.reusable_at, answer.reusable_until = generation, call.now + timedelta(seconds=step)
        # Else it read a live clock, and moves with it: a page whose durations grow, say.
        return answer

    return handler


def _step_clock(call: HookCall, step: float | None) -> object:
    """The call's time, read through the model's clock step when it has one (model.clock_step): what `call.moment`
    is once the engine may read it."""
    clock = call.moment
    if step is not None and callable(clock):
        call.moment = lambda: stepped(clock(), step)
    return call.moment


def _frozen(clock: object) -> bool:
    """Whether `clock` is the mock's and frozen: changing it is the control plane's, which moves the generation."""
    setting = getattr(clock, "setting", None)
    return setting is not None and setting().frozen_at is not None


def _action_handler(cell: EngineCell, action: Action) -> Hook:
    return _answering(cell, lambda engine, given: engine.act(action, given))
