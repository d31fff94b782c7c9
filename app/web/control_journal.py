"""The journal on the control plane (issue 18): filled in by its own change; registered in factory.py."""

from __future__ import annotations

from flask import Blueprint

from .control import guard_control_plane

journal_control = Blueprint("journal_control", __name__)
journal_control.before_request(guard_control_plane)
