"""The journal's slot files (app/web/journal_slots.py): what a reader finds after each append."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from app.web.journal_slots import RECORD_ALLOWANCE, SlotWriter, disk_bytes, read_slot


def _line(n: int, pad: int = 0) -> bytes:
    return json.dumps({"id": n, "pad": "x" * pad}).encode() + b"\n"


def _ids(path: Path) -> list[int]:
    return [json.loads(line)["id"] for line in read_slot(path).splitlines()]


def test_a_record_is_read_back_as_soon_as_it_is_appended(tmp_path: Path) -> None:
    writer = SlotWriter(tmp_path, 7, records=10)
    for n in range(3):
        writer.append(_line(n))
        assert _ids(writer.paths[0]) == list(range(n + 1))
    assert _ids(writer.paths[1]) == []


def test_a_full_slot_hands_over_and_the_newest_n_are_always_kept(tmp_path: Path) -> None:
    writer = SlotWriter(tmp_path, 7, records=4)
    for n in range(9):
        writer.append(_line(n))
    # Slot 0 was begun again for the ninth record: the newest four are in slot 1, the ninth in slot 0.
    assert _ids(writer.paths[1]) == [4, 5, 6, 7]
    assert _ids(writer.paths[0]) == [8]


def test_records_larger_than_the_slot_make_it_grow(tmp_path: Path) -> None:
    writer = SlotWriter(tmp_path, 7, records=2)
    big = _line(1, pad=5 * RECORD_ALLOWANCE)
    writer.append(_line(0))
    writer.append(big)
    assert read_slot(writer.paths[0]) == _line(0) + big


def test_a_slot_taken_over_after_a_failure_starts_empty(tmp_path: Path) -> None:
    writer = SlotWriter(tmp_path, 7, records=5)
    writer.append(_line(0))
    writer.drop()  # what the journal does when a record could not be written
    writer.append(_line(1))
    assert _ids(writer.paths[0]) == [0] and _ids(writer.paths[1]) == [1]


def test_what_is_not_a_slot_reads_as_no_records(tmp_path: Path) -> None:
    stray = tmp_path / "1.0.journal"
    stray.write_bytes(b'{"id": 1}\n')
    assert read_slot(stray) == b""
    assert read_slot(tmp_path / "gone.journal") == b""


def test_where_space_cannot_be_reserved_at_once_it_is_written_and_records_still_land(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "posix_fallocate", refused)  # as some file systems answer
    writer = SlotWriter(tmp_path, 7, records=3)
    for n in range(3):
        writer.append(_line(n, pad=3 * RECORD_ALLOWANCE))
    assert _ids(writer.paths[0]) == [0, 1, 2]
    assert disk_bytes(writer.paths[0]) >= 9 * RECORD_ALLOWANCE  # the blocks are the file's, not a hole
