"""Generated collections served by ``pactmock serve``: pages anywhere in a million items, memory that does not
grow with N, and reads whose state is worked out from the clock (issue 17, "How it is proven").

Run from the project root::

    python -m bench.generated                        # 2 rounds, 5 s per run, SQLite and PostgreSQL
    python -m bench.generated --duration 3 --rounds 1 --postgres-url ''
    python -m bench.generated --scenarios stub,page0,pageEnd --no-rss   # the page target only

Every run starts ``pactmock serve`` at its CLI defaults (bench.compare's ``mock_command`` and ``mock_env``) on a
free loopback port, checks the measured request answers 200, warms up, loads it with ``bench.loadgen`` (wrk
when installed, 32 keep-alive connections) and stops the server. Within a round the runs alternate, so a slow
spell of the shared machine falls on all of them; the table gives the median req/s and p99 over the rounds.

* ``stub``: ``GET /api/workflow?offset=0&limit=20`` of the OSMO pact served without its model file (the
  contract's example answers);
* ``page 0`` and ``page 999,980``: the same request, offset 0 and 999,980, to examples/osmo with its workflows
  set to 1,000,000 through ``PUT /_mock/resources/OSMO/workflows``: twenty generated workflows with their hooked
  fields (start and end times, uuid, submitter, duration);
* ``page 0`` and ``page 999,980`` with the clock frozen: the same, after ``POST /_mock/clock`` freezes it. A page
  whose hooks read a live clock is worked out for every request; one read at a frozen clock is sent again to the
  same request until a write, a control-plane change or a move of the clock (web/replays.py);
* ``plain read``: ``GET /api/v1/tasks/task_000001`` of examples/flow, a stored item (bench.generic's read);
* ``clocked read``: the same item and request, the Flow model file given a timed move out of ``running`` that is
  years away: every read works out the state from the clock (and does so in a write transaction);
* ``timed generated read``: ``GET /v1/ex/<id>`` of examples/teraslice, a generated execution whose state the
  clock moves (its hooks too: slice counters, when it entered its state).

Then the memory of ``serve`` (RSS of its process tree) with the OSMO workflows set to 100 and to 10,000,000, after
paging through three pages at each end: read once the pages are done, and the peak while they were served.
Targets, printed as PASS or MISS: page 999,980 / page 0 within 0.8-1.25 (the same cost within noise), each page
>= 0.5 x the stub's req/s (live clock and frozen), RSS at 10,000,000 within 10% of RSS at 100. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import compare
from bench.compare import HOST, Plan, RssWatch, free_port, stop_server, tree_rss_bytes
from bench.generic import (
    TASK_PATH,
    TASK_STATE,
    RunFailed,
    _expect,
    _pact_probe,
    _wait_ready,
    scenario_lines,
    target_lines,
    wait_for_load,
)
from bench.loadgen import resolve_engine, run_load
from tests.support.synthetic import Probe

ROOT = compare.ROOT
OSMO_DIR = ROOT / "examples" / "osmo"
FLOW_DIR = ROOT / "examples" / "flow"
TERASLICE_DIR = ROOT / "examples" / "teraslice"
DEFAULT_JSON = ROOT / "bench" / "out" / "generated.json"
OSMO_AUTH = {"Authorization": "Bearer test-osmo-ui"}  # the pact's own header: the stub wants it as it is
MILLION = 1_000_000
PAGE_0 = "/api/workflow?offset=0&limit=20"
PAGE_END = f"/api/workflow?offset={MILLION - 20}&limit=20"
# A timed move out of `running` so far away that it never happens: each read still works it out.
CLOCKED = "      timed:\n        running: {after: [630000000, 630000001], to: completed}\n"
RSS_COUNTS = (100, 10_000_000)


def _get(path: str, headers: dict[str, str] | None = None) -> Probe:
    return Probe("GET", path, dict(headers or {}), b"", f"GET {path}")


def _json_probe(method: str, path: str, document: Any) -> Probe:
    body = json.dumps(document).encode()
    return Probe(method, path, {"Content-Type": "application/json"}, body, f"{method} {path}")


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    folder: str  # a key of the prepared folders
    setup: tuple[Probe, ...]  # sent once before the check
    probe: Probe | None  # None: found by `find` below


# A page that reads no live clock is sent again while nothing it was made from moves (web/replays.py).
FREEZE = _json_probe("POST", "/_mock/clock", {"action": "freeze", "at": "2026-06-01T12:00:00Z"})

SCENARIOS = (
    Scenario("stub", f"stub path, GET {PAGE_0}", "osmo-stub", (), _get(PAGE_0, OSMO_AUTH)),
    Scenario(
        "page0",
        f"generated, GET {PAGE_0}",
        "osmo",
        (_json_probe("PUT", "/_mock/resources/OSMO/workflows", {"count": MILLION}),),
        _get(PAGE_0, OSMO_AUTH),
    ),
    Scenario(
        "pageEnd",
        f"generated, GET {PAGE_END}",
        "osmo",
        (_json_probe("PUT", "/_mock/resources/OSMO/workflows", {"count": MILLION}),),
        _get(PAGE_END, OSMO_AUTH),
    ),
    Scenario(
        "page0Frozen",
        f"generated, clock frozen, GET {PAGE_0}",
        "osmo",
        (_json_probe("PUT", "/_mock/resources/OSMO/workflows", {"count": MILLION}), FREEZE),
        _get(PAGE_0, OSMO_AUTH),
    ),
    Scenario(
        "pageEndFrozen",
        f"generated, clock frozen, GET {PAGE_END}",
        "osmo",
        (_json_probe("PUT", "/_mock/resources/OSMO/workflows", {"count": MILLION}), FREEZE),
        _get(PAGE_END, OSMO_AUTH),
    ),
    Scenario("plain", f"plain read of a stored item, GET {TASK_PATH}", "flow", (TASK_STATE,), None),
    Scenario(
        "clocked", f"clocked read of the same item (timed machine), GET {TASK_PATH}", "flow-timed", (TASK_STATE,), None
    ),
    Scenario("timedGenerated", "timed generated read, GET /v1/ex/<a generated execution>", "teraslice", (), None),
)
# (scenario, its reference, least ratio, most ratio)
TARGETS = (
    ("pageEnd", "page0", 0.8, 1.25),
    ("page0", "stub", 0.5, None),
    ("pageEnd", "stub", 0.5, None),
    ("pageEndFrozen", "page0Frozen", 0.8, 1.25),
    ("page0Frozen", "stub", 0.5, None),
    ("pageEndFrozen", "stub", 0.5, None),
)


@dataclass
class Run:
    backend: str
    scenario: str
    round: int
    status: str = "ok"
    reason: str | None = None
    rps: float | None = None
    p99_ms: float | None = None
    non_2xx: int = 0
    errors: int = 0
    load_average: float | None = None


@dataclass
class Memory:
    backend: str
    count: int
    round: int
    status: str = "ok"
    reason: str | None = None
    settled_bytes: int | None = None
    peak_bytes: int | None = None
    pages: list[str] = field(default_factory=list)


def prepare(work: Path) -> dict[str, Path]:
    """The folders the servers read: the examples as they are, OSMO without its model file, Flow made clocked."""
    folders = {"osmo": OSMO_DIR, "flow": FLOW_DIR, "teraslice": TERASLICE_DIR}
    stub = work / "osmo-stub"
    stub.mkdir()
    shutil.copy(OSMO_DIR / "OsmoUI-OSMO.json", stub)
    timed = work / "flow-timed"
    shutil.copytree(FLOW_DIR, timed)
    model = timed / "FlowUI-Flow.model.yaml"
    text = model.read_text(encoding="utf-8")
    marker = "        preempting: [pending, running, failed, cancelled]\n"
    if marker not in text:
        raise SystemExit(f"{model}: the state machine changed; update bench/generated.py's CLOCKED")
    model.write_text(text.replace(marker, marker + CLOCKED), encoding="utf-8")
    return {**folders, "osmo-stub": stub, "flow-timed": timed}


def _probe_for(port: int, scenario: Scenario) -> Probe:
    if scenario.probe is not None:
        return scenario.probe
    if scenario.folder.startswith("flow"):
        return _pact_probe("GET", TASK_PATH, "read task_000001")
    # A generated execution from the first page, past its first five.
    listing = json.loads(_expect(port, _get("/v1/ex?size=20"), 200))
    ex_id = next(item["ex_id"] for item in listing[5:] if item.get("ex_id"))
    return _get(f"/v1/ex/{ex_id}")


def measure(plan: Plan, scenario: Scenario, folders: dict[str, Path], url: str, run: Run, work: Path) -> None:
    port = free_port()
    log = work / f"{run.backend}-{scenario.key}-{run.round}.log"
    process = _start(plan, folders[scenario.folder], url, port, log)
    try:
        _wait_ready(port, process, log, plan.start_timeout_s)
        for setup in scenario.setup:
            _expect(port, setup, 200)
        probe = _probe_for(port, scenario)
        _expect(port, probe, 200)
        warm_until = time.perf_counter() + plan.warmup_s
        while time.perf_counter() < warm_until:
            _expect(port, probe, 200)
        run.load_average = os.getloadavg()[0]
        load = run_load(
            f"http://{HOST}:{port}{probe.path}", probe.method, probe.headers, probe.body, plan.connections,
            plan.duration_s, engine=plan.engine,
        )  # fmt: skip
        run.rps, run.p99_ms, run.non_2xx, run.errors = load.rps, load.p99_ms, load.non_2xx, load.errors
    except RunFailed as exc:
        run.status, run.reason = "failed", str(exc)
    finally:
        stop_server(process)


def memory(plan: Plan, folders: dict[str, Path], url: str, result: Memory, work: Path) -> None:
    """RSS of serve with the workflows set to `result.count`, after three pages at each end."""
    port = free_port()
    process = _start(plan, folders["osmo"], url, port, work / f"{result.backend}-rss-{result.count}.log")
    watch = RssWatch(process, None)
    watch.start()
    try:
        _wait_ready(port, process, work / f"{result.backend}-rss-{result.count}.log", plan.start_timeout_s)
        _expect(port, _json_probe("PUT", "/_mock/resources/OSMO/workflows", {"count": result.count}), 200)
        count = result.count
        for offset in (0, 20, 40, count - 60, count - 40, count - 20):
            path = f"/api/workflow?offset={offset}&limit=20"
            page = json.loads(_expect(port, _get(path, OSMO_AUTH), 200))
            if page.get("total") != count or len(page.get("workflows", ())) != 20:
                raise RunFailed(f"{path}: total {page.get('total')}, {len(page.get('workflows', ()))} workflows")
            result.pages.append(path)
        # Every worker has served some of the pages: the connections of `send` are spread by the kernel.
        for _ in range(40):
            _expect(port, _get(f"/api/workflow?offset={count - 20}&limit=20", OSMO_AUTH), 200)
        time.sleep(1.0)
        result.settled_bytes = tree_rss_bytes(process.pid)
    except RunFailed as exc:
        result.status, result.reason = "failed", str(exc)
    finally:
        watch.stop()
        stop_server(process)
        result.peak_bytes = watch.peak


def _start(plan: Plan, folder: Path, url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            compare.mock_command(plan, port),
            cwd=log.parent,
            env=compare.mock_env(folder, url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_backend(
    plan: Plan,
    backend: str,
    rounds: int,
    work: Path,
    folders: dict[str, Path],
    scenarios: Sequence[Scenario] = SCENARIOS,
    rss: bool = True,
) -> tuple[list, list]:
    """Every round of the scenarios and the two memory runs, each on a fresh database of `backend`."""
    runs: list[Run] = []
    memories: list[Memory] = []
    for number in range(1, rounds + 1):
        for scenario in scenarios:
            print(f"... {backend}, round {number}: {scenario.title}", file=sys.stderr, flush=True)
            run = Run(backend, scenario.key, number)
            with _database(plan, backend, work, f"{scenario.key}-{number}") as url:
                measure(plan, scenario, folders, url, run, work)
            runs.append(run)
        for count in RSS_COUNTS if rss else ():
            print(f"... {backend}, round {number}: RSS with {count:,} workflows", file=sys.stderr, flush=True)
            result = Memory(backend, count, number)
            with _database(plan, backend, work, f"rss-{count}-{number}") as url:
                memory(plan, folders, url, result, work)
            memories.append(result)
    return runs, memories


class _database:
    """A fresh database for one run: a new SQLite file, or a new PostgreSQL database brought to head."""

    def __init__(self, plan: Plan, backend: str, work: Path, name: str) -> None:
        self.plan, self.backend, self.work, self.name = plan, backend, work, name
        self.dropped: str | None = None

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.work / (self.name + '.sqlite3')}"
        self.dropped, url = compare.create_database(self.plan.postgres_url)
        compare.migrate(self.plan, url)
        return url

    def __exit__(self, *exc: object) -> None:
        if self.dropped is not None:
            compare.drop_database(self.plan.postgres_url, self.dropped)


def summarise(runs: Sequence[Run], memories: Sequence[Memory]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for backend in dict.fromkeys([r.backend for r in runs] + [m.backend for m in memories]):
        medians: dict[str, float] = {}
        for scenario in SCENARIOS:
            if not any(r.backend == backend and r.scenario == scenario.key for r in runs):
                continue  # left out (--scenarios)
            mine = [r for r in runs if r.backend == backend and r.scenario == scenario.key and r.rps is not None]
            row: dict[str, Any] = {"backend": backend, "scenario": scenario.key, "title": scenario.title}
            if mine:
                medians[scenario.key] = row["rps"] = statistics.median(r.rps or 0.0 for r in mine)
                row["p99_ms"] = statistics.median(r.p99_ms or 0.0 for r in mine)
                row["rounds_rps"] = [round(r.rps or 0.0) for r in mine]
                row["non_2xx"] = sum(r.non_2xx for r in mine)
                row["errors"] = sum(r.errors for r in mine)
            rows.append(row)
        for key, reference, least, most in TARGETS:
            ratio = medians[key] / medians[reference] if key in medians and medians.get(reference) else None
            passed = ratio is not None and ratio >= least and (most is None or ratio <= most)
            target = f"{key} / {reference} >= {least}" + (f" and <= {most}" if most else "")
            rows.append({"backend": backend, "target": target, "ratio": ratio, "verdict": _verdict(ratio, passed)})
        settled = {}
        for count in RSS_COUNTS:
            mine_m = [m for m in memories if m.backend == backend and m.count == count and m.settled_bytes]
            if mine_m:
                settled[count] = statistics.median(m.settled_bytes or 0 for m in mine_m)
                peak = max(m.peak_bytes or 0 for m in mine_m)
                rows.append({"backend": backend, "rss_count": count, "settled": settled[count], "peak": peak})
        small, large = (settled.get(count) for count in RSS_COUNTS)
        ratio = large / small if small and large else None
        passed = ratio is not None and ratio <= 1.10
        rows.append({"backend": backend, "target": "RSS at 10,000,000 / at 100 <= 1.10", "ratio": ratio,
                     "verdict": _verdict(ratio, passed)})  # fmt: skip
    return rows


def _verdict(ratio: float | None, passed: bool) -> str:
    return "n/a" if ratio is None else ("PASS" if passed else "MISS")


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    lines = scenario_lines(rows, with_rss=False)
    lines += ["", "| backend | workflows | RSS after the pages (median) | peak RSS |", "| --- | ---: | ---: | ---: |"]
    for row in rows:
        if "rss_count" in row:
            lines.append(
                f"| {row['backend']} | {row['rss_count']:,} | {row['settled'] / compare.MB:.1f} MB | "
                f"{row['peak'] / compare.MB:.1f} MB |"
            )
    return "\n".join([*lines, "", *target_lines(rows)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generated", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per run [5]")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per backend [2]")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of sequential warm-up per run [1]")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a server to create the benchmark databases on ['' skips PostgreSQL; $TEST_POSTGRES_URL]",
    )
    parser.add_argument("--load-wait", type=float, default=0.0, metavar="S", help="wait up to S s for load < 1.5 [0]")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH", help="[bench/out/generated.json]")
    keys = ",".join(scenario.key for scenario in SCENARIOS)
    parser.add_argument("--scenarios", default=keys, help=f"the scenarios to run, comma-separated [{keys}]")
    parser.add_argument("--no-rss", action="store_true", help="leave out the memory runs")
    args = parser.parse_args(argv)
    chosen = [scenario for scenario in SCENARIOS if scenario.key in args.scenarios.split(",")]
    if not chosen:
        parser.error(f"--scenarios names none of {keys}")
    pactmock_bin = compare._venv_bin("pactmock")
    if pactmock_bin is None:
        parser.error("no pactmock console script beside this python or on PATH: pip install -e . first")
    engine = resolve_engine("auto")
    plan = Plan(
        quick=False, scenarios=(), sizes=(), duration_s=args.duration, warmup_s=args.warmup,
        connections=32, engine=engine, workers=None, threads=None, start_timeout_s=60.0,
        stub_start_timeout_s=0.0, stub_rss_limit_bytes=0, stub_max_interactions=0,
        postgres_url=args.postgres_url, pact_bin=None, pactmock_bin=pactmock_bin,
    )  # fmt: skip
    waited, load = wait_for_load(args.load_wait)
    print(f"pactmock serve at its defaults {compare.serve_defaults()}; load {compare.wrk_version() or engine}, "
          f"{plan.connections} connections, {plan.duration_s:g} s x {args.rounds} rounds; "
          f"load average {load:.2f} after waiting {waited:.0f} s")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="pactmock-generated-"))
    started = time.monotonic()
    runs: list[Run] = []
    memories: list[Memory] = []
    try:
        folders = prepare(work)
        for backend in ("sqlite", "postgres") if plan.postgres_url else ("sqlite",):
            more_runs, more_memories = run_backend(plan, backend, args.rounds, work, folders, chosen, not args.no_rss)
            runs += more_runs
            memories += more_memories
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = summarise(runs, memories)
    print(format_table(rows))
    for failed in [r for r in runs if r.status != "ok"] + [m for m in memories if m.status != "ok"]:
        print(f"{failed.backend} {getattr(failed, 'scenario', getattr(failed, 'count', ''))} "
              f"round {failed.round}: {failed.reason}")  # fmt: skip
    document = {
        "machine": compare.machine(),
        "load_average_at_start": load,
        "summary": rows,
        "runs": [vars(run) for run in runs],
        "memory": [vars(m) for m in memories],
        "elapsed_s": time.monotonic() - started,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.json} ({document['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
