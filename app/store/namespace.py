"""Which session's namespace the current request works in (issue 18, sessions for parallel tests).

The context variable itself lives in domain/sessions.py, so the domain, the providers and the web layer (which
may not import the store) read the same one; this module keeps the names the store and the factory use.
"""

from __future__ import annotations

from ..domain.sessions import DEFAULT, current_session, enter_session, leave_session

__all__ = ["DEFAULT", "current_session", "enter_session", "leave_session"]
