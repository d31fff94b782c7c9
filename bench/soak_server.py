"""The soak's server side: the mock as users start it, its database, the cuttable proxy, and its memory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compare import create_database, drop_database, free_port, process_tree

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


class SetupFailed(Exception):
    """The soak could not start: the mock, its database or the proxy."""


def pactmock_bin() -> str:
    beside = Path(sys.executable).parent / "pactmock"
    if not beside.exists():
        raise SetupFailed(f"no pactmock console script beside {sys.executable}: pip install -e . first")
    return str(beside)


def server_env(database_url: str, pact_dir: Path = ROOT / "pacts") -> dict[str, str]:
    """This environment without the mock's own knobs (so the soak runs the defaults), plus the database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTMOCK_", "FLASK_", "DATABASE_"))}
    env.update(PACT_DIR=str(pact_dir), DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    return env


def snapshot_pacts(work: Path, attempts: int = 20) -> Path:
    """A copy of the repository's pacts that nothing rewrites during the soak (the consumer tests write pacts/);
    every file in it must be whole JSON."""
    target = work / "pacts"
    for _ in range(attempts):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "pacts", target)
        try:
            for pact in target.glob("*.json"):
                json.loads(pact.read_text(encoding="utf-8"))
            return target
        except ValueError:
            time.sleep(0.5)  # caught while being rewritten: copy again
    raise SetupFailed(f"{ROOT / 'pacts'} keeps holding a file that is not valid JSON")


@dataclass
class Mock:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    command: list[str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_mock(database_url: str, work: Path, pact_dir: Path, timeout_s: float = 60) -> Mock:
    """``pactmock serve --host 127.0.0.1 --port P`` with the CLI's defaults, answering /health 200 and serving
    every contract in ``pact_dir``."""
    port = free_port()
    command = [pactmock_bin(), "serve", "--host", HOST, "--port", str(port)]
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        # Its own session: stopping it reaches every worker process, whatever the server spawns.
        process = subprocess.Popen(
            command,
            env=server_env(database_url, pact_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    mock = Mock(f"http://{HOST}:{port}", port, process, log_path, command)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupFailed(f"pactmock serve exited with {process.returncode}:\n{mock.log()[-3000:]}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(mock.url + "/health", timeout=5) as answer,
        ):
            if answer.status == 200:
                _check_contracts(mock)
                return mock
        time.sleep(0.2)
    stop_mock(mock)
    raise SetupFailed(f"pactmock serve did not answer /health 200 within {timeout_s:.0f} s:\n{mock.log()[-3000:]}")


def _check_contracts(mock: Mock) -> None:
    with urllib.request.urlopen(mock.url + "/", timeout=10) as answer:
        index = json.loads(answer.read())
    if not index.get("contracts") or index.get("problems"):
        stop_mock(mock)
        raise SetupFailed(f"the mock serves {len(index.get('contracts') or [])} contracts: {index.get('problems')}")


def stop_mock(mock: Mock, grace_s: float = 20) -> int | None:
    """SIGTERM (a graceful stop), SIGKILL to whatever is left after ``grace_s``; the exit code if it stopped."""
    if mock.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            mock.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            mock.process.wait(grace_s)
    code = mock.process.poll()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(mock.process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        mock.process.wait(5)
    return code


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of these processes (their threads included), from /proc/PID/stat."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name may hold spaces: the fields start after its closing parenthesis.
            fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


def rss_by_process(root: int) -> dict[int, int]:
    """VmRSS in bytes of ``root`` and each of its descendants (Linux /proc)."""
    found: dict[int, int] = {}
    for pid in process_tree(root):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace").splitlines():
                if line.startswith("VmRSS:"):
                    found[pid] = int(line.split()[1]) * 1024
                    break
    return found


# --- databases ----------------------------------------------------------------------------------------------


def default_postgres_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


def migrate(database_url: str) -> None:
    done = subprocess.run(
        [pactmock_bin(), "db", "upgrade"],
        env=server_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SetupFailed(f"pactmock db upgrade failed: {(done.stderr or done.stdout).strip()[-500:]}")


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new database on ``server_url``, at head (``pactmock db upgrade``); dropped afterwards."""
    try:
        name, url = create_database(server_url)
    except Exception as exc:  # the driver's errors vary; any of them means no PostgreSQL for the soak
        raise SetupFailed(f"cannot create a database on {server_url}: {str(exc).strip().splitlines()[0]}") from exc
    try:
        migrate(url)
        yield url
    finally:
        drop_database(server_url, name)


class ProxyProcess:
    """bench.soak_proxy as a child process between the mock and PostgreSQL."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.soak_proxy", "--upstream", f"{upstream_host}:{upstream_port}"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        first = self._line()
        if not first.startswith("listening "):
            self.close()
            raise SetupFailed(f"the database proxy did not start: {first!r}")
        self.port = int(first.split()[1])

    def _line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def _command(self, word: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(word + "\n")
        self.process.stdin.flush()
        return self._line()

    def cut(self) -> int:
        """Reset every connection to PostgreSQL and refuse new ones; the number of connections reset."""
        return int(self._command("cut").split()[1])

    def restore(self) -> None:
        self._command("restore")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def through_proxy(database_url: str, proxy: ProxyProcess) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(host=HOST, port=proxy.port).render_as_string(hide_password=False)


def upstream_of(database_url: str) -> tuple[str, int]:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    return url.host or "127.0.0.1", url.port or 5432


def stored(database_url: str) -> dict[str, Any]:
    """What the database holds, read directly (never through the mock or the proxy): jobs {id: created},
    runs {id: (job id, created)}, uploads {(job id, key): sha256}."""
    from sqlalchemy import create_engine, text

    from app.settings import database_url as with_driver

    engine = create_engine(with_driver(database_url))
    try:
        with engine.connect() as connection:
            jobs = {row.id: row.created_ts for row in connection.execute(text("SELECT id, created_ts FROM jobs"))}
            runs = {
                row.id: (row.job_id, row.created_ts)
                for row in connection.execute(text("SELECT id, job_id, created_ts FROM runs"))
            }
            uploads = {
                (row.job_id, row.key): row.sha256
                for row in connection.execute(text("SELECT job_id, key, sha256 FROM uploads"))
            }
    finally:
        engine.dispose()
    return {"jobs": jobs, "runs": runs, "uploads": uploads}
