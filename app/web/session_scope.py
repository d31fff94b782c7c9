"""The session a request works in (X-Pactmock-Session), and running a request's work inside it.

The session is a context variable (domain/sessions.py). A request's work is split between the entrance's event
loop and its thread pool, and a thread does not inherit the loop's context: so the work of a request in a
session runs through `runner_for`, which enters the session in a context of the request's own and runs each
piece in it, on whichever thread. Nothing is ever set in the loop's or a thread's own context, so no request
can leave its session behind for the next. Requests without the header pay one dictionary look-up.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..domain.sessions import DEFAULT, checked_name, enter_session

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

HEADER = "X-Pactmock-Session"
HEADER_IN_ENVIRON = "HTTP_X_PACTMOCK_SESSION"

T = TypeVar("T")
Runner = Callable[..., Any]


def session_of(environ: WSGIEnvironment) -> str:
    """The session the request names (DEFAULT without the header); InvalidSessionName for a bad name."""
    raw = environ.get(HEADER_IN_ENVIRON)
    if raw is None:
        return DEFAULT
    return checked_name(raw)


def _in_place(work: Callable[..., T], *args: Any) -> T:
    return work(*args)


def runner_for(name: str) -> Runner:
    """Calls `work(*args)` inside session `name`: run(work, *args). One runner serves one request, one call at a time."""
    if name == DEFAULT:
        return _in_place
    context = contextvars.copy_context()
    context.run(enter_session, name)
    return context.run
