"""Run the real server (`python -m app.cli serve`, granian) as a subprocess on a free 127.0.0.1 port.

Shared by the integration tests, the differential reference and the benches: each starts pactmock the
way a user does, with its settings in the environment, and waits for /health before using it.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

# Generous: on a busy two-core machine granian's workers take seconds to import the app.
HEALTH_DEADLINE_SECONDS = 30.0
STOP_GRACE_SECONDS = 15.0


# Under pytest-xdist each worker takes its ports from its own block below the kernel's ephemeral range
# (32768 and up), so two workers never pick the same port between one's probe and its server's bind.
XDIST_FIRST_PORT = 20000
XDIST_BLOCK = 1500


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        first = XDIST_FIRST_PORT + int(worker[2:]) * XDIST_BLOCK
        for port in random.sample(range(first, first + XDIST_BLOCK), XDIST_BLOCK):
            if _free(port):
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class RunningMock:
    """A pactmock server process: its base URL and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Everything the server has printed so far."""
        return self.log_path.read_text(errors="replace")


def start_mock(pact_dir: Path, tmp_path: Path, *args: str, **env: str) -> RunningMock:
    """`python -m app.cli serve ARGS` on a free port, answering /health, with its output in a log file.

    The server gets its own SQLite file under `tmp_path` unless `env` names a DATABASE_URL.
    """
    port = free_port()
    log_path = tmp_path / f"mock-{port}.log"
    environment = {
        **os.environ,
        "PACT_DIR": str(pact_dir),
        "FLASK_HOST": "127.0.0.1",
        "FLASK_PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pactmock.sqlite3'}",
        **env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", *args], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    mock = RunningMock(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + HEALTH_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pactmock serve exited with {process.returncode}:\n{mock.log()}")
        try:
            if requests.get(mock.url + "/health", timeout=5).status_code == 200:
                return mock
        # The server accepts before its workers are up: on a busy machine the first probe may time out.
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"pactmock serve did not answer /health within {HEALTH_DEADLINE_SECONDS:.0f} s:\n{mock.log()}")


def stop_mock(mock: RunningMock) -> None:
    """Ask the server to stop (SIGTERM); kill it if it has not gone within the grace period."""
    mock.process.terminate()
    try:
        mock.process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        mock.process.kill()
        mock.process.wait()
