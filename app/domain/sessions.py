"""Isolated sessions for parallel tests (issue 18 item 7): which one a request works in, and what a name may be.

A request's `X-Pactmock-Session: <name>` header selects a namespace with its own data, id counters, clock,
scenarios and faults; requests without it work in DEFAULT. The session is a context variable, set by the web
layer around the work of one request and read by whatever opens a unit of work or keeps a per-worker cache,
so nothing of one session answers another's requests. The store keeps each session in its own namespace
(store/sessions.py): a PostgreSQL schema or an SQLite file, made on first use.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Protocol

from .errors import Invalid, QuotaExceeded

DEFAULT = "default"
# A short slug: it names a PostgreSQL schema (63 bytes at most, with its prefix) or a file, as given.
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,51}")
NAME_RULE = "1 to 52 characters of a-z, 0-9, '_' and '-', starting with a letter or digit"

_current: ContextVar[str] = ContextVar("pactmock_session", default=DEFAULT)


class InvalidSessionName(Invalid):
    """A session name the mock cannot use (400)."""


class TooManySessions(QuotaExceeded):
    """The mock holds as many sessions as PACTMOCK_MAX_SESSIONS allows (507)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the mock holds its limit of {limit} sessions (PACTMOCK_MAX_SESSIONS); "
            "drop one with DELETE /_mock/sessions/<name> first",
            limit,
        )


def checked_name(raw: str) -> str:
    """The session a header or a path names, case-folded; InvalidSessionName when it cannot be one."""
    name = raw.strip().lower()
    if not NAME.fullmatch(name):
        shown = raw[:80]
        raise InvalidSessionName(f"a session name is {NAME_RULE}, not {shown!r}")
    return name


def current_session() -> str:
    """The session of the request being answered (DEFAULT outside any session)."""
    return _current.get()


def enter_session(name: str) -> object:
    """Work in session `name` from here on in this context; give the token to `leave_session`."""
    return _current.set(name)


def leave_session(token: object) -> None:
    """Back to the session that was current before `enter_session` gave `token`."""
    _current.reset(token)  # type: ignore[arg-type]


class SessionKeeper(Protocol):
    """Where sessions are kept: made on first use, listed, dropped (store/sessions.py implements it)."""

    @property
    def limit(self) -> int:
        """The most sessions the mock holds at once (the default one not counted)."""

    def ensure(self, name: str) -> None:
        """Make session `name` if it does not exist yet; TooManySessions at the limit."""

    def names(self) -> list[str]:
        """Every session that exists now, sorted (the default one not among them)."""

    def drop(self, name: str) -> bool:
        """Remove session `name` and all it holds; whether it existed."""
