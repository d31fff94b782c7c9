"""One worker's journal files: two slots, each a file the worker maps into memory and appends records to.

A record used to be one `os.write` per request, and every N records the previous file was removed and a new one
created. On ext4 here that was about 2.7 µs a write and 3 ms a rotation (3.2 µs a record), together about a
seventh of a replayed answer's time in process, and each rotation held up the event loop. Now a record is copied into a
shared mapping of its file: no system call per record, and other workers reading the file see it at once (the
mapping is the page cache they read). A full slot hands over to the other one by setting its length to zero,
not by removing a file.

A slot file is a 16-byte header (``PMJ1``, 4 unused bytes, then the length of the records after the header as
an unsigned little-endian 64-bit number) followed by the records, one JSON line each; past the length are older
records or zeros. The length is written after the record it counts, so a reader that takes the length and then
that many bytes gets whole records. The one exception is a slot begun again while it is read: a line may then be
torn, fails to parse, and is skipped.

Space is reserved before it is mapped. Writing into a mapped hole of a file on a full disk kills the process
(SIGBUS); reserving fails with an OSError instead, and the record is lost, never the answer.
"""

from __future__ import annotations

import errno
import mmap
import os
import struct
from pathlib import Path

HEADER = struct.Struct("<4s4xQ")
MAGIC = b"PMJ1"
SUFFIX = ".journal"
# What a record is expected to take, to size a slot at first; a slot grows when its records need more.
RECORD_ALLOWANCE = 1024
FIRST_RECORDS_ALLOWED = 4096
_ZEROS = bytes(64 * 1024)
_NOT_SUPPORTED = (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS)


class SlotWriter:
    """The writing side of one worker's two slots; the caller holds a lock around it (the journal's)."""

    def __init__(self, directory: Path, pid: int, records: int) -> None:
        self.directory = directory
        self.paths = (directory / f"{pid}.0{SUFFIX}", directory / f"{pid}.1{SUFFIX}")
        self.records = records
        self.turn = 1  # the slot in use; the first append begins slot 0
        self.map: mmap.mmap | None = None
        self.fd = -1
        self.capacity = 0
        self.used = 0
        self.count = 0

    def append(self, line: bytes) -> None:
        """Add one record (a JSON line); OSError when the disk or the directory fails (`drop` then starts over)."""
        if self.map is None or self.count >= self.records:
            self._begin(1 - self.turn)
        assert self.map is not None
        start = HEADER.size + self.used
        end = start + len(line)
        if end > self.capacity:
            self._reserve(max(2 * self.capacity, end))
        self.map[start:end] = line
        self.used += len(line)
        HEADER.pack_into(self.map, 0, MAGIC, self.used)
        self.count += 1

    def drop(self) -> None:
        """Let go of the slot in use; the next record begins the other one."""
        if self.map is not None:
            self.map.close()
            self.map = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _begin(self, turn: int) -> None:
        self.drop()
        self.turn = turn
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)  # a tidy-up elsewhere may have removed it
        self.fd = os.open(self.paths[turn], os.O_RDWR | os.O_CREAT, 0o600)
        self.capacity = 0
        first = HEADER.size + min(self.records, FIRST_RECORDS_ALLOWED) * RECORD_ALLOWANCE
        self._reserve(max(os.fstat(self.fd).st_size, first))
        assert self.map is not None
        self.used = self.count = 0
        HEADER.pack_into(self.map, 0, MAGIC, 0)

    def _reserve(self, capacity: int) -> None:
        """Make the slot file `capacity` bytes, every one of them given disk space, and map it whole."""
        try:
            os.posix_fallocate(self.fd, 0, capacity)
        except (AttributeError, OSError) as error:
            # macOS has no posix_fallocate, and some file systems refuse it: writing zeros gives the blocks too.
            if isinstance(error, OSError) and error.errno not in _NOT_SUPPORTED:
                raise
            for offset in range(self.capacity, capacity, len(_ZEROS)):
                os.pwrite(self.fd, _ZEROS[: capacity - offset], offset)
        if self.map is not None:
            self.map.close()
        self.map = mmap.mmap(self.fd, capacity)
        self.capacity = capacity


def read_slot(path: Path) -> bytes:
    """The records a slot file holds now (JSON lines); empty when it is gone or not a slot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        head = os.pread(fd, HEADER.size, 0)
        if len(head) < HEADER.size:
            return b""
        magic, used = HEADER.unpack(head)
        return os.pread(fd, used, HEADER.size) if magic == MAGIC else b""
    finally:
        os.close(fd)


def disk_bytes(path: Path) -> int:
    """The disk a file takes (its blocks), 0 once it is gone."""
    try:
        return os.stat(path).st_blocks * 512
    except OSError:
        return 0
