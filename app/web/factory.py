"""Build the Flask application: control plane, health, CORS, then the contract dispatcher."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from ..settings import Settings
from .control import control
from .dispatch import dispatch
from .problems import problem
from .state import MockState

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2


def build_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("pactmock")
    app.config["MOCK_STATE"] = MockState.load(settings)
    # Werkzeug stops reading a body past this. A chunked body (no Content-Length) may be cut off
    # there rather than refused, so the cap sits one byte above the largest allowed body: a body that
    # reaches it is too large by our own check in dispatch, never stored truncated.
    app.config["MAX_CONTENT_LENGTH"] = max(settings.max_upload_bytes, settings.max_json_bytes) + 1
    app.register_blueprint(control)
    app.register_blueprint(dispatch)

    @app.after_request
    def add_cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        allowed = settings.cors_origins
        if "*" in allowed:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 400
        return problem(status, error.name, error.description or error.name, error.name.lower().replace(" ", "-"))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error: Exception) -> Response:
        # The database is down, unreachable or saturated: the client should come back, not give up.
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error.__class__.__name__)
        response = problem(
            503,
            "Database unavailable",
            "the mock's database cannot be reached right now; retry shortly",
            "database-unavailable",
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "the mock failed to handle this request; see its log", "internal")

    return app
