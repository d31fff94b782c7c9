"""The reference for differential tests: `pact stub` (pact-stub-server) and the official Pact verifier.

The API, for the corpus test and the fuzzer alike:

* ``start_stub(pacts, log_dir)`` starts ``pact stub`` on a pact file (or a folder of them) on a free
  127.0.0.1 port and returns once it answers HTTP; ``stop_stub(stub)`` stops it. ``StubRefused`` is
  raised when the stub exits instead: the reference refuses the pact whole.
* ``verify_interactions(pact_file, url, states_url)`` runs the verifier (pact-python's ``Verifier``,
  as ``app/verify.py`` does) once and returns a verdict per interaction description.
* ``compare_with_reference(pact_file, work_dir)`` does both for pactmock and for the stub.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from app.contract.read.loader import load_pacts
from app.verify import verifier_for
from tests.support.mock_process import free_port, start_mock, stop_mock

# The verifier and the CLI send usage statistics unless told not to; tests use no network.
QUIET_ENV = {"PACT_DO_NOT_TRACK": "true"}
STUB_START_TIMEOUT_S = 20.0
REQUEST_TIMEOUT_MS = 5_000
HTTP_KIND = "Synchronous/HTTP"


class StubRefused(RuntimeError):
    """`pact stub` exited (or never answered) instead of serving the pact: the reference refuses it."""


def pact_binary() -> str:
    """The `pact` command of pact-python-cli: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).with_name("pact")
    found = str(beside) if beside.exists() else shutil.which("pact")
    if not found:
        raise FileNotFoundError("`pact` (pact-python-cli) is not installed: pip install -e '.[test]'")
    return found


@dataclass
class RunningStub:
    """A `pact stub` process: its base URL and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Everything the stub has printed so far."""
        return self.log_path.read_text(errors="replace")


def start_stub(pacts: Path, log_dir: Path, *, timeout_s: float = STUB_START_TIMEOUT_S) -> RunningStub:
    """`pact stub` serving one pact file (or every pact in a folder), answering HTTP on 127.0.0.1."""
    port = free_port()
    log_path = log_dir / f"stub-{port}.log"
    source = ["-d", str(pacts)] if pacts.is_dir() else ["-f", str(pacts)]
    command = [pact_binary(), "stub", *source, "-p", str(port), "--loglevel", "warn"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **QUIET_ENV})
    stub = RunningStub(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StubRefused(f"pact stub exited with {process.returncode}: {stub.log().strip()[-600:]}")
        try:
            # Any answer will do: a pact need not define the path asked for.
            requests.head(stub.url + "/", timeout=2)
            return stub
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05)
    stop_stub(stub)
    raise StubRefused(f"pact stub did not answer within {timeout_s:.0f} s: {stub.log().strip()[-600:]}")


def stop_stub(stub: RunningStub) -> None:
    """Stop the stub (SIGTERM, then SIGKILL if it lingers)."""
    stub.process.terminate()
    try:
        stub.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        stub.process.kill()
        stub.process.wait()


@contextmanager
def running_stub(pacts: Path, log_dir: Path) -> Iterator[RunningStub]:
    """`pact stub` on `pacts` for the length of a with block."""
    stub = start_stub(pacts, log_dir)
    try:
        yield stub
    finally:
        stop_stub(stub)


@dataclass(frozen=True)
class Verdict:
    """What the verifier said of one interaction (of all interactions sharing its description)."""

    passed: bool
    reason: str = ""


def http_descriptions(pact_file: Path) -> list[str]:
    """Descriptions of the HTTP interactions of a pact file, in file order, each once."""
    document = json.loads(pact_file.read_bytes())
    found: list[str] = []
    for interaction in document.get("interactions") or []:
        is_http = interaction.get("type", HTTP_KIND) == HTTP_KIND and "request" in interaction
        if is_http and interaction.get("description") not in found:
            found.append(str(interaction.get("description")))
    return found


