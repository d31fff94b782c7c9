"""The mock's clock on the control plane: GET /_mock/clock, and POST it to freeze, advance, set or resume.

POST /_mock/clock {"action": "freeze"}                        stop time where it is (or "at" an instant)
POST /_mock/clock {"action": "advance", "seconds": 90}        move it on
POST /_mock/clock {"action": "set", "at": "2030-01-01T00:00:00Z"}
POST /_mock/clock {"action": "resume"}                        run on from where it is
DELETE /_mock/clock                                           back to the system's time
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from ..domain.clock import MockClock
from ..domain.errors import Invalid
from .control import json_body
from .problems import problem

clock_control = Blueprint("clock_control", __name__)


def _clock() -> MockClock:
    clock: MockClock = current_app.extensions["pactmock.clock"]
    return clock


@clock_control.get("/_mock/clock")
def read_clock() -> Response:
    """The mock's time now, and whether it is frozen or moved."""
    clock = _clock()
    return jsonify(clock.setting().as_json(clock.system()))


@clock_control.post("/_mock/clock")
def change_clock() -> Response:
    """Freeze, advance, set or resume the clock for every worker."""
    payload: Any = json_body()
    if not isinstance(payload, dict):
        return problem("invalid-request", 'expected a JSON object such as {"action": "advance", "seconds": 60}')
    try:
        seconds = _seconds(payload.get("seconds"))
        at = _instant(payload.get("at"))
        clock = _clock()
        changed = clock.change(str(payload.get("action")), seconds, at)
    except Invalid as error:
        return problem("invalid-request", str(error))
    return jsonify(changed.as_json(clock.system()))


@clock_control.delete("/_mock/clock")
def reset_clock() -> Response:
    """The system's time again."""
    clock = _clock()
    return jsonify(clock.reset().as_json(clock.system()))


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(f'"seconds" must be a number, not {value!r}')
    return float(value)


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f'"at" must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z, not {value!r}') from None
    if at.tzinfo is None:
        raise Invalid(f'"at" must carry a zone (Z or +hh:mm), not {value!r}')
    return at
