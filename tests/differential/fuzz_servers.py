"""Serve a batch of fuzz cases with pactmock and with `pact stub`, once each, and put every probe to both.

Each case is its own pact file. pactmock (`pactmock serve --workers 1`, a fresh SQLite file) serves them all
from one folder; `pact stub -d` serves them a shard at a time (its cost per request grows with the pacts it
holds). Every probe goes to both, over one keep-alive connection per server, on free loopback ports. A probe pactmock does not answer within PROBE_TIMEOUT_S (a regex
backtracking, say) is recorded as "no answer" and pactmock is restarted, so one stuck worker costs one probe.
Probes carrying adversarial regex values go to pactmock last, after every other probe has been judged.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.differential.fuzz_values import Case, Probe
from tests.integration.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
PACT_BIN = Path(sys.executable).parent / "pact"
PROBE_TIMEOUT_S = 5.0
START_TIMEOUT_S = 60.0
MAX_RESTARTS = 30
# `pact stub` looks at every interaction it serves for each request (about 25 ms each at 1,000 pacts): it serves
# the cases SHARD at a time, one process after another.
SHARD = 50


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer within PROBE_TIMEOUT_S, or the connection failed
    body: bytes = b""

    @property
    def verdict(self) -> str:
        if self.status is None:
            return "no answer"
        if 200 <= self.status < 300:
            return "served"
        return "refused" if 400 <= self.status < 500 else f"status {self.status}"

    def problem(self) -> dict[str, Any]:
        """pactmock's problem+json, or {} when the answer is not one."""
        try:
            document = json.loads(self.body)
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    pactmock: Answer
    reference: Answer

    @property
    def agrees(self) -> bool:
        return self.pactmock.verdict == self.reference.verdict


class Server:
    """One server process on a free port, restartable, with its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path, health: str) -> None:
        self.name, self.command, self.env, self.log_path, self.health = name, command, env, log_path, health
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.connection: http.client.HTTPConnection | None = None

    def start(self) -> None:
        self.port = free_port()
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        env = {key: value.replace("{port}", str(self.port)) for key, value in self.env.items()}
        with self.log_path.open("ab") as log:
            # A session of its own: a restart kills the server and its workers by process group.
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            if self.ask("GET", self.health, (), b"").status is not None:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def ask(self, method: str, target: str, headers: tuple[tuple[str, str], ...], body: bytes) -> Answer:
        for _attempt in range(2):  # a keep-alive connection the server closed is reopened once
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=PROBE_TIMEOUT_S)
            try:
                self.connection.putrequest(method, target, skip_accept_encoding=True)
                for name, value in headers:
                    self.connection.putheader(name, value)
                self.connection.putheader("Content-Length", str(len(body)))
                self.connection.endheaders(body)
                response = self.connection.getresponse()
                return Answer(response.status, response.read())
            except TimeoutError:
                self.connection.close()
                self.connection = None
                return Answer(None)
            except (ConnectionError, http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
        return Answer(None)


def _pactmock(pact_dir: Path, work: Path) -> Server:
    env = {**os.environ, "PACT_DIR": str(pact_dir), "FLASK_HOST": "127.0.0.1"}
    env["DATABASE_URL"] = f"sqlite:///{work / 'pactmock.sqlite3'}"
    command = [sys.executable, "-m", "app.cli", "serve", "--workers", "1", "--port", "{port}"]
    return Server("pactmock", command, env, work / "pactmock.log", "/health")


def _reference(pact_dir: Path, work: Path) -> Server:
    command = [str(PACT_BIN), "stub", "-d", str(pact_dir), "-p", "{port}", "--loglevel", "error"]
    return Server("pact stub", command, dict(os.environ), work / "stub.log", "/")


def write_pacts(cases: list[Case], work: Path) -> Path:
    """One pact file per case, in one folder per shard of SHARD cases; returns the folder holding them all."""
    pact_dir = work / "pacts"
    for index, case in enumerate(cases):
        shard = pact_dir / f"shard-{index // SHARD:03d}"
        shard.mkdir(parents=True, exist_ok=True)
        (shard / f"case-{case.number:05d}.json").write_text(json.dumps(case.pact, indent=1))
    return pact_dir


def judge(cases: list[Case], work: Path) -> list[Outcome]:
    """Every probe of every case put to pactmock (all cases at once) and to the reference (shard by shard), the
    two at the same time; pactmock's adversarial probes go last."""
    pact_dir = write_pacts(cases, work)
    mine: dict[int, Answer] = {}
    pactmock_thread = threading.Thread(target=_ask_pactmock, args=(cases, pact_dir, work, mine))
    pactmock_thread.start()
    theirs: dict[int, Answer] = {}
    try:
        for first in range(0, len(cases), SHARD):
            shard = cases[first : first + SHARD]
            reference = _reference(pact_dir / f"shard-{first // SHARD:03d}", work)
            reference.start()
            try:
                for probe in (probe for case in shard for probe in case.probes):
                    theirs[id(probe)] = reference.ask(probe.method, probe.target, probe.headers, probe.body)
            finally:
                reference.stop()
    finally:
        pactmock_thread.join()
    failed = mine.get(-1)
    if failed is not None:
        raise RuntimeError(failed.body.decode())
    return [Outcome(probe, mine[id(probe)], theirs[id(probe)]) for case in cases for probe in case.probes]


def _ask_pactmock(cases: list[Case], pact_dir: Path, work: Path, answers: dict[int, Answer]) -> None:
    probes = sorted((probe for case in cases for probe in case.probes), key=lambda p: p.kind.endswith(": adversarial"))
    restarts = 0
    pactmock = _pactmock(pact_dir, work)
    try:
        pactmock.start()
        for probe in probes:
            if restarts > MAX_RESTARTS:
                answers[id(probe)] = Answer(None, b"not asked: pactmock was restarted too often")
                continue
            answer = pactmock.ask(probe.method, probe.target, probe.headers, probe.body)
            answers[id(probe)] = answer
            if answer.status is None:
                restarts += 1
                pactmock.restart()
    except Exception as exc:  # reported by judge() in the test's thread
        answers[-1] = Answer(None, repr(exc).encode())
    finally:
        pactmock.stop()
