"""A bound on every wait for PostgreSQL, so a database that stops answering cannot hang a request.

TCP keepalives and tcp_user_timeout notice a peer that vanished, but not one that still acknowledges the
bytes and never answers (a stalled server or proxy, a blackholed route behind a load balancer): libpq then
waits forever in recv(). psycopg2 lets a wait callback do its waiting instead (the driver's documented
"green" mode); ours waits at most `Tuning.wait_bound_seconds` for the socket and then fails the query like a
dropped connection, which SQLAlchemy invalidates and the app answers with 503 and Retry-After.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg2
from psycopg2 import extensions


class BoundedWait:
    """psycopg2's wait callback: waits for the connection's socket, at most `seconds` each time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, connection: Any) -> None:
        """Drive `connection` until its operation is done; OperationalError when the database is silent too long."""
        while True:
            state = connection.poll()
            if state == extensions.POLL_OK:
                return
            if state == extensions.POLL_READ:
                events = select.POLLIN
            elif state == extensions.POLL_WRITE:
                events = select.POLLOUT
            else:
                raise psycopg2.OperationalError(f"unexpected poll state {state}")
            # poll, not select: select cannot take a descriptor numbered 1024 or more (a busy worker has them).
            poller = select.poll()
            poller.register(connection.fileno(), events)
            if not poller.poll(self.seconds * 1000):
                # Worded as libpq words a lost connection, so SQLAlchemy drops it from the pool.
                raise psycopg2.OperationalError(
                    f"could not receive data from server: no answer within {self.seconds:g} s"
                )


def install(seconds: float) -> None:
    """Process-wide (psycopg2 has one callback per process); idempotent for the same bound."""
    current = extensions.get_wait_callback()
    if not (isinstance(current, BoundedWait) and current.seconds == seconds):
        extensions.set_wait_callback(BoundedWait(seconds))
