"""The request journal (issue 18 item 5): the last N contract requests one pactmock server answered.

`pactmock serve` runs several worker processes, and a journal in one worker's memory would see only its share
of the requests. So each worker appends one compact JSON line per request to its own pair of slot files
(journal_slots.py) in a directory of the system's temp dir keyed by the server (its port and its supervisor's
pid); when the slot in use holds N records the other one is begun again (its older records are dropped). Any
worker answers GET /_mock/journal by reading every worker's files and merging them by time: the newest N of the
server are always there, since each worker keeps at least its own newest N. Disk stays bounded (two slots of N
clipped records per worker), and a worker holds nothing in memory but the mapping of its slot in use.

Recording copies a line the entrance makes after the answer is ready, and before it is sent, into the slot's
shared mapping, so a client that has its answer finds its request in the journal, whichever worker it asks. No
database is touched.

The journal is per server: several pactmock servers behind one load balancer keep one journal each.
"""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.sessions import DEFAULT
from .journal_record import assembled, request_parts
from .journal_slots import SUFFIX, SlotWriter, disk_bytes, read_slot

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from ..settings import Settings

# Files of workers that have gone (a crash, a reload) are kept for this many of them, the most recent.
GONE_WORKERS_KEPT = 4
CLEARED_FILE = "cleared"

log = logging.getLogger(__name__)


def server_directory(settings: Settings) -> Path:
    """Where this server's workers keep their journal files: one directory per server (port and supervisor).

    In a `pactmock serve` worker the supervisor is the parent process; an app built in-process is its own.
    """
    parent = multiprocessing.parent_process()
    supervisor = parent.pid if parent is not None and parent.pid is not None else os.getpid()
    return _journals_root() / f"{settings.port}-{supervisor}"


def _journals_root() -> Path:
    # One per user: the journal holds request bodies, so nobody else may read it (0700).
    return Path(tempfile.gettempdir()) / f"pactmock-journal-{os.getuid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Filters:
    """What GET /_mock/journal keeps: each field None keeps everything."""

    method: str | None = None
    path: str | None = None  # exact, or a prefix when it ends in "*"
    status: str | None = None  # "404", or a class: "4xx"
    interaction: str | None = None  # a part of the answering (or closest) interaction's description
    since_ns: int | None = None
    limit: int | None = None
    session: str | None = None  # the session's name (records from before the field existed: the default one)

    def keeps(self, record: dict[str, Any]) -> bool:
        """Whether the record passes every filter given."""
        if self.method is not None and record.get("method") != self.method:
            return False
        if self.session is not None and record.get("session", DEFAULT) != self.session:
            return False
        if self.path is not None:
            path = str(record.get("path"))
            if not (path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path):
                return False
        if self.status is not None:
            status = str(record.get("status"))
            if not (status[0] == self.status[0] if self.status.endswith("xx") else status == self.status):
                return False
        if self.since_ns is not None and int(record.get("ns", 0)) < self.since_ns:
            return False
        if self.interaction is not None:
            named = (record.get("answeredBy") or {}).get("interaction") or (record.get("closest") or {}).get(
                "description"
            )
            if self.interaction.lower() not in str(named or "").lower():
                return False
        return True


