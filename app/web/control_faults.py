"""The faults on the control plane (issue 18): filled in by its own change; registered in factory.py."""

from __future__ import annotations

from flask import Blueprint

from .control import guard_control_plane

faults_control = Blueprint("faults_control", __name__)
faults_control.before_request(guard_control_plane)
