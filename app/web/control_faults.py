"""The faults on the control plane (issue 18 item 6); the rules themselves are described in fault_rules.py.

GET    /_mock/faults         the rule set: {"version", "seed", "rules": [...]}
PUT    /_mock/faults         replace it: {"seed": 7, "rules": [...]} (or a bare list of rules)
POST   /_mock/faults         add one rule: {"match": {"route": "POST /runs"}, "error": {"status": 503}}
DELETE /_mock/faults         no faults
DELETE /_mock/faults/<id>    remove one rule

Every worker and server sees a change on its next request: each successful change to the control plane (this
blueprint's, and reset or import, which may clear or restore the faults) is announced to them (faults.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .control import json_body
from .fault_rules import BadRules
from .faults import FaultStore, signal_for
from .problems import problem
from .served import Served

faults_control = Blueprint("faults_control", __name__)


def _served() -> Served:
    served: Served = current_app.extensions["pactmock.served"]
    return served


def _keeper() -> FaultStore:
    served = _served()
    return FaultStore(served.store, served.settings.generator_seed)


@faults_control.after_app_request
def announce_changes(response: Response) -> Response:
    """A control-plane change that went through may have changed the faults (reset empties them, import
    restores them), the clock or the provider states: every worker and server is told to read them again.
    A 5xx too: it may come after part of a change was committed (a 4xx is refused before anything changes)."""
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and request.path.startswith("/_mock")
        and not 400 <= response.status_code < 500
    ):
        signal_for(_served().settings.database_url).announce()
    return response


def _bad(error: BadRules) -> Response:
    return problem("invalid-request", str(error), where=error.where and list(error.where))


def _json() -> Any:
    payload = json_body()
    if payload is None:
        raise BadRules(
            (), 'expected a JSON body, such as {"rules": [{"match": {"route": "GET /runs"}, "delay": {"fixed": 200}}]}'
        )
    return payload


@faults_control.get("/_mock/faults")
def read_faults() -> Response:
    """The rules every worker applies now."""
    return jsonify(_keeper().read().as_json())


@faults_control.put("/_mock/faults")
def replace_faults() -> Response:
    """The rules given replace all of them (checked first: a bad rule changes nothing)."""
    try:
        return jsonify(_keeper().replace(_json()).as_json())
    except BadRules as error:
        return _bad(error)


@faults_control.post("/_mock/faults")
def add_fault() -> Response:
    """One rule more; answered with its id."""
    try:
        rule = _keeper().add(_json())
    except BadRules as error:
        return _bad(error)
    response = jsonify(rule.shown)
    response.status_code = 201
    return response


@faults_control.delete("/_mock/faults")
def clear_faults() -> Response:
    """No faults any more."""
    return jsonify(_keeper().clear().as_json())


@faults_control.delete("/_mock/faults/<int:rule_id>")
def remove_fault(rule_id: int) -> Response:
    """One rule removed."""
    if not _keeper().remove(rule_id):
        return problem("not-found", f"there is no fault rule {rule_id}; GET /_mock/faults lists them")
    return jsonify({"removed": rule_id})
