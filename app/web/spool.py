"""Large answers handed to the server as files, so the server sends them only as fast as the client reads.

granian queues whatever a streamed answer is given without waiting for the client: 50 clients that never read
a 10 MB download would make a worker hold 500 MB. A file answer is read by the server as the socket drains.
Files are named by the SHA-256 of their bytes (one file however many readers), and one not used for
Tuning.spool_keep_seconds is deleted when the next is written: the server opens a file as soon as it starts the answer,
so a file older than that is in use by nobody still waiting for it to open.

Each process remembers the files it wrote, oldest first, and looks only at those old enough to go: a write costs
the same with ten files kept or ten thousand. (It used to list and stat the whole folder on every write; with the
default 600 s kept, the 10-minute soak's folder grew to thousands of files, and that listing became a fifth of the
workers' time: the soak's p99 drift, bench/SOAK.md.) The folder is listed once per process, for files an earlier
server left.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from ..domain.errors import Changed

READ_BYTES = 256 * 1024


class SpooledFile:
    """A WSGI body that is a file: servers that know it (the entrance) send the file; others iterate it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as file:
            while chunk := file.read(READ_BYTES):
                yield chunk


def spool_dir() -> Path:
    """Where spooled answers are kept: one folder per user, in the system's temporary folder."""
    folder = Path(tempfile.gettempdir()) / f"pactmock-spool-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def spooled(sha256: str, chunks: Callable[[], Iterator[bytes]], keep_seconds: float) -> SpooledFile:
    """The file holding the bytes whose SHA-256 is `sha256`, written from `chunks()` unless it is there already."""
    folder = spool_dir()
    path = folder / sha256
    if path.exists():
        os.utime(path)
        return SpooledFile(path)
    _written.forget_old(folder, keep_seconds)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".writing-")
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks():
                digest.update(chunk)
                file.write(chunk)
        if digest.hexdigest() != sha256:
            raise Changed(f"the bytes read have SHA-256 {digest.hexdigest()}, not {sha256}")
        os.replace(temporary, path)
        _written.note(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return SpooledFile(path)


class WrittenFiles:
    """The spool files this process wrote, oldest first, so that the old ones go without listing the folder.

    A note is (whole seconds, file name), about 200 bytes: a Path would be three times that, and a server at the
    soak's rate notes thousands before the first is old enough to go.
    """

    def __init__(self) -> None:
        self._files: deque[tuple[int, str]] = deque()
        self._guard = threading.Lock()
        self._folder_listed = False

    def note(self, path: Path) -> None:
        """Remember that this process wrote `path` now."""
        with self._guard:
            self._files.append((int(time.time()), path.name))

    def forget_old(self, folder: Path, keep_seconds: float) -> None:
        """Delete the files not used for `keep_seconds`: those this process wrote, and once the whole folder."""
        cutoff = time.time() - keep_seconds
        with self._guard:
            if not self._folder_listed:
                self._folder_listed = True
                for entry in folder.iterdir():
                    _delete_if_older(entry, cutoff)
            while self._files and self._files[0][0] < cutoff:
                _, name = self._files.popleft()
                used = _delete_if_older(folder / name, cutoff)
                if used is not None:
                    self._files.append((int(used), name))  # read again since it was written: look again later


def _delete_if_older(path: Path, cutoff: float) -> float | None:
    """Delete `path` if it was last used before `cutoff`; else when it was last used (None: it is gone)."""
    try:
        used = path.stat().st_mtime
        if used >= cutoff:
            return used
        path.unlink()
    except FileNotFoundError:
        pass
    return None


_written = WrittenFiles()
