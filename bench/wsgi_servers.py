"""WSGI servers serving the real pactmock app on this machine: throughput, latency, memory, shutdown.

Run from the project root::

    python -m bench.wsgi_servers                    # every installed candidate, 10 s each, about 3 minutes
    python -m bench.wsgi_servers --quick            # 3 s each, a smoke run
    python -m bench.wsgi_servers --only granian --only gunicorn
    python -m bench.wsgi_servers --rounds 3         # each candidate three times, interleaved; the best run is shown
    python -m bench.wsgi_servers --threads 2        # 2 threads (not 8) per worker for the threaded servers
    python -m bench.wsgi_servers --quiet-wait 300   # on a shared machine: wait for it to go idle before each load
    python -m bench.wsgi_servers --maintenance      # also ask the package index for each server's latest release
    python -m bench.wsgi_servers --json out.json    # also write the numbers as JSON

Candidates: gunicorn (gthread and sync workers), waitress, granian (WSGI interface), bjoern, uWSGI and cheroot,
each measured only if it is installed in this interpreter (``pip install waitress granian bjoern uwsgi cheroot``;
bjoern needs Debian's ``libev-dev`` to build). Each one runs as a separate process on a free loopback port with
comparable settings: two worker processes where the server has them (the machine has two cores), threads as the
table says. The app is ``app.create_app(Settings.from_env())`` with PACT_DIR (default ``pacts/``) and, unless
``--database-url`` names one, a fresh migrated SQLite database per run; its per-request INFO log lines are off,
as is every server's access log.

The load is the committed contract's ``POST /jobs/register`` stub request (a database write per request), checked
in-process to answer 200 first; if it does not (the pacts changed), the run falls back to ``GET /health`` and says
so. Each run: start, wait for ``/health``, one checked request, a warm-up, then the load from ``bench.loadgen``
(wrk when installed; ``--engine``) with 32 keep-alive connections. Peak RSS is the sum over the server's process
tree sampled every 0.25 s (forked workers share pages, so it overstates what they cost together); CPU is the
server tree's CPU time during the load over its duration, in cores, and "other CPU" what everything else on the
machine (not the server, not the load generator) used meanwhile: more than a few hundredths means the run was
disturbed. Then SIGTERM, and the time the server took to
exit and its exit status. This script reports numbers; it never judges them.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import logging
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.loadgen import ENGINES, LoadResult, resolve_engine, run_load
from tests.support.epx import EPX_HEADERS

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TARGET = "bench.wsgi_servers:application"
WORKERS = 2
THREADS = 8

STUB_METHOD = "POST"
STUB_PATH = "/jobs/register"
STUB_HEADERS = EPX_HEADERS
STUB_BODY = b'{"tags": ["info_job"]}'

# The maintenance state as checked on 2026-11-21: the latest release on PyPI and when it was built (the newest
# file in its sdist), or the best evidence found when the sdist could not be read. --maintenance re-checks the
# versions.
MAINTENANCE: dict[str, str] = {
    "gunicorn": "27.0.1, 2026-11-12; active",
    "waitress": "3.0.2, 2024-11-16; maintained (Pylons), slow release cadence",
    "granian": "2.8.7; 2.8.0 came out in 2026-08 and 2.8.1-2.8.7 since; active",
    "bjoern": "3.2.2, 2022-09-11; no release for 4 years",
    "uwsgi": "2.0.31, 2025-10-11; in maintenance mode (fixes only, by its authors' own account)",
    "cheroot": "11.1.2, 2025-11-07; active (CherryPy)",
}


# --- the app, as every server imports it ------------------------------------------------------------------------

_application: Any = None


def get_application() -> Any:
    """Build the pactmock app once per process (after the fork, so no worker shares another's database pool)."""
    global _application
    if _application is None:
        from app import create_app
        from app.settings import Settings

        # One INFO line per request would measure the log handler, not the server; every server's access log is off too.
        logging.getLogger("app").setLevel(os.environ.get("BENCH_APP_LOG_LEVEL", "WARNING").upper())
        _application = create_app(Settings.from_env())
    return _application


def lazy_application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    return get_application()(environ, start_response)


def __getattr__(name: str) -> Any:
    # `bench.wsgi_servers:application`, resolved by each server's importer in each worker process.
    if name == "application":
        return get_application()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- candidates ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    name: str
    package: str  # the PyPI project
    module: str  # what must be importable for it to run
    settings: str
    command: Callable[[int], list[str]]


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _uwsgi_binary() -> str:
    beside = Path(sys.executable).parent / "uwsgi"
    return str(beside) if beside.exists() else (shutil.which("uwsgi") or "uwsgi")


def candidates(threads: int = THREADS) -> list[Candidate]:
    """Every candidate; ``threads`` is the thread count of the threaded ones (the 1-thread variants stay so)."""
    w, t = str(WORKERS), str(threads)
    gunicorn = ["-m", "gunicorn", "--log-level", "warning", "--graceful-timeout", "10"]
    return [
        Candidate(
            "gunicorn gthread",
            "gunicorn",
            "gunicorn",
            f"{w} workers x {t} threads",
            lambda port: _python(*gunicorn, "-k", "gthread", "-w", w, "--threads", t, "-b", f"{HOST}:{port}", TARGET),
        ),
        Candidate(
            "gunicorn gthread",
            "gunicorn",
            "gunicorn",
            f"1 worker x {THREADS} threads (pactmock serve's default today)",
            lambda port: _python(
                *gunicorn, "-k", "gthread", "-w", "1", "--threads", str(THREADS), "-b", f"{HOST}:{port}", TARGET
            ),
        ),
        Candidate(
            "gunicorn sync",
            "gunicorn",
            "gunicorn",
            f"{w} workers x 1 thread, no keep-alive",
            lambda port: _python(*gunicorn, "-k", "sync", "-w", w, "-b", f"{HOST}:{port}", TARGET),
        ),
        Candidate(
            "granian wsgi",
            "granian",
            "granian",
            f"{w} workers x {t} blocking threads",
            lambda port: _python(
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "--workers",
                w,
                "--blocking-threads",
                t,
                "--no-ws",
                "--log-level",
                "warning",
                "--host",
                HOST,
                "--port",
                str(port),
                TARGET,
            ),
        ),
        Candidate(
            "granian wsgi",
            "granian",
            "granian",
            f"{w} workers x 1 blocking thread",
            lambda port: _python(
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "--workers",
                w,
                "--blocking-threads",
                "1",
                "--no-ws",
                "--log-level",
                "warning",
                "--host",
                HOST,
                "--port",
                str(port),
                TARGET,
            ),
        ),
        Candidate(
            "uWSGI",
            "uwsgi",
            "uwsgidecorators",  # a pure-Python module the uwsgi package installs beside its binary
            f"{w} processes x {t} threads, http11-socket, lazy-apps",
            lambda port: [
                _uwsgi_binary(),
                "--http11-socket",
                f"{HOST}:{port}",
                "--master",
                "--processes",
                w,
                "--threads",
                t,
                "--lazy-apps",
                "--die-on-term",
                "--disable-logging",
                "--need-app",
                "--virtualenv",
                sys.prefix,
                "--pythonpath",
                str(ROOT),
                "--module",
                "bench.wsgi_servers",
                # uWSGI reads the module's dict, not its attributes, so it takes the function that builds the app.
                "--callable",
                "lazy_application",
            ],
        ),
        Candidate(
            "bjoern",
            "bjoern",
            "bjoern",
            f"{w} forked processes x 1 thread (libev event loop)",
            lambda port: _python("-m", "bench.wsgi_servers", "--launch", "bjoern", "--port", str(port)),
        ),
        Candidate(
            "waitress",
            "waitress",
            "waitress",
            f"1 process x {t} threads (no multi-process mode)",
            lambda port: _python("-m", "waitress", f"--listen={HOST}:{port}", f"--threads={t}", TARGET),
        ),
        Candidate(
            "cheroot",
            "cheroot",
            "cheroot",
            f"1 process x {t} threads (no multi-process mode)",
            lambda port: _python(
                "-m", "bench.wsgi_servers", "--launch", "cheroot", "--port", str(port), "--threads", t
            ),
        ),
    ]


def installed(candidate: Candidate) -> bool:
    return importlib.util.find_spec(candidate.module) is not None


def package_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


# --- launchers for the servers that have no command of their own --------------------------------------------------


def _launch_bjoern(port: int, _threads: int) -> None:
    """Bind once, fork WORKERS single-threaded bjoern loops on the shared socket; SIGTERM stops them all."""
    import bjoern

    sock = bjoern.bind_and_listen(HOST, port)
    children: list[int] = []
    for _ in range(WORKERS):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            get_application()
            bjoern.server_run(sock, lazy_application)
            os._exit(0)
        children.append(pid)

    def stop(signum: int, _frame: Any) -> None:
        for child in children:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    codes = [os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) for child in children]
    # A worker ended by the SIGTERM passed on to it stopped as asked.
    sys.exit(0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1)


