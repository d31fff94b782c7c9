"""Tells every worker and server on a database that what the control plane keeps may have changed.

The control plane's settings (fault rules, the mock's clock, the active provider states) are read on every
request but change only when a control-plane call changes them. Each process caches what it read together with
the signal's generation at the time, and reads again only when the generation moved: a stamp shared by the
workers on this host, and on PostgreSQL a NOTIFY that a LISTEN thread in every process of every server hears.

The stamp is 8 bytes of a file that every process maps into its memory; an announcement writes a fresh random
value there. Reading it is a memory read: no system call, so the thread keeps the GIL. (A `stat` of the file per
request, as before, let go of the GIL, and under load getting it back cost 17% of a generic read's samples.)
A reader that catches an announcement half written sees a value that differs from the one it holds and reads
the store once more than needed; the client that made the change is answered after the whole value is written. The control plane announces every change it made
(web/control_faults.py's after-request hook announces every successful control-plane change).

Writes of generic items have a stamp and a channel of their own (the file's second 8 bytes, `pactmock_items`):
the generic engine announces each unit of work that wrote items (domain/cached.py), so a worker's kept item
reads are read again. On PostgreSQL a thread of the process sends the NOTIFY, one for every write announced
since it sent the last, and at most 20 a second (so another host hears of a write within about 50 ms): under
load, a NOTIFY per create (in its transaction or after it) cost the request a round trip or a serialised commit,
and woke every listener per create.

Across hosts the NOTIFY arrives a moment after the announcing call answered (its own host's workers see the
stamp at once): a client that changes the clock through one host and reads through another at once may, in
that moment, still be answered by the old setting; the same holds for an item written through one host and
read at once through another.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import random
import select
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "pactmock_faults"  # the name of the first user (fault rules), kept so mixed versions still hear each other
# Writes of generic items (domain/cached.py's item reads): a second channel and stamp, so a create does not make
# every worker read its clock and provider states again.
ITEMS_CHANNEL = "pactmock_items"
# The least time between two NOTIFYs of item writes from one process: how much later than its own host another
# host may hear of a write, and what keeps a NOTIFY per create from costing the creates (bench/RESULTS.md).
ITEMS_NOTIFY_PAUSE_SECONDS = 0.05

# A point in the sequence of announced changes: compare it with the one a cache was read at.
Generation = tuple[bytes, int]
STAMP_BYTES = 8
# The file holds two stamps: the control plane's, then the generic items'.
ITEMS_STAMP = slice(STAMP_BYTES, 2 * STAMP_BYTES)
FILE_BYTES = 2 * STAMP_BYTES


class ChangeSignal:
    """Tells this process's caches that the control plane's settings may have changed: a stamp file for the
    workers on this host, and on PostgreSQL a NOTIFY heard by a LISTEN thread in every process of every server."""

    def __init__(self, database_url: str) -> None:
        digest = hashlib.sha256(_place(database_url).encode()).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"pactmock-changes-{os.getuid()}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.stamp = folder / digest
        self.shared = _mapped(self.stamp)
        self.heard = 0  # NOTIFYs heard (and reconnections, after which one may have been missed)
        self.items_heard = 0  # the same for writes of generic items
        self.dsn = _dsn(database_url)
        self.sender: Any = None
        self.lock = threading.Lock()
        self.items_due = threading.Event()  # a write of items was announced and no NOTIFY sent for it yet
        if self.dsn is not None:
            threading.Thread(target=self._listen, name="pactmock-changes", daemon=True).start()
            threading.Thread(target=self._notify_items, name="pactmock-items-notifier", daemon=True).start()

    def generation(self) -> Generation:
        """Changes whenever a change is announced (compare it with the one the cache was read at)."""
        return (self.shared[:STAMP_BYTES], self.heard)

    def items_generation(self) -> Generation:
        """Changes whenever a write of generic items is announced, here or (NOTIFY) on another server."""
        return (self.shared[ITEMS_STAMP], self.items_heard)

    def announce_items(self) -> None:
        """Generic items were written: every worker here reads them again at once; on PostgreSQL every other server
        too, once the items' notifier has sent its next NOTIFY."""
        self.shared[ITEMS_STAMP] = _fresh_stamp()
        if self.dsn is not None:
            self.items_due.set()

    def announce_items_now(self) -> None:
        """As `announce_items`, the NOTIFY sent before it returns: for a process about to exit (`pactmock seed`)."""
        self.shared[ITEMS_STAMP] = _fresh_stamp()
        self._notify(ITEMS_CHANNEL)

    def _notify_items(self) -> None:
        # Cleared before the NOTIFY is sent: a write announced while it is sent is covered by the next one. The
        # pause after each bounds the NOTIFYs (and the wake-ups of every listener) to 20 a second per process.
        while True:
            self.items_due.wait()
            self.items_due.clear()
            self._notify(ITEMS_CHANNEL)
            time.sleep(ITEMS_NOTIFY_PAUSE_SECONDS)

    def announce(self) -> None:
        """Every worker here, and every server on the same PostgreSQL, reads its cached settings again."""
        # Random, not counted up: two announcing at once cannot both write the value a reader already holds.
        self.shared[:STAMP_BYTES] = _fresh_stamp()
        self._notify(CHANNEL)

    def _notify(self, channel: str) -> None:
        if self.dsn is None:
            return
        with self.lock:
            for _ in range(2):
                try:
                    if self.sender is None or self.sender.closed:
                        self.sender = _connect(self.dsn)
                    self.sender.cursor().execute(f"NOTIFY {channel}")
                    return
                except Exception as error:  # the next try reconnects; the stamp already told this host
                    log.warning("changes: could not notify other servers: %s", error)
                    self.sender = None

    def _listen(self) -> None:
        while True:
            try:
                connection = _connect(self.dsn)
                connection.cursor().execute(f"LISTEN {CHANNEL}; LISTEN {ITEMS_CHANNEL}")
                self._missed()  # a change made before LISTEN was missed: read again
                while True:
                    if select.select([connection], [], [], 30)[0]:
                        connection.poll()
                        channels = {notice.channel for notice in connection.notifies}
                        connection.notifies.clear()
                        if CHANNEL in channels:
                            self.heard += 1
                        if ITEMS_CHANNEL in channels:
                            self.items_heard += 1
            except Exception as error:
                log.warning("changes: listening for changes failed (%s); again in 1 s", error)
                self._missed()
                time.sleep(1)

    def _missed(self) -> None:
        self.heard += 1
        self.items_heard += 1


def _fresh_stamp() -> bytes:
    """A random stamp from the process's generator (reseeded in every forked worker): os.urandom is a system call
    that gives up the GIL, and getting it back cost a create under load about 1% of its time."""
    return random.getrandbits(8 * STAMP_BYTES).to_bytes(STAMP_BYTES, "little")


def _mapped(stamp: Path) -> mmap.mmap:
    """The stamp file's bytes, mapped into this process's memory (made, zeroed, by whichever process is first).

    The file is only ever written in place: a file replaced under a mapping would leave this process reading
    the old one.
    """
    descriptor = os.open(stamp, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(descriptor).st_size < FILE_BYTES:
            os.ftruncate(descriptor, FILE_BYTES)  # a file an older version made grows by the zeroed items stamp
        return mmap.mmap(descriptor, FILE_BYTES)
    finally:
        os.close(descriptor)


def _place(database_url: str) -> str:
    """What the stamp is named after: the database itself, so two servers that name one SQLite file by different
    URLs (a relative path from two folders, say) share one stamp, and hear each other's writes."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return f"sqlite:{Path(url.database).resolve()}"
    return database_url


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
