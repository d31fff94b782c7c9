"""Scenarios on the control plane (issue 18, item 1): every provider state the served pacts name and every
fixture or scenario of the model files, which are active, and switches to activate or deactivate them.

    GET  /_mock/scenarios
    POST /_mock/scenarios {"activate": [{"state": "job 123 exists", "params": {}}, {"provider": "Flow",
                           "fixture": "all_scenarios"}], "deactivate": [...]}

A provider state is set up and torn down as the verifier's state-change call does it; a fixture or scenario
is loaded into (or taken out of) its provider's store.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from ..domain.errors import Invalid
from ..domain.provider_states import active_provider_states, apply_provider_state
from .control import json_body
from .problems import problem
from .served import Served

scenarios_control = Blueprint("scenarios_control", __name__)
# The mock setting that lists the fixtures and scenarios switched on (provider states are their own table).
ACTIVE_FIXTURES = "scenarios"


def _served() -> Served:
    served: Served = current_app.extensions["pactmock.served"]
    return served


@scenarios_control.get("/_mock/scenarios")
def list_scenarios() -> Response:
    """The catalogue, and what is active."""
    return jsonify(_catalogue(_served()))


@scenarios_control.post("/_mock/scenarios")
def switch_scenarios() -> Response:
    """Activate and deactivate provider states and fixtures, in the order given."""
    served = _served()
    payload: Any = json_body()
    if not isinstance(payload, dict) or not set(payload) <= {"activate", "deactivate"} or not payload:
        return problem("invalid-request", 'send {"activate": [...], "deactivate": [...]}: see GET /_mock/scenarios')
    try:
        switches = [(entry, True) for entry in _entries(payload.get("activate"), "activate")]
        switches += [(entry, False) for entry in _entries(payload.get("deactivate"), "deactivate")]
        for entry, _on in switches:
            _check(served, entry)
        for entry, on in switches:
            _switch(served, entry, on)
    except Invalid as error:
        return problem("invalid-request", str(error))
    except LookupError as error:
        return problem("not-found", str(error), resource="scenario")
    return jsonify(_catalogue(served))


def _catalogue(served: Served) -> dict[str, Any]:
    active_states = active_provider_states(served.store)
    states: dict[str, dict[str, Any]] = {}
    for contract in served.contracts.contracts:
        for interaction in contract.interactions:
            for state in interaction.provider_states:
                entry = states.setdefault(state.name, {"name": state.name, "providers": [], "params": []})
                if contract.provider not in entry["providers"]:
                    entry["providers"].append(contract.provider)
                entry["params"] = sorted(set(entry["params"]) | set(state.params))
    for entry in states.values():
        entry["active"] = entry["name"] in active_states
    active_fixtures = _active_fixtures(served)
    fixtures = []
    for provider, engine_of in sorted(served.providers.engines.items()):
        model = engine_of(served.store).model
        for name, kind in [*((f, "fixture") for f in model.fixtures), *((s, "scenario") for s in model.scenarios)]:
            fixtures.append(
                {"provider": provider, "name": name, "kind": kind, "active": [provider, name] in active_fixtures}
            )
    return {
        "provider_states": sorted(states.values(), key=lambda e: e["name"]),
        "fixtures": fixtures,
        "active": {"provider_states": sorted(active_states), "fixtures": active_fixtures},
    }


def _entries(value: Any, key: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise Invalid(f'"{key}" must be a list of objects')
    return value


def _check(served: Served, entry: dict[str, Any]) -> None:
    if "state" in entry:
        if set(entry) - {"state", "params"} or not isinstance(entry["state"], str) or not entry["state"]:
            raise Invalid('a provider state is {"state": "<name>", "params": {...}}')
        if not isinstance(entry.get("params", {}), dict):
            raise Invalid(f"params of state {entry['state']!r} must be an object")
        return
    names = (entry.get("provider"), entry.get("fixture"))
    if set(entry) != {"provider", "fixture"} or not all(isinstance(name, str) for name in names):
        raise Invalid('a fixture or scenario is {"provider": "<name>", "fixture": "<name>"}; a state {"state": ...}')
    engine_of = served.providers.engines.get(entry["provider"])
    if engine_of is None:
        raise LookupError(f"no provider {entry['provider']!r} has a model file")
    model = engine_of(served.store).model
    if entry["fixture"] not in model.fixtures and entry["fixture"] not in model.scenarios:
        raise LookupError(f"{entry['provider']} has no fixture or scenario {entry['fixture']!r}")


def _switch(served: Served, entry: dict[str, Any], on: bool) -> None:
    now = served.clock()
    if "state" in entry:
        params = entry.get("params") or {}
        apply_provider_state(served.store, served.policy, entry["state"], params, on, now)
        served.providers.apply_state(served.store, entry["state"], params, on, now)
        return
    engine = served.providers.engines[entry["provider"]](served.store)
    engine.load(engine.model.fixtures_named(entry["fixture"]), now, remove=not on)
    listed = [f for f in _active_fixtures(served) if f != [entry["provider"], entry["fixture"]]]
    with served.store.writing() as uow:
        uow.settings.put(
            ACTIVE_FIXTURES, {"fixtures": [*listed, [entry["provider"], entry["fixture"]]] if on else listed}
        )


def _active_fixtures(served: Served) -> list[list[str]]:
    with served.store.reading() as uow:
        setting = uow.settings.get(ACTIVE_FIXTURES) or {}
    return [list(pair) for pair in setting.get("fixtures", [])]
