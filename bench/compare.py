"""pactmock against `pact stub` (the Pact Foundation's pact-stub-server): throughput, latency, memory, start-up.

Run from the project root::

    python -m bench.compare                  # the full run: 10 s of load per server and scenario, 4-6 minutes
    python -m bench.compare --quick          # 100 interactions, 1 s runs: a CI smoke run of ~20 s
    python -m bench.compare --json PATH      # where the JSON goes [bench/out/compare.json]; the PNG goes beside it
    python -m bench.compare --only a --only b --sizes 100,1000 --duration 5
    python -m bench.compare --quiet-wait 300 # on a shared machine: wait for it to go idle before each server
    python -m bench.compare --profile DIR    # py-spy records pactmock during each load (collapsed stacks)
    python -m bench.compare --workers 2      # pactmock serve --workers 2 (default: the CLI's own defaults)

Each server runs as its own process, one after the other (never two at once), on a free loopback port:

* pactmock exactly as ``pactmock serve`` runs it (this virtualenv's console script, the CLI's own defaults for
  ``--workers`` and ``--threads`` unless ``--workers``/``--threads`` are given), with ``PACT_DIR`` and a fresh
  database (``DATABASE_URL``) per run;
* ``pact stub -p PORT -f FILE`` (pact-python-cli's ``pact`` binary) on the same pact file, at its default log
  level. Its RSS is watched: past ``--stub-rss-limit`` (4 GB) it is killed and the row says so; if it has not
  answered 200 within ``--stub-start-timeout`` seconds of starting, it is stopped. Sizes over
  ``--stub-max-interactions`` are not run on it at all.

Scenarios:

a. the Epistemix contract, a stub path: ``POST /jobs/register`` with the epx client's headers. pactmock binds its
   database handlers to the provider ``Epistemix``, so both servers get a copy of ``pacts/epx-epistemix.json``
   whose provider is renamed ``EpistemixStub``: interactions of a provider without handlers are answered from
   the contract, with no database work.
b. synthetic contracts (``tests.support.synthetic``) of 100, 1,000, 10,000 and 100,000 interactions, requesting the
   middle one (a literal-path POST with a JSON body and header rules).
c. the stateful ``POST /runs`` of provider ``Epistemix`` (``pacts/``), a database write per request, after the
   provider state ``job 123 exists`` is set up; on a fresh SQLite file and on a fresh PostgreSQL database
   (``--postgres-url`` names a server to create it on, migrated with ``pactmock db upgrade``). No stub equivalent:
   its ratio column is to scenario a's pactmock req/s.

Per run: start the server, send the scenario's request until it answers 200 (the time from process start to
that answer is "first 200"; for c the first answer of the provider-state call), check the request itself gets 200,
warm up with sequential requests, then ``bench.loadgen`` (wrk when installed, else its python engine; ``--engine``)
with 32 keep-alive connections for ``--duration`` seconds. Peak RSS is the sum over the server's process tree,
sampled every 0.1 s from start to the end of the load (pages a process shares with another, such as the
interpreter's, count once per process, so the sum overstates them somewhat). Targets are judged from the same run and printed as PASS/MISS; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.loadgen import ENGINES, resolve_engine, run_load
from tests.support import synthetic
from tests.support.epx import EPX_HEADERS, run_request

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
GB = 1024**3
MB = 1024**2
DEFAULT_JSON = ROOT / "bench" / "out" / "compare.json"
SIZES = (100, 1_000, 10_000, 100_000)
QUICK_SIZES = (100,)
SCENARIOS = ("a", "b", "c")
MOCK = "pactmock"
STUB = "pact stub"
STUB_PROVIDER = "EpistemixStub"
EPX_PACT = ROOT / "pacts" / "epx-epistemix.json"

# The epx client's headers and run request, as the tests send them (run from the project root).
REGISTER = synthetic.Probe("POST", "/jobs/register", EPX_HEADERS, b'{"tags": ["info_job"]}', "register an info job")
SUBMIT_RUN_BODY = {"runRequests": [run_request(123)]}
SUBMIT_RUN = synthetic.Probe("POST", "/runs", EPX_HEADERS, json.dumps(SUBMIT_RUN_BODY).encode(), "submit a run")
JOB_123_STATE = synthetic.Probe(
    "POST",
    "/_mock/provider-states",
    {"Content-Type": "application/json"},
    b'{"state": "job 123 exists", "action": "setup"}',
    "provider state: job 123 exists",
)

STUB_PATH_NOTE = (
    f"a. uses a copy of pacts/epx-epistemix.json with the provider renamed to {STUB_PROVIDER}: pactmock binds its "
    "database handlers to provider Epistemix, and interactions of a provider without handlers are answered from "
    "the contract (no database work). pact stub gets the same file."
)


# --- settings ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    quick: bool
    scenarios: tuple[str, ...]
    sizes: tuple[int, ...]
    duration_s: float
    warmup_s: float
    connections: int
    engine: str
    workers: int | None
    threads: int | None
    start_timeout_s: float
    stub_start_timeout_s: float
    stub_rss_limit_bytes: int
    stub_max_interactions: int
    postgres_url: str
    pact_bin: str | None
    pactmock_bin: str
    profile_dir: Path | None = None
    quiet_wait_s: float = 0.0


# --- results -----------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One server on one scenario."""

    scenario: str  # a, b-<interactions>, c-sqlite, c-postgres
    title: str
    interactions: int
    server: str  # MOCK or STUB
    status: str = "ok"  # ok | not run | failed | killed
    reason: str | None = None
    requests: int | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx: int | None = None
    errors: int | None = None
    engine: str | None = None
    duration_s: float | None = None
    peak_rss_bytes: int | None = None
    killed_at_bytes: int | None = None
    first_200_s: float | None = None
    server_header: str | None = None
    ratio: float | None = None  # pactmock / pact stub req/s (a, b); this row's req/s / a's pactmock req/s (c)
    ratio_to: str | None = None  # "stub" or "a"
    notes: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    target: str
    measured: str
    verdict: str  # PASS | MISS | n/a


