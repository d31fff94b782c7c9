"""Progress of long command-line work: a bar on a terminal, a plain line per tenth otherwise.

`pactmock seed`, `verify`, `state export` and `state import`, and `openapi` and `contracts` over large pact
folders use it. A person at a terminal sees a live bar (rich); a log or CI job sees one line each time another
tenth is done, so a redirected run neither fills its log with redraws nor stays silent for minutes.
Progress goes to stderr: what a command prints on stdout (a document, a report) stays clean.

    with progress("seeded", total=1_000_000, unit="jobs") as advance:  # "seeded 100,000 of 1,000,000 jobs (10%)"
        for chunk in chunks:
            write(chunk)
            advance(len(chunk))
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

BYTES = "bytes"


class Advance:
    """Moves one piece of work on: `advance(n)` adds n done, `advance.to(done)` says how many are done."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    def __call__(self, step: int = 1) -> None:
        self.to(self.done + step)

    def to(self, done: int) -> None:
        """`done` of the total are done (never more than the total, never fewer than before)."""
        done = min(max(done, self.done), self.total)
        if done != self.done:
            self.done = done
            self.show(done)

    def show(self, done: int) -> None:
        """Draw or print the new count; nothing by default (no total to measure against)."""


@contextmanager
def progress(label: str, total: int, *, unit: str = "", stream: TextIO | None = None) -> Iterator[Advance]:
    """Report progress of `total` pieces of work (`unit` names them; BYTES shows sizes) on `stream` (stderr).

    A terminal gets a rich bar, anything else a line per tenth done; with nothing to do, nothing is shown.
    """
    out = stream if stream is not None else sys.stderr
    if total <= 0:
        yield Advance(0)
    elif _is_terminal(out):
        with _bar(label, total, unit, out) as advance:
            yield advance
    else:
        yield _Tenths(label, total, unit, out)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # not a real file, or closed
        return False


def amount(count: int, unit: str) -> str:
    """`count` with its unit as a person reads it: 1,234 items, or 5.1 MB for BYTES."""
    if unit == BYTES:
        size = float(count)
        for prefix in ("B", "kB", "MB", "GB"):
            if size < 1000 or prefix == "GB":
                return f"{size:.0f} {prefix}" if prefix == "B" else f"{size:.1f} {prefix}"
            size /= 1000
    return f"{count:,} {unit}".rstrip()


class _Tenths(Advance):
    """A line each time the work passes another tenth (one line however many tenths one step passes)."""

    def __init__(self, label: str, total: int, unit: str, stream: TextIO) -> None:
        super().__init__(total)
        self.label, self.unit, self.stream = label, unit, stream
        self.tenths_shown = 0

    def show(self, done: int) -> None:
        tenths = done * 10 // self.total
        if tenths > self.tenths_shown:
            self.tenths_shown = tenths
            done_text = amount(done, self.unit) if self.unit == BYTES else f"{done:,}"
            of = f"{done_text} of {amount(self.total, self.unit)}"
            print(f"{self.label} {of} ({done * 100 // self.total}%)", file=self.stream, flush=True)


class _Drawn(Advance):
    """Each new count handed to the bar, which redraws itself a few times a second."""

    def __init__(self, total: int, update: Callable[[int], None]) -> None:
        super().__init__(total)
        self.update = update

    def show(self, done: int) -> None:
        self.update(done)


@contextmanager
def _bar(label: str, total: int, unit: str, stream: TextIO) -> Iterator[Advance]:
    # Imported here: the server and the other commands never pay for rich.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    counted = DownloadColumn() if unit == BYTES else MofNCompleteColumn()
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), counted)
    timing = (TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, *timing, console=Console(file=stream), transient=False) as bar:
        task = bar.add_task(label, total=total)
        drawn = _Drawn(total, lambda done: bar.update(task, completed=done))
        yield drawn
