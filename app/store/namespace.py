"""Which session's namespace the current request works in (issue 18, sessions for parallel tests).

One context variable, set by the web layer from the request and read by whatever keeps a per-worker cache or
opens a unit of work, so a cache is never shared between sessions. Requests without a session use DEFAULT.
"""

from __future__ import annotations

from contextvars import ContextVar

DEFAULT = "default"

_current: ContextVar[str] = ContextVar("pactmock_session", default=DEFAULT)


def current_session() -> str:
    """The session of the request being answered (DEFAULT outside any session)."""
    return _current.get()


def enter_session(name: str) -> object:
    """Work in session `name` from here on in this context; give the token to `leave_session`."""
    return _current.set(name)


def leave_session(token: object) -> None:
    """Back to the session that was current before `enter_session` gave `token`."""
    _current.reset(token)  # type: ignore[arg-type]
