"""Long command-line work shows progress (issue 19, item 4): a rich bar on a terminal, a line per tenth in a pipe.

Each command runs twice as a user runs it: once with stderr on a pseudo-terminal (as in a terminal window),
once with stderr piped (as in CI or a log). Both exit 0 and give the same result; only the progress differs.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import threading
from dataclasses import dataclass
from pathlib import Path

from app.cli import PROGRESS_FROM_BYTES
from tests.support.synthetic import write_pact

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "examples" / "flow"
BAR = "━"  # what rich draws its bar with
SEED_LINE = re.compile(r"^seeded 20000 items of tasks in [0-9.]+ s \([0-9,]+ rows/s\)$")


@dataclass
class Run:
    """What a command did: its exit status, its stdout, and what it wrote on stderr."""

    returncode: int
    stdout: str
    stderr: str


def pactmock(*args: str, terminal: bool, env: dict[str, str] | None = None) -> Run:
    """`pactmock ARGS` with stdout piped and stderr on a pseudo-terminal (120 columns) or piped."""
    environment = {**os.environ, "TERM": "xterm-256color", **(env or {})}
    command = [sys.executable, "-m", "app.cli", *args]
    if not terminal:
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, cwd=ROOT)
        return Run(done.returncode, done.stdout, done.stderr)
    controller, terminal_end = pty.openpty()
    fcntl.ioctl(terminal_end, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=terminal_end, cwd=ROOT)
    os.close(terminal_end)
    shown: list[bytes] = []

    def read_terminal() -> None:
        # Read as it comes: a full terminal buffer would block the command.
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO once the command has closed its end
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        stdout, _ = process.communicate(timeout=300)
    finally:
        reader.join(10)
        os.close(controller)
    return Run(process.returncode, stdout.decode(), b"".join(shown).decode(errors="replace"))


def test_openapi_over_large_pacts_shows_a_bar_on_a_terminal_and_tenths_in_a_pipe(tmp_path: Path) -> None:
    pacts = [write_pact(tmp_path, 2_500), write_pact(tmp_path, 3_500)]
    assert sum(p.stat().st_size for p in pacts) > PROGRESS_FROM_BYTES, "large enough for progress to show"

    on_terminal = pactmock("openapi", "--pact-dir", str(tmp_path), terminal=True)
    piped = pactmock("openapi", "--pact-dir", str(tmp_path), terminal=False)

    assert on_terminal.returncode == 0, on_terminal.stderr
    assert piped.returncode == 0, piped.stderr
    assert on_terminal.stdout == piped.stdout, "progress must not change the document"
    assert on_terminal.stdout.startswith("{")
    assert BAR in on_terminal.stderr
    assert "read pact files" in on_terminal.stderr and "documented" in on_terminal.stderr
    assert "6000/6000" in on_terminal.stderr and "100%" in on_terminal.stderr
    lines = piped.stderr.strip().splitlines()
    assert BAR not in piped.stderr
    read = [line for line in lines if line.startswith("read pact files")]
    documented = [line for line in lines if line.startswith("documented")]
    assert read + documented == lines, "loading first, then the document; nothing else"
    # One file of two read, then both (the files are about 40% and 60% of the bytes).
    assert re.fullmatch(r"read pact files [0-9.]+ MB of [0-9.]+ MB \([3-5]\d%\)", read[0]), read
    assert re.fullmatch(r"read pact files [0-9.]+ MB of [0-9.]+ MB \(100%\)", read[1]), read
    assert all(re.fullmatch(r"documented [0-9,]+ of 6,000 interactions \(\d+%\)", line) for line in documented)
    assert 2 <= len(documented) <= 10 and documented[-1] == "documented 6,000 of 6,000 interactions (100%)"


def test_a_small_pact_folder_loads_without_progress(tmp_path: Path) -> None:
    piped = pactmock("openapi", "--pact-dir", str(FLOW), terminal=False)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""


def test_seed_shows_a_bar_on_a_terminal_and_tenths_in_a_pipe(tmp_path: Path) -> None:
    results = {}
    for terminal in (True, False):
        folder = tmp_path / f"terminal-{terminal}"
        shutil.copytree(FLOW, folder / "pacts")
        database = {"DATABASE_URL": f"sqlite:///{folder / 'pactmock.sqlite3'}"}
        arguments = (
            "seed",
            "Flow",
            "tasks",
            "20000",
            "--at",
            "2030-01-01T00:00:00Z",
            "--pact-dir",
            str(folder / "pacts"),
        )
        results[terminal] = pactmock(*arguments, terminal=terminal, env=database)
    on_terminal, piped = results[True], results[False]

    assert on_terminal.returncode == 0, on_terminal.stderr
    assert piped.returncode == 0, piped.stderr
    assert SEED_LINE.match(on_terminal.stdout.strip()), on_terminal.stdout
    assert SEED_LINE.match(piped.stdout.strip()), piped.stdout
    assert BAR in on_terminal.stderr and "20000/20000" in on_terminal.stderr
    assert BAR not in piped.stderr
    assert piped.stderr.strip().splitlines() == [f"seeded {n * 2_000:,} of 20,000 ({n * 10}%)" for n in range(1, 11)]
