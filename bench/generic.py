"""The generic stateful provider's speed next to Epistemix's ``POST /runs`` and the stub path (issue 16).

Run from the project root::

    python -m bench.generic                      # 3 rounds of 4 scenarios x 8 s, on SQLite and PostgreSQL
    python -m bench.generic --duration 2 --rounds 1 --json /tmp/generic.json
    python -m bench.generic --postgres-url ''    # SQLite only
    python -m bench.generic --load-wait 600      # first wait up to 600 s for a 1-minute load average under 1.5

Each measurement starts ``pactmock serve`` at the CLI's defaults (bench.compare's ``mock_command`` and
``mock_env``) on a free loopback port, waits for ``GET /_mock/health``, sets up the scenario's provider state
through ``/_mock/provider-states``, checks the measured request itself (its 2xx; two creates must answer 201 with
two different ids, each of which then reads back), warms up with sequential requests for ``--warmup`` seconds, then loads it with
``bench.loadgen`` (wrk when installed), 32 keep-alive connections for ``--duration`` seconds, and stops the
server. Peak RSS is bench.compare's ``RssWatch`` over the server's process tree.

Scenarios, on one fresh database per backend (a new SQLite file; a new PostgreSQL database migrated with
``pactmock db upgrade``), shared by the four:

* create: ``POST /api/v1/tasks`` of examples/flow (the model file makes provider Flow stateful), with the body and
  headers of the pact's create interaction and ``Authorization: Bearer test-bench``: an item written per request;
* read: ``GET /api/v1/tasks/task_000001`` after ``a task task_000001 exists in state running``: an item read;
* runs: Epistemix's ``POST /runs`` of pacts/ after ``job 123 exists``, as bench.compare's scenario c;
* stub: the same ``GET /api/v1/tasks/task_000001`` served from a copy of examples/flow without its model file, so
  the contract's example answers (the same provider-state call is sent first, as for read).

Within a round the four alternate (create, read, runs, stub), so a slow spell of the shared machine falls on all of
them; per scenario the table gives the median req/s and the median p99 over ``--rounds`` rounds. Targets, per
backend: create / runs >= 1.0 and read / stub >= 0.5, printed as PASS or MISS. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import compare
from bench.compare import HOST, JOB_123_STATE, SUBMIT_RUN, Plan, RssWatch, free_port, send, stop_server
from bench.loadgen import LoadResult, resolve_engine, run_load
from tests.support.synthetic import Probe

ROOT = compare.ROOT
FLOW_DIR = ROOT / "examples" / "flow"
FLOW_PACT = FLOW_DIR / "FlowUI-Flow.json"
DEFAULT_JSON = ROOT / "bench" / "out" / "generic.json"
TOKEN = "Bearer test-bench"
TASK_PATH = "/api/v1/tasks/task_000001"
HEALTH = Probe("GET", "/_mock/health", {}, b"", "health")
STATE_BODY = b'{"state": "a task task_000001 exists in state running", "action": "setup"}'
TASK_STATE = Probe("POST", "/_mock/provider-states", {"Content-Type": "application/json"}, STATE_BODY, "task state")
TARGETS = (("create", "runs", 1.0), ("read", "stub", 0.5))  # (scenario, its reference, the least ratio)


def _pact_probe(method: str, path: str, description: str) -> Probe:
    """The pact's own request for ``method path``: its headers (the bearer key replaced) and JSON body."""
    pact = json.loads(FLOW_PACT.read_text(encoding="utf-8"))
    for interaction in pact["interactions"]:
        request = interaction["request"]
        if request["method"] == method and request["path"] == path:
            headers = {k: ", ".join(v) if isinstance(v, list) else v for k, v in request.get("headers", {}).items()}
            headers["Authorization"] = TOKEN
            content = (request.get("body") or {}).get("content")
            return Probe(method, path, headers, json.dumps(content).encode() if content else b"", description)
    raise LookupError(f"no {method} {path} interaction in {FLOW_PACT}")


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    pact_dir: str  # "flow", "stub" (the copy without a model file) or "pacts"
    setup: Probe | None
    probe: Probe
    status: int  # what the checked request must answer


def scenarios() -> tuple[Scenario, ...]:
    read = _pact_probe("GET", TASK_PATH, "read task_000001")
    create = _pact_probe("POST", "/api/v1/tasks", "create a task")
    return (
        Scenario("create", "generic create, POST /api/v1/tasks", "flow", None, create, 201),
        Scenario("read", f"generic read, GET {TASK_PATH}", "flow", TASK_STATE, read, 200),
        Scenario("runs", "Epistemix POST /runs", "pacts", JOB_123_STATE, SUBMIT_RUN, 200),
        Scenario("stub", f"stub path, GET {TASK_PATH}", "stub", TASK_STATE, read, 200),
    )


