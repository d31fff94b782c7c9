"""The one table from an exception raised while answering to its problem+json answer.

Domain refusals, the store's conflicts and outages, and HTTP errors Flask raises all come here; nothing
else in the web layer picks a status for an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..contract.match.uripath import wire_path
from ..contract.serve.router import Router
from ..domain.errors import (
    AlreadyExists,
    CapacityReached,
    Changed,
    Conflict,
    Forbidden,
    IdsExhausted,
    Invalid,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    QuotaExceeded,
    StoreUnavailable,
    UnknownId,
    WrongState,
)
from ..domain.sessions import TooManySessions
from .dispatch import ALL_METHODS, clipped
from .problems import problem

log = logging.getLogger(__name__)


def _extra_none(_error: Exception) -> dict[str, Any]:
    return {}


# exception type -> (problem type, its extension members); the first entry the exception is an instance of wins.
TABLE: list[tuple[type[Exception], str, Callable[[Any], dict[str, Any]]]] = [
    (NotFound, "not-found", lambda error: {"resource": error.what}),
    (Forbidden, "forbidden", _extra_none),
    (Invalid, "invalid-request", _extra_none),
    (UnknownId, "bad-provider-state", _extra_none),
    (IdsExhausted, "ids-exhausted", _extra_none),
    (TooManySessions, "session-limit", lambda error: {"limit": error.limit}),
    # Nothing was stored: an earlier upload under the same key is still there, whole.
    (QuotaExceeded, "storage-quota", lambda error: {"limit": error.limit}),
    (Changed, "upload-changed", _extra_none),
    (InvalidTransition, "invalid-transition", lambda error: {"current": error.current, "allowed": error.allowed}),
    (WrongState, "wrong-state", _extra_none),
    (CapacityReached, "capacity-reached", lambda error: {"limit": error.limit}),
    (AlreadyExists, "already-exists", _extra_none),
    (NotAuthenticated, "not-authenticated", _extra_none),
    (Conflict, "conflict", _extra_none),
    (StoreUnavailable, "database-unavailable", _extra_none),
]
RETRY_LATER = ("conflict", "database-unavailable")
HTTP_SLUGS = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}


def error_response(error: Exception, method: str, path: str, retry_after: int) -> Response:
    """The answer to `error`, raised while answering `method path`; a 500 (and its traceback logged) for a bug.

    `retry_after`: the seconds a client told to come back (store busy or down) is asked to wait.
    """
    if isinstance(error, HTTPException):
        # Flask's own refusals: no such control page, a method a control route does not take, a body too large.
        response = problem(HTTP_SLUGS.get(error.code or 400, "bad-request"), error.description or error.name)
        if isinstance(error, MethodNotAllowed) and error.valid_methods is not None:
            response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110: a 405 says what is allowed
        return response
    for kind, slug, extra in TABLE:
        if isinstance(error, kind):
            return _known(error, slug, extra(error), method, path, retry_after)
    log.exception("unexpected error on %s %s", method, clipped(path))
    return problem("internal", "the mock failed to handle this request; see its log")


def method_not_allowed(method: str, path: str, router: Router) -> Response:
    """405 for a method no pact uses, with the Allow header RFC 9110 requires: the methods the pacts take at `path`.

    `path` is the request's path as the server handed it over (decoded), as for routing.
    """
    at_path = wire_path(path)
    allowed = [known for known in ALL_METHODS if router.candidates(known, at_path)]
    response = problem("method-not-allowed", f"no pact uses the method {method[:40]!r}", allowed=allowed)
    # Empty when no pact defines the path: RFC 9110's way of saying that the resource takes no method.
    response.headers["Allow"] = ", ".join(allowed)
    return response


def _known(error: Exception, slug: str, extra: dict[str, Any], method: str, path: str, retry_after: int) -> Response:
    detail = str(error)
    if isinstance(error, StoreUnavailable):
        # The driver's words may name hosts and users: logged, not answered.
        log.warning("database unavailable on %s %s: %s", method, clipped(path), error)
        detail = "the mock's database cannot be reached right now; retry shortly"
    response = problem(slug, f"{detail}; ask again" if isinstance(error, Changed) else detail, **extra)
    if slug in RETRY_LATER:
        response.headers["Retry-After"] = str(retry_after)
    return response
