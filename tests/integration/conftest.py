"""Start the real server (`pactmock serve`, gunicorn) as a subprocess on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningMock:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_mock(pact_dir: Path, tmp_path: Path, **env: str) -> RunningMock:
    port = free_port()
    log_path = tmp_path / f"mock-{port}.log"
    environment = {**os.environ, "PACT_DIR": str(pact_dir), "FLASK_HOST": "127.0.0.1", "FLASK_PORT": str(port), **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    mock = RunningMock(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pactmock serve exited with {process.returncode}:\n{mock.log()}")
        try:
            if requests.get(mock.url + "/health", timeout=1).status_code == 200:
                return mock
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"pactmock serve did not answer /health within 20 s:\n{mock.log()}")


def stop_mock(mock: RunningMock) -> None:
    mock.process.terminate()
    try:
        mock.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        mock.process.kill()
        mock.process.wait()


@pytest.fixture
def run_mock(tmp_path: Path) -> Iterator[object]:
    started: list[RunningMock] = []

    def run(pact_dir: Path, **env: str) -> RunningMock:
        mock = start_mock(pact_dir, tmp_path, **env)
        started.append(mock)
        return mock

    yield run
    for mock in started:
        stop_mock(mock)