# --- processes ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def process_tree(root: int) -> list[int]:
    """``root`` and every descendant, from /proc (Linux)."""
    found = [root]
    index = 0
    while index < len(found):
        pid = found[index]
        index += 1
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as children:
                    found.extend(int(child) for child in children.read().split())
            except (OSError, ValueError):
                continue
    return found


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_rss_bytes(root: int) -> int | None:
    """Resident memory summed over the process tree, or None where /proc cannot tell."""
    total = 0
    seen = False
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
                total += int(statm.read().split()[1]) * _PAGE
                seen = True
        except (OSError, ValueError, IndexError):
            continue
    return total if seen else None


def tree_pss_bytes(root: int) -> int | None:
    """Proportional set size summed over the process tree: a page shared by k processes counts 1/k in each, so a
    forked worker's pages shared with its parent are counted once, not once per process as summed RSS counts them.
    None where /proc cannot tell (smaps_rollup: Linux 4.14 and newer)."""
    total = 0
    seen = False
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        seen = True
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total if seen else None


class RssWatch(threading.Thread):
    """Samples the tree's RSS; past ``limit`` (if any) kills the process group and records the size it reached.
    Every ``PSS_EVERY``-th sample also reads the tree's PSS (the kernel walks every mapping for it, too dear to do
    ten times a second beside a load)."""

    PSS_EVERY = 5

    def __init__(self, process: subprocess.Popen[bytes], limit: int | None, interval_s: float = 0.1) -> None:
        super().__init__(daemon=True, name=f"rss-{process.pid}")
        self.process = process
        self.limit = limit
        self.interval_s = interval_s
        self.peak: int | None = None
        self.peak_pss: int | None = None
        self.killed_at: int | None = None
        self._done = threading.Event()

    def run(self) -> None:
        samples = 0
        while not self._done.is_set() and self.process.poll() is None:
            if samples % self.PSS_EVERY == 0:
                pss = tree_pss_bytes(self.process.pid)
                if pss is not None:
                    self.peak_pss = pss if self.peak_pss is None else max(self.peak_pss, pss)
            samples += 1
            rss = tree_rss_bytes(self.process.pid)
            if rss is not None:
                self.peak = rss if self.peak is None else max(self.peak, rss)
                if self.limit is not None and rss > self.limit:
                    self.killed_at = rss
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    return
            self._done.wait(self.interval_s)

    def stop(self) -> None:
        self._done.set()
        self.join(5)


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent not idle since boot (/proc/stat), or None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait_s: float, threshold_cores: float = 0.15) -> tuple[float, bool]:
    """Wait (up to ``max_wait_s``) until the machine has been nearly idle for a second: (seconds waited, quiet)."""
    started = time.monotonic()
    while True:
        before = busy_seconds()
        time.sleep(1.0)
        after = busy_seconds()
        if before is None or after is None:
            return 0.0, False
        if after - before < threshold_cores:
            return time.monotonic() - started - 1.0, True
        if time.monotonic() - started >= max_wait_s:
            return time.monotonic() - started, False


def stop_server(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """SIGINT to the server's process group, SIGKILL if it is still there after ``grace_s``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # any worker left behind
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def send(port: int, probe: synthetic.Probe, timeout_s: float) -> tuple[int, bytes, str | None]:
    """One request on a new connection: status, body and Server header."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        connection.request(probe.method, probe.path, body=probe.body or None, headers=probe.headers)
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Server")
    finally:
        connection.close()


def _log_tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    tail = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in text.splitlines()[-lines:]]
    return " | ".join(line for line in tail if line)