class Journal:
    """One worker's side of its server's journal: it appends this worker's records and reads everyone's."""

    def __init__(self, directory: Path, size: int, body_bytes: int) -> None:
        self.directory = directory
        self.size = size
        self.body_bytes = body_bytes
        self.pid = os.getpid()
        self.slots = SlotWriter(directory, self.pid, size)
        self.lock = threading.Lock()
        self.sequence = itertools.count()  # next() on it is atomic: every record has its own id

    @classmethod
    def for_server(cls, settings: Settings) -> Journal | None:
        """This worker's journal for its server (None when PACTMOCK_JOURNAL_SIZE is 0): one per process, shared
        by the entrance, which records, and the control plane, which reads. Journals of gone servers are tidied."""
        if settings.journal_size <= 0:
            return None
        directory = server_directory(settings)
        with _OPENED_LOCK:
            journal = _OPENED.get(directory)
            if journal is None or journal.pid != os.getpid():
                _sweep_gone_servers(directory)
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                journal = cls(directory, settings.journal_size, settings.journal_body_bytes)
                journal._sweep_gone_workers()
                _OPENED[directory] = journal
        return journal

    def record(
        self,
        environ: WSGIEnvironment,
        cgi_headers: Mapping[str, str],
        body: bytes,
        status: int,
        answer: list[bytes],
        arrived_ns: int,
        *,
        fault: dict[str, Any] | None = None,
    ) -> None:
        """Append one answered request (called once its answer is ready, before it is sent); `fault` says
        which fault rules changed the answer (fault_answers.py)."""
        parts = request_parts(environ, cgi_headers, body, status, answer, self.body_bytes)
        line = assembled(f"{self.pid}-{next(self.sequence)}", arrived_ns, time.time_ns(), status, parts)
        if fault is not None:
            line = line[:-2] + b',"fault":' + json.dumps(fault, separators=(",", ":")).encode() + b"}\n"
        self._append(line)

    def record_known(self, parts: tuple[str, str], status: int, arrived_ns: int) -> None:
        """Append a request whose record parts were made before (journal_record.request_parts): a replayed answer."""
        self._append(assembled(f"{self.pid}-{next(self.sequence)}", arrived_ns, time.time_ns(), status, parts))

    def _append(self, line: bytes) -> None:
        with self.lock:
            try:
                self.slots.append(line)
            except OSError as error:
                # A full disk or a removed directory costs the record, never the answer.
                log.warning("journal: a request was not recorded: %s", error)
                self.slots.drop()

    def clear(self) -> None:
        """Forget every worker's records so far (they are hidden, and rotate out as new ones come)."""
        marker = self.directory / f".{CLEARED_FILE}.{self.pid}"
        marker.write_text(str(time.time_ns()))
        os.replace(marker, self.directory / CLEARED_FILE)

    def records(self, filters: Filters = Filters()) -> tuple[list[dict[str, Any]], int]:
        """The server's newest records passing `filters`, newest first, up to the limit; and how many passed."""
        cleared = self._cleared_ns()
        seen: dict[str, dict[str, Any]] = {}
        for record in self._all_lines():
            if int(record.get("ns", 0)) >= cleared:
                seen[str(record.get("id"))] = record
        newest = sorted(seen.values(), key=lambda r: int(r.get("ns", 0)), reverse=True)[: self.size]
        kept = [r for r in newest if filters.keeps(r)]
        shown = kept[: filters.limit] if filters.limit is not None else kept
        return [readable(r) for r in shown], len(kept)

    def workers(self) -> list[int]:
        """The pids of the workers with records here (gone ones included)."""
        return sorted({int(p.name.split(".")[0]) for p in self.directory.glob(f"*{SUFFIX}") if p.name[0].isdigit()})

    def disk_bytes(self) -> int:
        """What the server's journal files take on disk now."""
        return sum(disk_bytes(p) for p in self.directory.glob(f"*{SUFFIX}"))

    def _cleared_ns(self) -> int:
        try:
            return int((self.directory / CLEARED_FILE).read_text())
        except (OSError, ValueError):
            return 0

    def _all_lines(self) -> Iterator[dict[str, Any]]:
        for path in self.directory.glob(f"*{SUFFIX}"):
            for line in read_slot(path).splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line still being written
                if isinstance(record, dict):
                    yield record

    def _sweep_gone_workers(self) -> None:
        gone: dict[int, float] = {}
        for path in self.directory.glob(f"*{SUFFIX}"):
            pid = int(path.name.split(".")[0]) if path.name[0].isdigit() else 0
            if pid != self.pid and not _alive(pid):
                gone[pid] = max(gone.get(pid, 0.0), path.stat().st_mtime)
        for pid in sorted(gone, key=lambda p: gone[p], reverse=True)[GONE_WORKERS_KEPT:]:
            for path in self.directory.glob(f"{pid}.*{SUFFIX}"):
                path.unlink(missing_ok=True)


_OPENED: dict[Path, Journal] = {}
_OPENED_LOCK = threading.Lock()


def _sweep_gone_servers(keep: Path) -> None:
    """Journals of servers whose supervisor has gone are removed: only live servers' journals take disk."""
    root = keep.parent
    if not root.is_dir():
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return
    for directory in root.iterdir():
        supervisor = directory.name.rpartition("-")[2]
        if directory != keep and supervisor.isdigit() and not _alive(int(supervisor)):
            shutil.rmtree(directory, ignore_errors=True)


def readable(record: dict[str, Any]) -> dict[str, Any]:
    """A record as GET /_mock/journal shows it: its time as RFC 3339 (UTC, microseconds)."""
    shown = dict(record)
    ns = int(shown.pop("ns", 0))
    shown["time"] = datetime.fromtimestamp(ns / 1e9, UTC).isoformat().replace("+00:00", "Z")
    return shown