def _launch_cheroot(port: int, threads: int) -> None:
    from cheroot import wsgi

    server = wsgi.Server((HOST, port), get_application(), numthreads=threads)

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.safe_start()
    finally:
        server.stop()


LAUNCHERS: dict[str, Callable[[int, int], None]] = {"bjoern": _launch_bjoern, "cheroot": _launch_cheroot}


# --- measuring one server ------------------------------------------------------------------------------------------


@dataclass
class Run:
    server: str
    settings: str
    version: str | None
    status: str  # "ok", or why there are no numbers
    request: str = ""
    checked_status: int | None = None
    load: LoadResult | None = None
    cpu_cores: float | None = None
    other_cpu_cores: float | None = None  # what the rest of the machine used meanwhile: noise
    peak_rss_mb: float | None = None
    stop_s: float | None = None
    exit_code: int | None = None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def request_once(port: int, route: Route, timeout: float = 5.0) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(route.method, route.path, body=route.body or None, headers=route.headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> bool:
    health = Route("GET", "/health")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if request_once(port, health, timeout=2.0) == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def tree_rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def tree_cpu_seconds(pids: Sequence[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (the load generator, wrk included)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def wait_for_quiet(max_wait_s: float, threshold_cores: float = 0.15) -> float:
    """Wait (up to ``max_wait_s``) until the machine has been nearly idle for a second; returns the seconds waited."""
    started = time.monotonic()
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        if machine_busy_seconds() - before < threshold_cores or time.monotonic() - started >= max_wait_s:
            return time.monotonic() - started - 1.0


@contextmanager
def rss_sampler(root: int, interval_s: float = 0.25) -> Iterator[list[int]]:
    """Sample the tree's RSS in a thread while the block runs; the list holds the peak."""
    peak = [tree_rss_bytes(process_tree(root))]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval_s):
            peak[0] = max(peak[0], tree_rss_bytes(process_tree(root)))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], tree_rss_bytes(process_tree(root)))