def _gigabytes(size: int) -> str:
    return f"{size / GB:.1f} GB"


@dataclass
class Launch:
    server: str
    command: list[str]
    env: dict[str, str]
    log: Path
    start_timeout_s: float
    rss_limit: int | None
    ready: synthetic.Probe  # sent until it answers 200: the "first 200"
    probe: synthetic.Probe  # the load's request


class RunFailed(Exception):
    pass


def measure(launch: Launch, port: int, plan: Plan, row: Row) -> None:
    """Start the server, time its first 200, warm it up, load it; fill ``row``. The server is stopped after."""
    if plan.quiet_wait_s > 0:
        waited, quiet = wait_for_quiet(plan.quiet_wait_s)
        if not quiet:
            row.notes.append(f"the machine was still busy after waiting {waited:.0f} s for it to go quiet")
        elif waited >= 1:
            row.notes.append(f"waited {waited:.0f} s for the machine to go quiet")
    with launch.log.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            launch.command,
            cwd=launch.log.parent,
            env=launch.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    watch = RssWatch(process, launch.rss_limit)
    watch.start()
    try:
        _run(launch, port, plan, row, process, watch, started)
    except RunFailed as exc:
        row.status = "failed"
        row.reason = str(exc)
    finally:
        try:
            watch.stop()
        finally:
            stop_server(process)
        row.peak_rss_bytes = watch.peak
        if watch.killed_at is not None:
            row.status = "killed"
            row.killed_at_bytes = watch.killed_at
            if row.rps is not None:
                when = " during the load"
            else:
                when = " before its first 200" if row.first_200_s is None else " before the load"
            limit = (launch.rss_limit or 0) / GB
            row.reason = f"killed at {_gigabytes(watch.killed_at)}{when} (RSS limit {limit:g} GB)"


def _died(process: subprocess.Popen[bytes], watch: RssWatch, launch: Launch) -> RunFailed:
    if watch.killed_at is not None:
        return RunFailed(f"killed at {_gigabytes(watch.killed_at)}")
    return RunFailed(f"exited with status {process.returncode}: {_log_tail(launch.log)}")


def _run(
    launch: Launch,
    port: int,
    plan: Plan,
    row: Row,
    process: subprocess.Popen[bytes],
    watch: RssWatch,
    started: float,
) -> None:
    deadline = started + launch.start_timeout_s
    while True:
        if process.poll() is not None:
            raise _died(process, watch, launch)
        now = time.perf_counter()
        if now >= deadline:
            raise RunFailed(f"no 200 within {launch.start_timeout_s:g} s of start")
        try:
            status, body, server = send(port, launch.ready, max(0.2, deadline - now))
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
            continue
        if status == 200:
            row.first_200_s = time.perf_counter() - started
            row.server_header = server
            break
        if 400 <= status < 500:
            raise RunFailed(f"{launch.ready.method} {launch.ready.path} answered {status}: {body[:300]!r}")
        time.sleep(0.05)
    if launch.probe is not launch.ready:
        _expect_200(launch, port, deadline, process, watch)
    warm_until = time.perf_counter() + plan.warmup_s
    while time.perf_counter() < warm_until and process.poll() is None:
        _expect_200(launch, port, warm_until + 30, process, watch)
    if process.poll() is not None:
        raise _died(process, watch, launch)
    probe = launch.probe
    profiler = _start_profiler(plan, launch, row, process.pid)
    try:
        result = run_load(
            f"http://{HOST}:{port}{probe.path}",
            probe.method,
            probe.headers,
            probe.body,
            plan.connections,
            plan.duration_s,
            engine=plan.engine,
        )
    finally:
        _stop_profiler(profiler, row)
    row.requests, row.rps, row.non_2xx, row.errors = result.requests, result.rps, result.non_2xx, result.errors
    row.engine, row.duration_s = result.engine, result.duration_s
    if result.requests:
        row.p50_ms, row.p99_ms = result.p50_ms, result.p99_ms


def _start_profiler(plan: Plan, launch: Launch, row: Row, pid: int) -> subprocess.Popen[bytes] | None:
    """With --profile: py-spy records the pactmock process tree during the load, as collapsed stacks."""
    if plan.profile_dir is None or launch.server != MOCK:
        return None
    spy = _venv_bin("py-spy")
    if spy is None:
        row.notes.append("--profile: py-spy not installed")
        return None
    plan.profile_dir.mkdir(parents=True, exist_ok=True)
    out = plan.profile_dir / f"{row.scenario}.txt"
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--gil", "--format", "raw"]
    command += ["--rate", "100", "--duration", str(max(1, round(plan.duration_s))), "--output", str(out)]
    row.notes.append(f"profiled with py-spy (collapsed stacks in {out})")
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop_profiler(profiler: subprocess.Popen[bytes] | None, row: Row) -> None:
    if profiler is None:
        return
    try:
        profiler.wait(30)
    except subprocess.TimeoutExpired:
        profiler.kill()
        profiler.wait()
        row.notes.append("py-spy did not finish in time")


