"""Sessions on the control plane (issue 18 item 7): list them, make one ahead of use, drop one with all it holds.

GET    /_mock/sessions           every session (the default one first), the limit, and the caller's session
PUT    /_mock/sessions/<name>    make it now (it is made on first use anyway): 201, or 200 when it was there
DELETE /_mock/sessions/<name>    drop it: its data, counters, clock, scenarios and faults are gone (409 for default)

Every other /_mock/ call acts on the session its X-Pactmock-Session header names, like the contract routes.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from ..domain.sessions import DEFAULT, SessionKeeper, checked_name, current_session
from .problems import problem

sessions_control = Blueprint("sessions_control", __name__)


def _keeper() -> SessionKeeper:
    keeper: SessionKeeper = current_app.extensions["pactmock.sessions"]
    return keeper


@sessions_control.get("/_mock/sessions")
def list_sessions() -> Response:
    """The sessions that exist now, on every server of this database."""
    keeper = _keeper()
    names = [DEFAULT, *(name for name in keeper.names() if name != DEFAULT)]
    return jsonify(
        {"sessions": [{"name": name} for name in names], "limit": keeper.limit, "current": current_session()}
    )


@sessions_control.put("/_mock/sessions/<name>")
def make_session(name: str) -> Response:
    """Make session `name` now (a test suite may, to pay the making before its first test)."""
    name = checked_name(name)
    if name == DEFAULT:
        return jsonify({"session": DEFAULT, "created": False})
    keeper = _keeper()
    existed = name in keeper.names()
    keeper.ensure(name)
    response = jsonify({"session": name, "created": not existed})
    response.status_code = 200 if existed else 201
    return response


@sessions_control.delete("/_mock/sessions/<name>")
def drop_session(name: str) -> Response:
    """Drop session `name` with everything it holds; using the name again makes a fresh one."""
    name = checked_name(name)
    if name == DEFAULT:
        return problem(
            "default-session",
            "the default session cannot be dropped; POST /_mock/reset empties it",
        )
    if not _keeper().drop(name):
        return problem(
            "not-found", f"no session is called {name!r}; GET /_mock/sessions lists them", resource="session"
        )
    return jsonify({"dropped": name})