@dataclass
class Run:
    backend: str
    scenario: str
    round: int
    status: str = "ok"  # ok | failed
    reason: str | None = None
    load: LoadResult | None = None
    peak_rss_bytes: int | None = None
    load_average: float | None = None  # the 1-minute load average when the load started


class RunFailed(Exception):
    pass


def _expect(port: int, probe: Probe, status: int, timeout_s: float = 10.0) -> bytes:
    try:
        answered, body, _ = send(port, probe, timeout_s)
    except (OSError, http.client.HTTPException) as exc:
        raise RunFailed(f"{probe.method} {probe.path} failed: {exc!r}") from None
    if answered != status:
        raise RunFailed(f"{probe.method} {probe.path} answered {answered}, not {status}: {body[:300]!r}")
    return body


def _check(port: int, scenario: Scenario) -> None:
    """The measured request answers its status; two creates answer two ids, each then readable."""
    ids: set[str] = set()
    for _ in range(2 if scenario.key == "create" else 1):
        body = _expect(port, scenario.probe, scenario.status)
        if scenario.key == "create":
            new_id = json.loads(body).get("id")
            read = Probe("GET", f"/api/v1/tasks/{new_id}", {"Authorization": TOKEN}, b"", "read the new task")
            if not new_id or new_id in ids or json.loads(_expect(port, read, 200)).get("id") != new_id:
                raise RunFailed(f"create answered id {new_id!r}: not a new task that reads back")
            ids.add(new_id)


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RunFailed(f"exited with {process.returncode}: {log.read_text(errors='replace')[-300:]}")
        try:
            if send(port, HEALTH, 1.0)[0] == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    raise RunFailed(f"no 200 from /_mock/health within {timeout_s:g} s")


