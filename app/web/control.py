"""The control plane under /_mock/, plus / and /health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .. import __version__
from .problems import problem
from .state import MockState

control = Blueprint("control", __name__)


def _state() -> MockState:
    state: MockState = current_app.config["MOCK_STATE"]
    return state


@control.get("/health")
def health() -> Response:
    return jsonify({"status": "healthy", "timestamp": datetime.now(UTC).isoformat()})


@control.get("/")
def index() -> Response:
    state = _state()
    return jsonify(
        {
            "name": "pactmock",
            "version": __version__,
            "contracts": [
                {
                    "consumer": c.consumer,
                    "provider": c.provider,
                    "specification": c.spec,
                    "source": c.source,
                    "interactions": [f"{i.request.method} {i.request.path}: {i.description}" for i in c.interactions],
                    "messages": [m.description for m in c.messages],
                }
                for c in state.loaded.contracts
            ],
            "problems": [str(p) for p in state.loaded.problems],
        }
    )


@control.post("/_mock/provider-states")
def provider_states() -> Response:
    payload: Any = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("state", ""), str):
        return problem(
            400,
            "Bad provider-state call",
            'expected a JSON object like {"state": "job 123 exists", "params": {}, "action": "setup"}',
            "bad-provider-state",
        )
    action = payload.get("action", "setup")
    if action not in ("setup", "teardown"):
        return problem(
            400, "Bad provider-state call", f"action must be setup or teardown, not {action!r}", "bad-provider-state"
        )
    # The verifier also calls with an empty state for interactions that have none: nothing to do.
    if payload.get("state"):
        _state().set_state(payload["state"], active=action == "setup")
    return jsonify(payload.get("params") or {})
