"""The answer to an exception raised while answering a request, through Flask or the contract front."""

from __future__ import annotations

import logging

from flask import Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .problems import problem

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def error_response(error: Exception, method: str, path: str) -> Response:
    if isinstance(error, HTTPException):
        status = error.code or 400
        return problem(status, error.name, error.description or error.name, error.name.lower().replace(" ", "-"))
    if isinstance(error, DATABASE_UNAVAILABLE):
        # The database is down, unreachable or saturated: the client should come back, not give up.
        log.warning("database unavailable on %s %s: %s", method, path, error.__class__.__name__)
        response = problem(
            503,
            "Database unavailable",
            "the mock's database cannot be reached right now; retry shortly",
            "database-unavailable",
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    log.exception("unexpected error on %s %s", method, path)
    return problem(500, "Internal Server Error", "the mock failed to handle this request; see its log", "internal")
