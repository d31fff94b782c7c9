"""The API reference on the control plane (issue 19): filled in by its own change; registered in factory.py."""

from __future__ import annotations

from flask import Blueprint

from .control import guard_control_plane

docs_control = Blueprint("docs_control", __name__)
docs_control.before_request(guard_control_plane)
