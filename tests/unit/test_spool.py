"""Spooled answers (app/web/spool.py): files not used for the kept time are deleted as new ones are written, by
the process that wrote them, without listing the folder each time; files an earlier server left go too."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from app.domain.errors import Changed
from app.web import spool


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(spool, "spool_dir", lambda: tmp_path)
    monkeypatch.setattr(spool, "_written", spool.WrittenFiles())
    return tmp_path


def write(data: bytes, keep_seconds: float = 600) -> Path:
    return spool.spooled(hashlib.sha256(data).hexdigest(), lambda: iter([data]), keep_seconds).path


def backdate_notes(seconds: float) -> None:
    """Move this process's notes of what it wrote `seconds` into the past."""
    notes = spool._written._files
    for _ in range(len(notes)):
        _, name = notes.popleft()
        notes.append((int(time.time() - seconds), name))


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_file_is_written_once_and_read_back_whole(folder: Path) -> None:
    first = write(b"x" * 300_000)
    assert write(b"x" * 300_000) == first
    assert b"".join(spool.SpooledFile(first)) == b"x" * 300_000
    assert sorted(path.name for path in folder.iterdir()) == [first.name]


def test_files_unused_for_the_kept_time_go_when_the_next_is_written(folder: Path) -> None:
    old, recent = write(b"old"), write(b"recent")
    age(old, 700)
    backdate_notes(700)  # as if the process had written them 700 s ago
    age(recent, 10)
    newest = write(b"newest")
    assert sorted(folder.iterdir()) == sorted([recent, newest])


def test_a_file_read_again_is_kept_and_looked_at_again_later(folder: Path) -> None:
    reused = write(b"reused")
    backdate_notes(700)
    assert write(b"reused") == reused  # read again now: its time is refreshed
    write(b"other")
    assert reused.exists()
    age(reused, 700)
    backdate_notes(700)
    write(b"third")
    assert not reused.exists()


def test_files_an_earlier_server_left_go_with_the_first_write(folder: Path) -> None:
    left = folder / ("0" * 64)
    left.write_bytes(b"left behind")
    unfinished = folder / ".writing-abc"
    unfinished.write_bytes(b"half")
    age(left, 700)
    age(unfinished, 700)
    fresh = folder / ("1" * 64)
    fresh.write_bytes(b"fresh")
    written = write(b"new")
    assert sorted(folder.iterdir()) == sorted([fresh, written])


def test_bytes_that_do_not_match_their_digest_are_refused_and_not_kept(folder: Path) -> None:
    with pytest.raises(Changed):
        spool.spooled("0" * 64, lambda: iter([b"not these bytes"]), 600)
    assert list(folder.iterdir()) == []
