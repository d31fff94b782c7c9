"""Large answers handed to the server as files, so the server sends them only as fast as the client reads.

granian queues whatever a streamed answer is given without waiting for the client: 50 clients that never read
a 10 MB download would make a worker hold 500 MB. A file answer is read by the server as the socket drains.
Files are named by the SHA-256 of their bytes (one file however many readers), and one not used for
Tuning.spool_keep_seconds is deleted when the next is written: the server opens a file as soon as it starts the answer,
so a file older than that is in use by nobody still waiting for it to open.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
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
    _forget_old(folder, keep_seconds)
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
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return SpooledFile(path)


def _forget_old(folder: Path, keep_seconds: float) -> None:
    cutoff = time.time() - keep_seconds
    for entry in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
