"""A bound on every wait for PostgreSQL, so a database that stops answering cannot hang a request.

TCP keepalives and tcp_user_timeout notice a peer that vanished, but not one that still acknowledges the
bytes and never answers (a stalled server or proxy, a blackholed route behind a load balancer): libpq then
waits forever in recv(). psycopg2 lets a wait callback do its waiting instead (the driver's documented
"green" mode); ours waits at most WAIT_BOUND_SECONDS for the socket and then fails the query like a
dropped connection, which SQLAlchemy invalidates and the app answers with 503 and Retry-After.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg2
from psycopg2 import extensions

# Far longer than any query of this app takes, even queued behind the id counter under heavy load; a
# request that meets a silent database ends within two of these (the pre-ping, then one reconnect).
WAIT_BOUND_SECONDS = 5.0


def bounded_wait(connection: Any) -> None:
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
        if not poller.poll(WAIT_BOUND_SECONDS * 1000):
            # Worded as libpq words a lost connection, so SQLAlchemy drops it from the pool.
            raise psycopg2.OperationalError(
                f"could not receive data from server: no answer within {WAIT_BOUND_SECONDS:g} s"
            )


def install() -> None:
    """Process-wide (psycopg2 has one callback per process); idempotent."""
    if extensions.get_wait_callback() is not bounded_wait:
        extensions.set_wait_callback(bounded_wait)