def _expect_200(launch: Launch, port: int, deadline: float, process: subprocess.Popen[bytes], watch: RssWatch) -> None:
    try:
        status, body, _ = send(port, launch.probe, max(0.2, deadline - time.perf_counter()))
    except (OSError, http.client.HTTPException) as exc:
        if process.poll() is not None:
            raise _died(process, watch, launch) from None
        raise RunFailed(f"{launch.probe.method} {launch.probe.path} failed: {exc!r}") from None
    if status != 200:
        raise RunFailed(f"{launch.probe.method} {launch.probe.path} answered {status}: {body[:300]!r}")


# --- the two servers ---------------------------------------------------------------------------------------------


def _venv_bin(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def serve_defaults() -> dict[str, Any]:
    """``--workers`` and ``--threads`` as ``pactmock serve`` defines them (read from the CLI, not copied)."""
    try:
        from app.cli import serve
    except ImportError:
        return {}
    return {p.name: p.default for p in serve.params if p.name in ("workers", "threads")}


def mock_command(plan: Plan, port: int) -> list[str]:
    command = [plan.pactmock_bin, "serve", "--host", HOST, "--port", str(port)]
    if plan.workers is not None:
        command += ["--workers", str(plan.workers)]
    if plan.threads is not None:
        command += ["--threads", str(plan.threads)]
    return command


def mock_env(pact_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTMOCK_", "FLASK_", "DATABASE_"))}
    env.update(PACT_DIR=str(pact_dir), DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    return env


def stub_version(pact_bin: str | None) -> str | None:
    """``pact stub``'s version line, or None when there is no working ``pact stub``."""
    if not pact_bin or not Path(pact_bin).exists():
        return None
    try:
        done = subprocess.run([pact_bin, "stub", "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or "stub" not in text.lower():
        return None
    found = re.search(r"v?(\d+\.\d+\.\d+\S*)", text)
    return f"pact stub {found.group(1)}" if found else text.splitlines()[0]


def _package(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10, check=False)
    first = (done.stdout + done.stderr).strip().splitlines()
    return first[0] if first else "wrk"


# --- PostgreSQL --------------------------------------------------------------------------------------------------


def _admin_engine(admin_url: str) -> Any:
    from sqlalchemy import create_engine

    from app.settings import database_url

    return create_engine(database_url(admin_url), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def create_database(admin_url: str) -> tuple[str, str]:
    """A fresh database on the server ``admin_url`` points at: its name and URL."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from app.settings import database_url

    name = f"pactmock_bench_{uuid.uuid4().hex[:10]}"
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return name, make_url(database_url(admin_url)).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            try:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except SQLAlchemyError:  # PostgreSQL before 13 has no FORCE
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        engine.dispose()


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def migrate(plan: Plan, url: str) -> None:
    env = mock_env(ROOT / "pacts", url)
    done = subprocess.run(
        [plan.pactmock_bin, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RunFailed(f"pactmock db upgrade failed: {(done.stderr or done.stdout).strip()[-300:]}")


# --- scenarios ---------------------------------------------------------------------------------------------------


def _not_run(row: Row, reason: str) -> Row:
    row.status, row.reason = "not run", reason
    return row


def _pair(
    plan: Plan,
    work: Path,
    name: str,
    title: str,
    interactions: int,
    pact_file: Path,
    probe: synthetic.Probe,
    stub_skip: str | None,
) -> list[Row]:
    """pactmock, then pact stub, on one pact file; each row's ratio is pactmock / stub."""
    rows: list[Row] = []
    mock = Row(name, title, interactions, MOCK)
    port = free_port()
    launch = Launch(
        MOCK,
        mock_command(plan, port),
        mock_env(pact_file.parent, f"sqlite:///{work / f'{name}.sqlite3'}"),
        work / f"{name}-pactmock.log",
        plan.start_timeout_s,
        None,
        probe,
        probe,
    )
    _progress(f"{title}: {MOCK}")
    measure(launch, port, plan, mock)
    rows.append(mock)

    stub = Row(name, title, interactions, STUB)
    if stub_skip:
        rows.append(_not_run(stub, stub_skip))
    else:
        port = free_port()
        assert plan.pact_bin is not None
        launch = Launch(
            STUB,
            [plan.pact_bin, "stub", "-p", str(port), "-f", str(pact_file)],
            dict(os.environ),
            work / f"{name}-stub.log",
            plan.stub_start_timeout_s,
            plan.stub_rss_limit_bytes,
            probe,
            probe,
        )
        _progress(f"{title}: {STUB}")
        measure(launch, port, plan, stub)
        rows.append(stub)
    if mock.rps is not None and stub.status != "not run":
        stub_rps = stub.rps or 0.0
        mock.ratio = mock.rps / stub_rps if stub_rps > 0 else float("inf")
        mock.ratio_to = "stub"
    return rows


def _stub_unavailable(plan: Plan) -> str | None:
    if plan.pact_bin is None:
        return "pact stub not installed"
    return None


def scenario_a(plan: Plan, work: Path) -> list[Row]:
    folder = work / "a"
    folder.mkdir()
    pact = json.loads(EPX_PACT.read_text(encoding="utf-8"))
    pact["provider"]["name"] = STUB_PROVIDER
    pact_file = folder / "epx-epistemixstub.json"
    pact_file.write_text(json.dumps(pact, indent=2) + "\n", encoding="utf-8")
    count = len(pact.get("interactions", []))
    title = f"a. epx contract, stub path (provider {STUB_PROVIDER}), POST /jobs/register"
    return _pair(plan, work, "a", title, count, pact_file, REGISTER, _stub_unavailable(plan))


def scenario_b(plan: Plan, work: Path, size: int) -> list[Row]:
    folder = work / f"b-{size}"
    _progress(f"generating {size:,} synthetic interactions")
    pact_file = synthetic.write_pact(folder, size)
    probe = synthetic.probe(size)
    skip = _stub_unavailable(plan)
    if skip is None and size > plan.stub_max_interactions:
        skip = (
            f"over --stub-max-interactions {plan.stub_max_interactions:,}; "
            "pact stub grew to 24 GB at 5,000 interactions and was killed"
        )
    title = f"b. synthetic, {size:,} interactions, {probe.method} {probe.path}"
    return _pair(plan, work, f"b-{size}", title, size, pact_file, probe, skip)


def scenario_c(plan: Plan, work: Path, backend: str, a_rps: float | None) -> Row:
    name = f"c-{backend}"
    title = f"c. stateful POST /runs (provider Epistemix), {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}"
    row = Row(name, title, _count(ROOT / "pacts"), MOCK)

    def run(url: str) -> None:
        port = free_port()
        launch = Launch(
            MOCK,
            mock_command(plan, port),
            mock_env(ROOT / "pacts", url),
            work / f"{name}-pactmock.log",
            plan.start_timeout_s,
            None,
            JOB_123_STATE,
            SUBMIT_RUN,
        )
        _progress(f"{title}: {MOCK}")
        measure(launch, port, plan, row)

    if backend == "sqlite":
        run(f"sqlite:///{work / 'c-sqlite.sqlite3'}")
    elif not plan.postgres_url:
        return _not_run(row, "no PostgreSQL server (--postgres-url or $TEST_POSTGRES_URL)")
    else:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            name, url = create_database(plan.postgres_url)
        except SQLAlchemyError as exc:
            return _not_run(row, f"PostgreSQL not reachable: {_first_line(exc)}")
        try:
            migrate(plan, url)
            run(url)
        except RunFailed as exc:
            row.status, row.reason = "failed", str(exc)
        finally:
            try:
                drop_database(plan.postgres_url, name)
            except SQLAlchemyError as exc:
                row.notes.append(f"dropping the benchmark database {name} failed: {_first_line(exc)}")
    if row.rps is not None and a_rps:
        row.ratio, row.ratio_to = row.rps / a_rps, "a"
    return row


def _count(pact_dir: Path) -> int:
    total = 0
    for path in sorted(pact_dir.glob("*.json")):
        with contextlib.suppress(OSError, ValueError):
            total += len(json.loads(path.read_text(encoding="utf-8")).get("interactions", []))
    return total


# --- targets -----------------------------------------------------------------------------------------------------


def _find(rows: Sequence[Row], scenario: str, server: str = MOCK) -> Row | None:
    return next((r for r in rows if r.scenario == scenario and r.server == server), None)


def _ok(row: Row | None) -> bool:
    return row is not None and row.rps is not None


def judge(rows: Sequence[Row], connections: int) -> list[Verdict]:
    """Every target of issue 5, judged from this run's rows (n/a where the run did not measure it)."""
    verdicts: list[Verdict] = []

    def add(target: str, measured: str | None, passed: bool | None) -> None:
        verdict = "n/a" if passed is None else ("PASS" if passed else "MISS")
        verdicts.append(Verdict(target, measured or "not measured", verdict))

    def ratio_target(scenario: str, factor: float, label: str) -> None:
        mock, stub = _find(rows, scenario), _find(rows, scenario, STUB)
        if not _ok(mock) or stub is None or stub.status == "not run" or mock is None or mock.ratio is None:
            reason = stub.reason if stub is not None and stub.status == "not run" else None
            add(label, f"stub not run ({reason})" if reason else None, None)
            return
        add(label, f"{_ratio(mock.ratio)} ({_stub_state(stub)})", mock.ratio >= factor)

    ratio_target("a", 1.0, "a. pactmock req/s >= 1.0x pact stub")
    ratio_target("b-1000", 100.0, "b. pactmock req/s >= 100x pact stub at 1,000 interactions")
    a, big = _find(rows, "a"), _find(rows, "b-100000")
    if _ok(a) and _ok(big) and a is not None and big is not None and a.rps and big.rps is not None:
        share = big.rps / a.rps
        add("b. pactmock req/s at 100,000 >= 80% of a.", f"{share:.0%} ({big.rps:,.0f} / {a.rps:,.0f})", share >= 0.8)
    else:
        add("b. pactmock req/s at 100,000 >= 80% of a.", None, None)
    if big is not None and big.peak_rss_bytes is not None:
        add("b. pactmock peak RSS at 100,000 < 1 GB", _size(big.peak_rss_bytes), big.peak_rss_bytes < GB)
    else:
        add("b. pactmock peak RSS at 100,000 < 1 GB", None, None)
    if big is not None and big.status != "not run":
        first = big.first_200_s
        add(
            "b. pactmock first 200 within 5 s of start at 100,000",
            f"{first:.2f} s" if first is not None else big.reason,
            first is not None and first <= 5.0,
        )
    else:
        add("b. pactmock first 200 within 5 s of start at 100,000", None, None)
    pg = _find(rows, "c-postgres")
    if _ok(pg) and pg is not None and pg.rps is not None:
        if pg.ratio is not None:
            add("c. PostgreSQL req/s >= 30% of a.", f"{pg.ratio:.0%} ({pg.rps:,.0f} req/s)", pg.ratio >= 0.3)
        else:
            add("c. PostgreSQL req/s >= 30% of a.", None, None)
        failures = (pg.non_2xx or 0) + (pg.errors or 0)
        add("c. PostgreSQL: zero errors", f"{pg.non_2xx or 0} non-2xx, {pg.errors or 0} errors", failures == 0)
        p99 = pg.p99_ms
        add(
            f"c. PostgreSQL p99 < 100 ms with {connections} connections",
            f"{p99:.1f} ms" if p99 is not None else None,
            None if p99 is None else p99 < 100.0,
        )
    else:
        reason = pg.reason if pg is not None else None
        for target in ("c. PostgreSQL req/s >= 30% of a.", "c. PostgreSQL: zero errors", "c. PostgreSQL p99 < 100 ms"):
            add(target, f"not run ({reason})" if reason else None, None)
    return verdicts


# --- output ------------------------------------------------------------------------------------------------------


def _size(size: int | None) -> str:
    if size is None:
        return "–"
    return _gigabytes(size) if size >= GB else f"{size / MB:,.0f} MB"


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    if ratio == float("inf"):
        return "∞"
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x"


def _stub_state(stub: Row) -> str:
    if stub.status == "ok":
        return f"stub {stub.rps or 0:,.1f} req/s"
    return f"stub {stub.status}: {stub.reason}"


def _cell_rps(row: Row) -> str:
    if row.rps is None:
        return row.reason or row.status if row.status == "killed" else f"{row.status} ({row.reason})"
    text = f"{row.rps:,.1f}" if row.rps < 100 else f"{row.rps:,.0f}"
    return text if row.status == "ok" else f"{text} ({row.reason})"


def format_table(rows: Sequence[Row]) -> str:
    lines = [
        "| scenario | server | req/s | p50 ms | p99 ms | non-2xx | errors | peak RSS | first 200 | ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:

        def ms(value: float | None, measured: bool = bool(row.requests)) -> str:
            return f"{value:,.2f}" if measured and value is not None else "–"

        ratio = "–"
        if row.ratio is not None:
            ratio = f"{_ratio(row.ratio)} {row.ratio_to}" if row.ratio_to == "stub" else f"{row.ratio:.0%} of a"
            if row.ratio == float("inf"):
                ratio = "∞ (stub served none)"
        lines.append(
            "| "
            + " | ".join(
                [
                    row.title,
                    row.server,
                    _cell_rps(row),
                    ms(row.p50_ms),
                    ms(row.p99_ms),
                    "–" if row.non_2xx is None else f"{row.non_2xx:,}",
                    "–" if row.errors is None else f"{row.errors:,}",
                    _size(row.peak_rss_bytes),
                    "–" if row.first_200_s is None else f"{row.first_200_s:.2f} s",
                    ratio,
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def format_verdicts(verdicts: Sequence[Verdict]) -> str:
    lines = ["| target | measured | PASS/MISS |", "| --- | --- | --- |"]
    lines.extend(f"| {v.target} | {v.measured} | {v.verdict} |" for v in verdicts)
    return "\n".join(lines)


def plot(rows: Sequence[Row], path: Path) -> str | None:
    """req/s against interactions (log x and y), both servers; returns why not when it cannot."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed"
    figure, axes = plt.subplots(figsize=(8, 5), dpi=120)
    synthetic_rows = [r for r in rows if r.scenario.startswith("b-")]
    sizes = sorted({r.interactions for r in synthetic_rows})
    for server, colour, marker in ((MOCK, "tab:blue", "o"), (STUB, "tab:orange", "s")):
        points = [(r.interactions, r.rps) for r in synthetic_rows if r.server == server and r.rps]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker=marker, color=colour, label=f"{server}, synthetic (b.)")
        for r in synthetic_rows:
            if r.server == server and not r.rps:
                # Not a measurement: a mark on the x axis, so it cannot be read as a req/s value.
                if r.status == "killed" and r.killed_at_bytes:
                    what = f"killed at {_size(r.killed_at_bytes)}"
                elif r.status == "ok":
                    what = "0 req/s"
                else:
                    what = r.status
                axes.plot([r.interactions], [0.02], marker="x", color=colour, transform=axes.get_xaxis_transform())
                axes.annotate(
                    f"{server}: {what}",
                    (r.interactions, 0.02),
                    xycoords=axes.get_xaxis_transform(),
                    xytext=(0, 8),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                    color=colour,
                )
        a = _find(rows, "a", server)
        if a is not None and a.rps:
            axes.axhline(a.rps, color=colour, linestyle=":", linewidth=1, label=f"{server}, epx stub path (a.)")
    pg = _find(rows, "c-postgres")
    if pg is not None and pg.rps:
        axes.axhline(
            pg.rps, color="tab:green", linestyle="--", linewidth=1, label="pactmock, POST /runs, PostgreSQL (c.)"
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    measured = [r.rps for r in rows if r.rps]
    if measured:
        axes.set_ylim(bottom=min(measured) / 6)  # room for the marks of runs without a figure
    if sizes:
        axes.set_xticks(sizes, [f"{s:,}" for s in sizes])
    axes.set_xlabel("interactions in the contract")
    axes.set_ylabel("req/s (32 connections, log scale)")
    axes.set_title("pactmock vs pact stub: throughput against contract size")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return None


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def machine() -> dict[str, Any]:
    memory = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_bytes": memory,
    }


# --- main --------------------------------------------------------------------------------------------------------


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "").replace(",", "")) for part in text.split() if part)
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are whole numbers separated by spaces, not {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def parse_args(argv: Sequence[str] | None) -> tuple[Plan, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 interactions, 1 s runs: a CI smoke run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH", help="[bench/out/compare.json]")
    parser.add_argument("--png", type=Path, metavar="PATH", help="the plot [the JSON path with .png]")
    parser.add_argument("--no-png", action="store_true", help="skip the plot")
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these scenarios (repeatable)")
    parser.add_argument(
        "--sizes", type=lambda t: _sizes(t.replace(",", " ")), help="b.'s interaction counts, e.g. 100,1000"
    )
    parser.add_argument("--duration", type=float, help="seconds of load per run [10; --quick: 1]")
    parser.add_argument("--warmup", type=float, help="seconds of sequential warm-up requests [2; --quick: 0.2]")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--engine", choices=ENGINES, default="auto", help="load generator [auto: wrk if installed]")
    parser.add_argument("--workers", type=int, help="pactmock serve --workers [the CLI's default]")
    parser.add_argument("--threads", type=int, help="pactmock serve --threads [the CLI's default]")
    parser.add_argument("--start-timeout", type=float, default=180.0, help="pactmock's first 200, seconds [180]")
    parser.add_argument("--stub-start-timeout", type=float, default=90.0, help="pact stub's first 200, seconds [90]")
    parser.add_argument("--stub-rss-limit", type=float, default=4.0, help="GB; pact stub is killed past it [4]")
    parser.add_argument(
        "--stub-max-interactions", type=int, default=10_000, help="pact stub is not run on larger contracts [10000]"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a server to create the benchmark database on ['' skips c. on PostgreSQL; $TEST_POSTGRES_URL]",
    )
    parser.add_argument("--pact-bin", help="the pact-python-cli `pact` binary [beside this python, else on PATH]")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="py-spy records pactmock during each load into DIR (slows it)"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on a shared machine: before each server starts, wait up to SECONDS for the machine to go idle [0: off]",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (pacts, databases, logs)")
    args = parser.parse_args(argv)
    pact_bin = args.pact_bin if args.pact_bin is not None else _venv_bin("pact")
    pactmock_bin = _venv_bin("pactmock")
    if pactmock_bin is None:
        parser.error("no pactmock console script beside this python or on PATH: pip install -e . first")
    plan = Plan(
        quick=args.quick,
        scenarios=tuple(args.only or SCENARIOS),
        sizes=args.sizes or (QUICK_SIZES if args.quick else SIZES),
        duration_s=args.duration or (1.0 if args.quick else 10.0),
        warmup_s=args.warmup if args.warmup is not None else (0.2 if args.quick else 2.0),
        connections=args.connections,
        engine=args.engine,
        workers=args.workers,
        threads=args.threads,
        start_timeout_s=args.start_timeout,
        stub_start_timeout_s=args.stub_start_timeout if not args.quick else min(args.stub_start_timeout, 20.0),
        stub_rss_limit_bytes=int(args.stub_rss_limit * GB),
        stub_max_interactions=args.stub_max_interactions,
        postgres_url=args.postgres_url,
        pact_bin=pact_bin if stub_version(pact_bin) else None,
        pactmock_bin=pactmock_bin,
        profile_dir=args.profile,
        quiet_wait_s=args.quiet_wait,
    )
    return plan, args


def main(argv: Sequence[str] | None = None) -> int:
    plan, args = parse_args(argv)
    engine = resolve_engine(plan.engine)
    defaults = serve_defaults()
    workers = plan.workers if plan.workers is not None else defaults.get("workers")
    threads = plan.threads if plan.threads is not None else defaults.get("threads")
    info = machine()
    servers: dict[str, dict[str, Any]] = {
        MOCK: {
            "version": _package("pactmock"),
            "command": f"{plan.pactmock_bin} serve",
            "workers": workers,
            "threads": threads,
            "cli_defaults": defaults,
        },
        STUB: {
            "version": stub_version(plan.pact_bin),
            "pact_python_cli": _package("pact-python-cli"),
            "command": f"{plan.pact_bin} stub" if plan.pact_bin else None,
            "installed": plan.pact_bin is not None,
        },
    }
    print(f"Python {info['python']} on {info['platform']}; {info['cpu_count']} CPUs ({info['cpu_model'] or 'unknown'})")
    print(
        f"pactmock {servers[MOCK]['version']} (`pactmock serve`, --workers {workers} --threads {threads}); "
        f"{servers[STUB]['version'] or 'pact stub not installed'}"
        + (f" (pact-python-cli {servers[STUB]['pact_python_cli']})" if plan.pact_bin else "")
    )
    generator = wrk_version() if engine == "wrk" else "the python engine of bench.loadgen"
    print(
        f"load: {generator}, {plan.connections} connections, "
        f"{plan.duration_s:g} s per run after {plan.warmup_s:g} s of warm-up; one server at a time"
        + ("; quick mode" if plan.quick else "")
    )
    print(STUB_PATH_NOTE + "\n")

    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="pactmock-compare-"))
    started = time.monotonic()
    try:
        if "a" in plan.scenarios:
            rows += scenario_a(plan, work)
        if "b" in plan.scenarios:
            for size in plan.sizes:
                rows += scenario_b(plan, work, size)
        if "c" in plan.scenarios:
            a = _find(rows, "a")
            a_rps = a.rps if a is not None else None
            rows.append(scenario_c(plan, work, "sqlite", a_rps))
            rows.append(scenario_c(plan, work, "postgres", a_rps))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started

    verdicts = judge(rows, plan.connections)
    print(format_table(rows))
    print("\nTargets (judged from this run; ratio column: pactmock / pact stub req/s, or c.'s share of a.'s)")
    print(format_verdicts(verdicts))
    print(f"\ntotal time {elapsed:.0f} s")

    png: Path | None = None
    png_problem: str | None = "--no-png"
    if not args.no_png:
        png = args.png or args.json.with_suffix(".png")
        png_problem = plot(rows, png)
        print(f"wrote {png}" if png_problem is None else f"PNG not written ({png_problem})")
    document = {
        "machine": info,
        "plan": asdict(plan),
        "load": {"engine": engine, "wrk": wrk_version(), "connections": plan.connections},
        "servers": servers,
        "notes": [STUB_PATH_NOTE],
        "rows": [_row_json(row) for row in rows],
        "targets": [asdict(v) for v in verdicts],
        "png": str(png) if png is not None and png_problem is None else None,
        "elapsed_s": elapsed,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


def _row_json(row: Row) -> dict[str, Any]:
    data = asdict(row)
    if data["ratio"] == float("inf"):
        data["ratio"] = "inf"  # JSON has no infinity
    return data


if __name__ == "__main__":
    sys.exit(main())
