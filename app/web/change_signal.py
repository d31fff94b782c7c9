"""Tells every worker and server on a database that what the control plane keeps may have changed.

The control plane's settings (fault rules, the mock's clock, the active provider states) are read on every
request but change only when a control-plane call changes them. Each process caches what it read together with
the signal's generation at the time, and reads again only when the generation moved: a stamp file for the
workers on this host (a `stat` per request, about a microsecond), and on PostgreSQL a NOTIFY that a LISTEN
thread in every process of every server hears. The control plane announces every change it made
(web/control_faults.py's after-request hook announces every successful control-plane change).

Across hosts the NOTIFY arrives a moment after the announcing call answered (its own host's workers see the
stamp at once): a client that changes the clock through one host and reads through another at once may, in
that moment, still be answered by the old setting.
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "pactmock_faults"  # the name of the first user (fault rules), kept so mixed versions still hear each other

# A point in the sequence of announced changes: compare it with the one a cache was read at.
Generation = tuple[int, int, int]


class ChangeSignal:
    """Tells this process's caches that the control plane's settings may have changed: a stamp file for the
    workers on this host, and on PostgreSQL a NOTIFY heard by a LISTEN thread in every process of every server."""

    def __init__(self, database_url: str) -> None:
        digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"pactmock-faults-{os.getuid()}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.stamp = folder / digest
        self.heard = 0  # NOTIFYs heard (and reconnections, after which one may have been missed)
        self.dsn = _dsn(database_url)
        self.sender: Any = None
        self.lock = threading.Lock()
        if self.dsn is not None:
            threading.Thread(target=self._listen, name="pactmock-changes", daemon=True).start()

    def generation(self) -> Generation:
        """Changes whenever a change is announced (compare it with the one the cache was read at)."""
        try:
            found = os.stat(self.stamp)
        except FileNotFoundError:
            return (0, 0, self.heard)
        return (found.st_ino, found.st_mtime_ns, self.heard)

    def announce(self) -> None:
        """Every worker here, and every server on the same PostgreSQL, reads its cached settings again."""
        fresh = self.stamp.with_name(f".{self.stamp.name}.{os.getpid()}.{threading.get_ident()}")
        fresh.write_text(uuid.uuid4().hex)
        os.replace(fresh, self.stamp)  # a new inode: the generation differs even within one mtime tick
        if self.dsn is None:
            return
        with self.lock:
            for _ in range(2):
                try:
                    if self.sender is None or self.sender.closed:
                        self.sender = _connect(self.dsn)
                    self.sender.cursor().execute(f"NOTIFY {CHANNEL}")
                    return
                except Exception as error:  # the next try reconnects; the stamp already told this host
                    log.warning("changes: could not notify other servers: %s", error)
                    self.sender = None

    def _listen(self) -> None:
        while True:
            try:
                connection = _connect(self.dsn)
                connection.cursor().execute(f"LISTEN {CHANNEL}")
                self.heard += 1  # a change made before LISTEN was missed: read again
                while True:
                    if select.select([connection], [], [], 30)[0]:
                        connection.poll()
                        if connection.notifies:
                            connection.notifies.clear()
                            self.heard += 1
            except Exception as error:
                log.warning("changes: listening for changes failed (%s); again in 1 s", error)
                self.heard += 1
                time.sleep(1)


def _dsn(database_url: str) -> str | None:
    if not database_url.startswith("postgresql"):
        return None
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _connect(dsn: str | None) -> Any:
    import psycopg2

    connection = psycopg2.connect(dsn, connect_timeout=5)
    connection.autocommit = True
    return connection


_SHARED: dict[str, ChangeSignal] = {}
_SHARED_LOCK = threading.Lock()


def signal_for(database_url: str) -> ChangeSignal:
    """The process's one signal for a database (one LISTEN connection however many apps are built)."""
    with _SHARED_LOCK:
        found = _SHARED.get(database_url)
        if found is None:
            found = _SHARED[database_url] = ChangeSignal(database_url)
        return found