def verify_interactions(
    pact_file: Path, url: str, states_url: str | None = None, timeout_ms: int = REQUEST_TIMEOUT_MS
) -> dict[str, Verdict]:
    """The verifier over one pact file against ``url``: a verdict per interaction description.

    Interactions sharing a description (told apart by provider state) pass only if all of them do.
    An interaction the verifier did not report is absent from the answer.
    """
    from pact import Verifier

    os.environ.update(QUIET_ENV)
    verifier = verifier_for(Verifier, pact_file, url, states_url, timeout_ms)
    try:
        with _console_silenced():
            verifier.verify()
    except RuntimeError:
        pass  # a failed interaction; the results say which
    verdicts: dict[str, Verdict] = {}
    for result in (verifier.results or {}).get("interactionResults") or []:
        description = str(result.get("description"))
        verdict = Verdict(True) if result.get("result") == "OK" else Verdict(False, _reason(result))
        earlier = verdicts.get(description)
        if earlier is not None and not (earlier.passed and verdict.passed):
            verdict = Verdict(False, "; ".join(r for r in (earlier.reason, verdict.reason) if r))
        verdicts[description] = verdict
    return verdicts


@contextmanager
def _console_silenced() -> Iterator[None]:
    """The verifier (native code) prints its report on file descriptor 1; its results carry the same."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _reason(result: dict[str, Any]) -> str:
    mismatch = result.get("mismatch") or {}
    details = [str(m.get("mismatch") or m) for m in mismatch.get("mismatches") or []]
    text = "; ".join(details) or str(mismatch.get("message") or result.get("error") or result.get("result"))
    return text if len(text) <= 400 else text[:400] + "…"


@dataclass
class Comparison:
    """One pact file served by pactmock and by the reference, each checked by the verifier."""

    pact_file: Path
    descriptions: list[str]
    pactmock: dict[str, Verdict] = field(default_factory=dict)
    reference: dict[str, Verdict] = field(default_factory=dict)
    refused_by_pactmock: str | None = None
    refused_by_reference: str | None = None

    def verified_by_reference(self) -> list[str]:
        """Interactions the verifier passes against the reference."""
        return [d for d in self.descriptions if self.reference.get(d, Verdict(False)).passed]

    def failed_by_pactmock(self) -> list[str]:
        """Interactions the reference verifies and pactmock does not."""
        return [d for d in self.verified_by_reference() if not self.pactmock.get(d, Verdict(False)).passed]


def compare_with_reference(pact_file: Path, work_dir: Path, seed: str = "1") -> Comparison:
    """Serve ``pact_file`` alone from pactmock (1 worker, fresh SQLite) and from `pact stub`, and verify both."""
    comparison = Comparison(pact_file, http_descriptions(pact_file))
    loaded = load_pacts(pact_file)
    if loaded.problems and not loaded.contracts:
        comparison.refused_by_pactmock = "; ".join(str(p.reason) for p in loaded.problems)
    try:
        with running_stub(pact_file, work_dir) as stub:
            # The stub sets up no state: with several interactions told apart by state, it picks one.
            comparison.reference = verify_interactions(pact_file, stub.url)
    except StubRefused as refused:
        comparison.refused_by_reference = str(refused)
    try:
        mock = start_mock(pact_file, work_dir, "--workers", "1", PACTMOCK_SEED=seed, **QUIET_ENV)
    except RuntimeError as exited:
        comparison.refused_by_pactmock = comparison.refused_by_pactmock or str(exited)[-600:]
        return comparison
    try:
        comparison.pactmock = verify_interactions(pact_file, mock.url, mock.url + "/_mock/provider-states")
    finally:
        stop_mock(mock)
    return comparison


def missing_reason(comparison: Comparison, description: str) -> str:
    """Why pactmock did not verify an interaction, in the verifier's words."""
    if comparison.refused_by_pactmock:
        return f"pactmock refuses the file: {comparison.refused_by_pactmock}"
    verdict = comparison.pactmock.get(description)
    return verdict.reason if verdict else "the verifier reported nothing for it against pactmock"