def measure(plan: Plan, scenario: Scenario, pact_dir: Path, url: str, run: Run, work: Path) -> None:
    port = free_port()
    log = work / f"{run.backend}-{scenario.key}-{run.round}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            compare.mock_command(plan, port),
            cwd=work,
            env=compare.mock_env(pact_dir, url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    watch = RssWatch(process, None)
    watch.start()
    try:
        _wait_ready(port, process, log, plan.start_timeout_s)
        if scenario.setup is not None:
            _expect(port, scenario.setup, 200)
        _check(port, scenario)
        warm_until = time.perf_counter() + plan.warmup_s
        while time.perf_counter() < warm_until:
            _expect(port, scenario.probe, scenario.status)
        probe, run.load_average = scenario.probe, os.getloadavg()[0]
        url = f"http://{HOST}:{port}{probe.path}"
        run.load = run_load(url, probe.method, probe.headers, probe.body, plan.connections, plan.duration_s)
    except RunFailed as exc:
        run.status, run.reason = "failed", str(exc)
    finally:
        watch.stop()
        stop_server(process)
        run.peak_rss_bytes = watch.peak


def run_backend(plan: Plan, backend: str, rounds: int, work: Path) -> list[Run]:
    """Every round of the four scenarios on one fresh database of ``backend``."""
    dirs = {"flow": FLOW_DIR, "stub": work / "stub", "pacts": ROOT / "pacts"}
    dropped: str | None = None
    if backend == "sqlite":
        url = f"sqlite:///{work / 'generic.sqlite3'}"
    else:
        dropped, url = compare.create_database(plan.postgres_url)
    runs: list[Run] = []
    try:
        if backend == "postgres":
            compare.migrate(plan, url)
        for number in range(1, rounds + 1):
            for scenario in scenarios():
                print(f"... {backend}, round {number}: {scenario.title}", file=sys.stderr, flush=True)
                run = Run(backend, scenario.key, number)
                measure(plan, scenario, dirs[scenario.pact_dir], url, run, work)
                runs.append(run)
    finally:
        if dropped is not None:
            compare.drop_database(plan.postgres_url, dropped)
    return runs


def summarise(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per backend and scenario: median req/s and p99 over the rounds; then the two target ratios."""
    rows: list[dict[str, Any]] = []
    for backend in dict.fromkeys(r.backend for r in runs):
        medians: dict[str, float] = {}
        for scenario in scenarios():
            mine = [r for r in runs if r.backend == backend and r.scenario == scenario.key]
            loads = [r.load for r in mine if r.load is not None]
            row: dict[str, Any] = {"backend": backend, "scenario": scenario.key, "title": scenario.title}
            if loads:
                medians[scenario.key] = row["rps"] = statistics.median(load.rps for load in loads)
                row["p99_ms"] = statistics.median(load.p99_ms for load in loads)
                row["rounds_rps"] = [round(load.rps) for load in loads]
                row["non_2xx"] = sum(load.non_2xx for load in loads)
                row["errors"] = sum(load.errors for load in loads)
                row["peak_rss_bytes"] = max(r.peak_rss_bytes or 0 for r in mine)
            rows.append(row)
        for key, reference, least in TARGETS:
            ratio = medians[key] / medians[reference] if key in medians and medians.get(reference) else None
            verdict = "n/a" if ratio is None else ("PASS" if ratio >= least else "MISS")
            rows.append(
                {"backend": backend, "target": f"{key} / {reference} >= {least}", "ratio": ratio, "verdict": verdict}
            )
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    return "\n".join([*scenario_lines(rows, with_rss=True), "", *target_lines(rows)])


def scenario_lines(rows: Sequence[dict[str, Any]], *, with_rss: bool) -> list[str]:
    """The measured scenarios as a Markdown table (also bench.generated's)."""
    rss_head, rss_rule = (" peak RSS |", " ---: |") if with_rss else ("", "")
    lines = [
        "| backend | scenario | req/s (median) | p99 ms (median) | req/s per round | non-2xx | errors |" + rss_head,
        "| --- | --- | ---: | ---: | --- | ---: | ---: |" + rss_rule,
    ]
    for row in rows:
        if "scenario" in row and "rps" in row:
            rounds = ", ".join(f"{v:,}" for v in row["rounds_rps"])
            rss = f" {row['peak_rss_bytes'] / compare.MB:.0f} MB |" if with_rss else ""
            lines.append(
                f"| {row['backend']} | {row['title']} | {row['rps']:,.0f} | {row['p99_ms']:.1f} | {rounds} | "
                f"{row['non_2xx']} | {row['errors']} |" + rss
            )
        elif "scenario" in row:
            lines.append(f"| {row['backend']} | {row['title']} | failed (below) | | | | |" + (" |" if with_rss else ""))
    return lines


def target_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The targets and their verdicts as a Markdown table (also bench.generated's)."""
    lines = ["| backend | target | ratio | verdict |", "| --- | --- | ---: | --- |"]
    for row in rows:
        if "target" in row:
            ratio = "–" if row["ratio"] is None else f"{row['ratio']:.2f}"
            lines.append(f"| {row['backend']} | {row['target']} | {ratio} | {row['verdict']} |")
    return lines


def wait_for_load(max_wait_s: float, below: float = 1.5) -> tuple[float, float]:
    """Wait up to ``max_wait_s`` for the 1-minute load average to fall under ``below``: (waited s, load)."""
    started = time.monotonic()
    while os.getloadavg()[0] >= below and time.monotonic() - started < max_wait_s:
        time.sleep(10)
    return time.monotonic() - started, os.getloadavg()[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generic", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per run [8]")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the four scenarios per backend [3]")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of sequential warm-up per run [1]")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a server to create the benchmark database on ['' skips PostgreSQL; $TEST_POSTGRES_URL]",
    )
    parser.add_argument("--load-wait", type=float, default=0.0, metavar="S", help="wait up to S s for load < 1.5 [0]")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH", help="[bench/out/generic.json]")
    args = parser.parse_args(argv)
    pactmock_bin = compare._venv_bin("pactmock")
    if pactmock_bin is None:
        parser.error("no pactmock console script beside this python or on PATH: pip install -e . first")
    engine = resolve_engine("auto")  # wrk when installed
    plan = Plan(
        quick=False, scenarios=(), sizes=(), duration_s=args.duration, warmup_s=args.warmup,
        connections=32, engine=engine, workers=None, threads=None, start_timeout_s=60.0,
        stub_start_timeout_s=0.0, stub_rss_limit_bytes=0, stub_max_interactions=0,
        postgres_url=args.postgres_url, pact_bin=None, pactmock_bin=pactmock_bin,
    )  # fmt: skip
    waited, load = wait_for_load(args.load_wait)
    defaults = compare.serve_defaults()
    print(f"pactmock serve at its defaults {defaults}; load {compare.wrk_version() or engine}, "
          f"{plan.connections} connections, {plan.duration_s:g} s x {args.rounds} rounds; "
          f"load average {load:.2f} after waiting {waited:.0f} s")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="pactmock-generic-"))
    (work / "stub").mkdir()
    shutil.copy(FLOW_PACT, work / "stub" / FLOW_PACT.name)  # the pact alone: no model file, so a stub
    started = time.monotonic()
    runs: list[Run] = []
    try:
        for backend in ("sqlite", "postgres") if plan.postgres_url else ("sqlite",):
            runs += run_backend(plan, backend, args.rounds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = summarise(runs)
    print(format_table(rows))
    for run in runs:
        if run.status != "ok":
            print(f"{run.backend} {run.scenario} round {run.round}: {run.reason}")
    document = {
        "machine": compare.machine(),
        "load_average_at_start": load,
        "plan": asdict(plan) | {"rounds": args.rounds, "serve_defaults": defaults, "wrk": compare.wrk_version()},
        "summary": rows,
        "runs": [asdict(run) for run in runs],
        "elapsed_s": time.monotonic() - started,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.json} ({document['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