def migrate(database_url: str) -> None:
    from app.store.migrate import upgrade

    upgrade(database_url)


@dataclass(frozen=True)
class Plan:
    duration_s: float
    warmup_s: float
    connections: int
    engine: str
    pact_dir: str
    database_url: str | None
    workdir: Path
    quiet_wait_s: float = 0.0


def stop_server(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> tuple[float | None, int | None]:
    """SIGTERM, then how long the server took to exit and its exit status (None, None if it had to be killed)."""
    if process.poll() is not None:
        return 0.0, process.returncode
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout_s)
        return time.monotonic() - started, code
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None, None
    finally:
        with suppress(ProcessLookupError):  # anything the server left behind in its session
            os.killpg(process.pid, signal.SIGKILL)


def measure(candidate: Candidate, routes: Sequence[Route], plan: Plan, index: int) -> list[Run]:
    """Start the server once on a fresh database, then load it with each route in turn; one Run per route."""
    version = package_version(candidate.package)
    runs = [Run(candidate.name, candidate.settings, version, "ok", route.label) for route in routes]
    database_url = plan.database_url or f"sqlite:///{plan.workdir / f'run-{index}.sqlite3'}"
    migrate(database_url)
    env = dict(os.environ)
    env.update(
        PACT_DIR=plan.pact_dir,
        DATABASE_URL=database_url,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    log_path = plan.workdir / f"run-{index}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            candidate.command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        if not wait_ready(port, process):
            tail = log_path.read_text(errors="replace")[-400:].strip().replace("\n", " / ").replace("|", "/")
            for run in runs:
                run.status = f"did not start: {tail}"
            return runs
        for run, route in zip(runs, routes, strict=True):
            try:
                _load(run, route, plan, port, process)
            except Exception as exc:  # a server that breaks mid-run is a result, not a crash of the whole benchmark
                run.status = f"failed: {type(exc).__name__}: {exc}"
    finally:
        stop_s, exit_code = stop_server(process)
    for run in runs:
        run.stop_s, run.exit_code = stop_s, exit_code
    return runs


def _load(run: Run, route: Route, plan: Plan, port: int, process: subprocess.Popen[bytes]) -> None:
    run.checked_status = request_once(port, route)
    if plan.quiet_wait_s > 0:
        wait_for_quiet(plan.quiet_wait_s)
    url = f"http://{HOST}:{port}{route.path}"
    if plan.warmup_s > 0:
        run_load(url, route.method, route.headers, route.body, plan.connections, plan.warmup_s, engine=plan.engine)
    cpu_before = tree_cpu_seconds(process_tree(process.pid))
    busy_before, own_before = machine_busy_seconds(), own_cpu_seconds()
    with rss_sampler(process.pid) as peak:
        run.load = run_load(
            url, route.method, route.headers, route.body, plan.connections, plan.duration_s, engine=plan.engine
        )
        cpu_after = tree_cpu_seconds(process_tree(process.pid))
        busy_after, own_after = machine_busy_seconds(), own_cpu_seconds()
    seconds = run.load.duration_s
    if seconds:
        server = cpu_after - cpu_before
        run.cpu_cores = server / seconds
        run.other_cpu_cores = max(0.0, (busy_after - busy_before) - server - (own_after - own_before)) / seconds
    run.peak_rss_mb = peak[0] / 2**20


HEALTH = Route("GET", "/health")


def stub_route(pact_dir: str, workdir: Path) -> Route:
    """The stub request if the current app answers it 200 in-process, else GET /health (with a note why)."""
    from app import create_app
    from app.settings import Settings

    database_url = f"sqlite:///{workdir / 'preflight.sqlite3'}"
    migrate(database_url)
    env = dict(os.environ, PACT_DIR=pact_dir, DATABASE_URL=database_url)
    logging.getLogger("app").setLevel(logging.WARNING)
    client = create_app(Settings.from_env(env)).test_client()
    response = client.open(STUB_PATH, method=STUB_METHOD, headers=STUB_HEADERS, data=STUB_BODY)
    if response.status_code == 200:
        return Route(STUB_METHOD, STUB_PATH, STUB_HEADERS, STUB_BODY)
    note = f"{STUB_METHOD} {STUB_PATH} answered {response.status_code} in-process, so GET /health stands in for it"
    return replace(HEALTH, note=note)


# --- maintenance --------------------------------------------------------------------------------------------------


def latest_release(package: str) -> str | None:
    """The newest version the package index offers, from `pip index versions` (None when it cannot be asked)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "index", "versions", package],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"^\S+ \(([^)]+)\)", done.stdout, re.MULTILINE)
    return match.group(1) if match else None


def maintenance(packages: Sequence[str], ask_index: bool) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = []
    for package in packages:
        rows.append(
            {
                "package": package,
                "installed": package_version(package),
                "latest": latest_release(package) if ask_index else None,
                "checked_2026_11_21": MAINTENANCE.get(package),
            }
        )
    return rows


# --- report -------------------------------------------------------------------------------------------------------


def summarize(runs: Sequence[Run]) -> Run:
    """The round with the highest req/s (as timeit takes the fastest: on a shared machine, noise only slows)."""
    measured = [r for r in runs if r.load is not None]
    if not measured:
        return runs[0]
    return max(measured, key=lambda r: r.load.rps if r.load else 0.0)


def format_table(results: Sequence[tuple[Run, list[float]]]) -> str:
    lines = [
        "| server | version | settings | req/s | p50 ms | p99 ms | non-2xx | errors "
        "| server CPU | other CPU | peak RSS | SIGTERM |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run, rounds in results:
        head = f"| {run.server} | {run.version or '-'} | {run.settings} |"
        if run.load is None:
            lines.append(f"{head} {run.status} | | | | | | | | |")
            continue
        r = run.load
        spread = f" ({min(rounds):,.0f}-{max(rounds):,.0f})" if len(rounds) > 1 else ""
        cpu = f"{run.cpu_cores:.2f} cores" if run.cpu_cores is not None else "-"
        other = f"{run.other_cpu_cores:.2f}" if run.other_cpu_cores is not None else "-"
        rss = f"{run.peak_rss_mb:.0f} MB" if run.peak_rss_mb is not None else "-"
        stop = "killed" if run.stop_s is None else f"{run.stop_s:.1f} s, exit {run.exit_code}"
        lines.append(
            f"{head} {r.rps:,.0f}{spread} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.non_2xx:,} | {r.errors:,} "
            f"| {cpu} | {other} | {rss} | {stop} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wsgi_servers", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="3 s per server and request after a 1 s warm-up")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per request [default: 10]")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up load [default: 3]")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--threads", type=int, default=THREADS, help=f"threads of the threaded servers [default: {THREADS}]"
    )
    parser.add_argument("--engine", choices=ENGINES, default="auto", help="load generator [default: auto]")
    parser.add_argument("--rounds", type=int, default=1, help="runs per candidate, interleaved [default: 1]")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each load, wait up to this long for the rest of the machine to go idle [default: 0]",
    )
    parser.add_argument("--only", action="append", default=[], help="candidates whose name contains this")
    parser.add_argument("--route", choices=("stub", "health", "both"), default="both", help="[default: both]")
    parser.add_argument("--pact-dir", default=os.environ.get("PACT_DIR", str(ROOT / "pacts")))
    parser.add_argument("--database-url", help="use this database instead of a fresh SQLite file per run")
    parser.add_argument("--maintenance", action="store_true", help="ask the package index for the latest releases")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument("--launch", choices=sorted(LAUNCHERS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.launch:
        LAUNCHERS[args.launch](args.port, args.threads)
        return 0

    engine = resolve_engine(args.engine)
    chosen = [
        c for c in candidates(args.threads) if not args.only or any(o.lower() in c.name.lower() for o in args.only)
    ]
    runnable = [c for c in chosen if installed(c)]
    rounds = max(1, args.rounds)
    with tempfile.TemporaryDirectory(prefix="wsgi-bench-") as tmp:
        workdir = Path(tmp)
        routes: list[Route] = [HEALTH] if args.route in ("health", "both") else []
        if args.route in ("stub", "both"):
            stub = stub_route(args.pact_dir, workdir)
            if stub.path != HEALTH.path or not routes:
                routes.append(stub)
            else:
                routes[0] = stub  # the same request, with the note saying why
        plan = Plan(
            duration_s=3.0 if args.quick else args.duration,
            warmup_s=1.0 if args.quick else args.warmup,
            connections=args.connections,
            engine=engine,
            pact_dir=args.pact_dir,
            database_url=args.database_url,
            workdir=workdir,
            quiet_wait_s=args.quiet_wait,
        )
        runs: dict[tuple[int, int], list[Run]] = {(r, c): [] for r in range(len(routes)) for c in range(len(runnable))}
        counter = 0
        for _ in range(rounds):
            for c, candidate in enumerate(runnable):
                counter += 1
                print(f"  {candidate.name} ({candidate.settings}) ...", file=sys.stderr, flush=True)
                for r, run in enumerate(measure(candidate, routes, plan, counter)):
                    runs[r, c].append(run)

    database = "PostgreSQL/other: " + args.database_url.rsplit("@", 1)[-1] if args.database_url else "fresh SQLite file"
    print(
        f"WSGI servers, {date.today().isoformat()}: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"CPython {platform.python_version()}; load: {engine}, {plan.connections} connections, "
        f"{plan.duration_s:g} s after a {plan.warmup_s:g} s warm-up, {rounds} round(s); database: {database}"
    )
    tables: list[dict[str, Any]] = []
    for r, route in enumerate(routes):
        results: list[tuple[Run, list[float]]] = []
        for c in range(len(runnable)):
            measured = runs[r, c]
            results.append((summarize(measured), [run.load.rps for run in measured if run.load is not None]))
        for candidate in chosen:
            if not installed(candidate):
                why = f"not installed (pip install {candidate.package})"
                results.append((Run(candidate.name, candidate.settings, None, why, route.label), []))
        print()
        print(f"{route.label}" + (f" ({route.note})" if route.note else ""))
        if rounds > 1:
            print(f"(the best of {rounds} rounds by req/s, the range in brackets)")
        print()
        print(format_table(results))
        for run, _ in results:
            if run.checked_status not in (None, 200):
                print(f"note: {run.server} ({run.settings}) answered the checked request {run.checked_status}")
        tables.append(
            {
                "request": route.label,
                "note": route.note,
                "results": [{**asdict(run), "rounds_rps": rps} for run, rps in results],
            }
        )

    packages = list(dict.fromkeys(c.package for c in chosen))
    notes = maintenance(packages, args.maintenance)
    print()
    print("| package | installed | latest on the index | as checked 2026-11-21 |")
    print("| --- | --- | --- | --- |")
    for row in notes:
        latest = row["latest"] or ("-" if not args.maintenance else "unknown")
        print(f"| {row['package']} | {row['installed'] or '-'} | {latest} | {row['checked_2026_11_21'] or '-'} |")

    if args.json:
        payload = {
            "date": date.today().isoformat(),
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
            "load": {
                "engine": engine,
                "connections": plan.connections,
                "duration_s": plan.duration_s,
                "warmup_s": plan.warmup_s,
                "rounds": rounds,
                "database": database,
            },
            "tables": tables,
            "maintenance": notes,
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
