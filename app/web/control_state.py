"""Reset, export and import on the control plane (issue 18): the whole state or one provider's.

POST /_mock/reset                      everything: data, id counters, clock, scenarios, volumes
POST /_mock/reset {"provider": "P"}    one provider's data and counters
GET  /_mock/state[?provider=P]         the state as one JSON document (format pactmock-state, version 1)
PUT  /_mock/state[?provider=P]         replace the state with a document GET gave, all or nothing
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..domain import state
from ..domain.errors import Invalid
from ..domain.state import EPISTEMIX
from .control import json_body
from .problems import problem
from .served import Served

state_control = Blueprint("state_control", __name__)


def _served() -> Served:
    served: Served = current_app.extensions["pactmock.served"]
    return served


def _scope(name: Any) -> str | None:
    """None (everything), Epistemix, or a generic provider's name; NotFound for any other."""
    if name in (None, ""):
        return None
    served = _served()
    if name == EPISTEMIX or name in served.providers.engines:
        return str(name)
    known = ", ".join([EPISTEMIX, *sorted(served.providers.engines)])
    raise LookupError(f"no provider {name!r} keeps state here; these do: {known}")


@state_control.post("/_mock/reset")
def reset() -> Response:
    """Back to a fresh mock: the start fixtures of every generic provider loaded again."""
    payload: Any = json_body() if request.data else {}
    if not isinstance(payload, dict) or not isinstance(payload.get("provider", ""), str | None):
        return problem("invalid-request", 'send nothing, or {"provider": "<name>"} to reset one provider')
    try:
        scope = _scope(payload.get("provider"))
    except LookupError as error:
        return problem("not-found", str(error), resource="provider")
    started = time.perf_counter()
    served = _served()
    state.reset(served.store, scope)
    now = served.clock()
    for provider, engine_of in served.providers.engines.items():
        if scope in (None, provider):
            engine_of(served.store).reset(now)
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return jsonify({"reset": scope or "everything", "milliseconds": elapsed})


@state_control.get("/_mock/state")
def export_state() -> Response:
    """The state of everything, or of ?provider=, as one document."""
    try:
        scope = _scope(request.args.get("provider"))
    except LookupError as error:
        return problem("not-found", str(error), resource="provider")
    document = state.export(_served().store, scope)
    return Response(state.exported_bytes(document), mimetype="application/json")


@state_control.put("/_mock/state")
def import_state() -> Response:
    """Replace the state with a document GET /_mock/state gave: checked first, then all or nothing."""
    try:
        scope = _scope(request.args.get("provider"))
    except LookupError as error:
        return problem("not-found", str(error), resource="provider")
    document: Any = json_body()
    try:
        restored = state.restore(_served().store, document, scope)
    except Invalid as error:
        return problem("invalid-request", f"nothing was imported: {error}")
    return jsonify({"imported": scope or "everything", "rows": restored})
