"""What the request journal costs: the stub path's and POST /runs' req/s with the journal on and off, side by side.

Run from the project root::

    python -m bench.journal                      # 3 rounds of 10 s per scenario and setting
    python -m bench.journal --rounds 1 --duration 60 --only stub   # one minute of load: the journal's bound
    python -m bench.journal --postgres           # POST /runs on PostgreSQL too ($TEST_POSTGRES_URL)

It reuses bench.compare's machinery (its server command, environment, probes, RSS watch and bench.loadgen with 32
keep-alive connections). A round starts two ``pactmock serve`` (the CLI's defaults), each on its own fresh
database: one with the journal on with its defaults (PACTMOCK_JOURNAL_SIZE=1000, bodies up to 4 KB), one with it
off (PACTMOCK_JOURNAL_SIZE=0). After a warm-up, the two are loaded in turn, in --slices slices of --duration/slices
seconds each (on, off, off, on, ...), never both at once: on a shared machine whose load comes and goes, both see
the same share of it. A round's req/s is its requests over its loaded seconds. Peak RSS of each server's process
tree is watched throughout, and the size of the journal files is read at the end of the round.

Scenarios:

* stub: ``POST /jobs/register`` of a copy of pacts/epx-epistemix.json whose provider is renamed, so the contract
  answers with no database work (bench.compare's scenario a);
* runs-sqlite (and runs-postgres with --postgres): the stateful ``POST /runs`` of provider Epistemix after the
  provider state ``job 123 exists`` (bench.compare's scenario c).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from app.web.journal_slots import SUFFIX, disk_bytes
from bench import compare
from bench.loadgen import ENGINES, run_load

DEFAULT_JSON = compare.ROOT / "bench" / "out" / "journal.json"
SETTINGS = {"on": "1000", "off": "0"}
TARGET_COST = 0.10


@dataclass
class Run:
    """One server run: a scenario, a round, the journal on or off, and what bench.compare measured."""

    scenario: str
    round: int
    journal: str
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    non_2xx: int | None
    errors: int | None
    peak_rss_bytes: int | None
    journal_disk_bytes: int | None
    status: str
    reason: str | None


def _journal_disk_bytes(port: int) -> int:
    root = Path(tempfile.gettempdir()) / f"pactmock-journal-{os.getuid()}"
    return sum(disk_bytes(path) for path in root.glob(f"{port}-*/*{SUFFIX}"))


@dataclass
class Server:
    """One running ``pactmock serve`` with the journal on or off, and the counts of its load slices."""

    setting: str
    port: int
    process: subprocess.Popen[bytes]
    watch: compare.RssWatch
    log_dir: Path
    requests: int = 0
    seconds: float = 0.0
    p50s: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)
    non_2xx: int = 0
    errors: int = 0


def _start(plan: compare.Plan, work: Path, name: str, setting: str, database_url: str, pact_dir: Path) -> Server:
    port = compare.free_port()
    env = compare.mock_env(pact_dir, database_url)
    env["PACTMOCK_JOURNAL_SIZE"] = SETTINGS[setting]
    with (work / f"{name}-{setting}-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            compare.mock_command(plan, port), cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    watch = compare.RssWatch(process, None)
    watch.start()
    return Server(setting, port, process, watch, work)


def _ready(server: Server, name: str, deadline_s: float) -> None:
    """Until the server answers its first 200 (the provider state for POST /runs), then its load's request."""
    ready = compare.JOB_123_STATE if name.startswith("runs") else compare.REGISTER
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = next(server.log_dir.glob(f"*-{server.setting}-{server.port}.log"), None)
            tail = compare._log_tail(log) if log else ""
            raise RuntimeError(f"journal {server.setting}: the server exited with {server.process.returncode}: {tail}")
        try:
            if compare.send(server.port, ready, 5.0)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        raise RuntimeError(f"journal {server.setting}: no 200 within {deadline_s:g} s")


def _load(plan: compare.Plan, server: Server, probe: Any, seconds: float) -> None:
    result = run_load(
        f"http://{compare.HOST}:{server.port}{probe.path}", probe.method, probe.headers, probe.body,
        plan.connections, seconds, engine=plan.engine,
    )  # fmt: skip
    server.requests += result.requests
    server.seconds += result.duration_s or seconds
    server.non_2xx += result.non_2xx
    server.errors += result.errors
    if result.requests:
        server.p50s.append(result.p50_ms)
        server.p99s.append(result.p99_ms)


def one_round(plan: compare.Plan, work: Path, name: str, number: int, slices: int, postgres: str) -> list[Run]:
    """Both servers up, warmed, then loaded in turn slice by slice; one Run for each."""
    pact_dir = work / "stub" if name == "stub" else compare.ROOT / "pacts"
    probe = compare.SUBMIT_RUN if name.startswith("runs") else compare.REGISTER
    databases: list[str] = []
    servers: list[Server] = []
    compare._progress(f"round {number}: {name}, journal on and off in {slices} slices each")
    try:
        for setting in ("on", "off"):
            if name == "runs-postgres":
                database, url = compare.create_database(postgres)
                databases.append(database)
                compare.migrate(plan, url)
            else:
                url = f"sqlite:///{work / f'{name}-{setting}-{number}.sqlite3'}"
            servers.append(_start(plan, work, name, setting, url, pact_dir))
        for server in servers:
            _ready(server, name, plan.start_timeout_s)
            _load(plan, server, probe, plan.warmup_s)
            server.requests, server.seconds, server.p50s, server.p99s = 0, 0.0, [], []
            server.non_2xx = server.errors = 0
        for index in range(slices):
            turn = servers if index % 2 == 0 else servers[::-1]
            for server in turn:
                _load(plan, server, probe, plan.duration_s / slices)
        disk = {s.setting: _journal_disk_bytes(s.port) for s in servers}
    finally:
        for server in servers:
            server.watch.stop()
            compare.stop_server(server.process)
        for database in databases:
            compare.drop_database(postgres, database)
    return [
        Run(
            name,
            number,
            s.setting,
            s.requests / s.seconds if s.seconds else None,
            statistics.median(s.p50s) if s.p50s else None,
            max(s.p99s) if s.p99s else None,
            s.non_2xx,
            s.errors,
            s.watch.peak,
            disk[s.setting] if s.setting == "on" else None,
            "ok",
            None,
        )
        for s in servers
    ]


def _stub_pact(work: Path) -> None:
    folder = work / "stub"
    folder.mkdir()
    pact = json.loads(compare.EPX_PACT.read_text(encoding="utf-8"))
    pact["provider"]["name"] = compare.STUB_PROVIDER
    (folder / "epx-epistemixstub.json").write_text(json.dumps(pact, indent=2) + "\n", encoding="utf-8")


def summary(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per scenario: the median req/s on and off over the rounds, and the journal's cost in per cent."""
    rows: list[dict[str, Any]] = []
    for name in dict.fromkeys(r.scenario for r in runs):
        on = [r.rps for r in runs if r.scenario == name and r.journal == "on" and r.rps]
        off = [r.rps for r in runs if r.scenario == name and r.journal == "off" and r.rps]
        if not on or not off:
            rows.append({"scenario": name, "verdict": "n/a"})
            continue
        median_on, median_off = statistics.median(on), statistics.median(off)
        cost = 1 - median_on / median_off
        rows.append(
            {
                "scenario": name,
                "median_rps_on": round(median_on, 1),
                "median_rps_off": round(median_off, 1),
                "cost": round(cost, 4),
                "verdict": "PASS" if cost <= TARGET_COST else "MISS",
            }
        )
    return rows


def format_runs(runs: Sequence[Run]) -> str:
    """The runs side by side: per scenario and round, req/s off and on, and the on run's RSS and journal files."""
    lines = [
        f"{'scenario':<14} {'round':>5} {'off req/s':>10} {'on req/s':>10} {'on/off':>7} {'RSS off/on MB':>13} {'files KB':>8}"
    ]
    for name in dict.fromkeys(r.scenario for r in runs):
        for number in sorted({r.round for r in runs if r.scenario == name}):
            pair = {r.journal: r for r in runs if r.scenario == name and r.round == number}
            on, off = pair.get("on"), pair.get("off")
            ratio = f"{on.rps / off.rps:.3f}" if on and off and on.rps and off.rps else "-"
            rss = "/".join(f"{r.peak_rss_bytes / 2**20:.0f}" if r and r.peak_rss_bytes else "-" for r in (off, on))
            disk = f"{on.journal_disk_bytes / 1024:.0f}" if on and on.journal_disk_bytes is not None else "-"
            off_rps = f"{off.rps:.0f}" if off and off.rps else (off.reason or "-") if off else "-"
            on_rps = f"{on.rps:.0f}" if on and on.rps else (on.reason or "-") if on else "-"
            lines.append(f"{name:<14} {number:>5} {off_rps:>10} {on_rps:>10} {ratio:>7} {rss:>13} {disk:>8}")
    for row in summary(runs):
        if row["verdict"] == "n/a":
            lines.append(f"{row['scenario']}: not measured")
            continue
        lines.append(
            f"{row['scenario']}: median {row['median_rps_off']:.0f} req/s off, {row['median_rps_on']:.0f} on: "
            f"the journal costs {row['cost'] * 100:.1f}% (target <= {TARGET_COST * 100:.0f}%): {row['verdict']}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rounds, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.journal", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per server and round [10]")
    parser.add_argument("--slices", type=int, default=10, help="turns each server's load is cut into [10]")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--engine", choices=ENGINES, default="auto")
    parser.add_argument("--only", action="append", choices=("stub", "runs-sqlite", "runs-postgres"))
    parser.add_argument("--postgres", action="store_true", help="POST /runs on PostgreSQL too")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    plan, _ = compare.parse_args(["--only", "a", "--connections", str(args.connections), "--engine", args.engine])
    plan = replace(plan, duration_s=args.duration, warmup_s=args.warmup, quiet_wait_s=0.0)
    scenarios = args.only or ["stub", "runs-sqlite", *(["runs-postgres"] if args.postgres else [])]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="pactmock-bench-journal-") as folder:
        work = Path(folder)
        _stub_pact(work)
        for number in range(1, args.rounds + 1):
            for name in scenarios:
                try:
                    runs += one_round(plan, work, name, number, args.slices, plan.postgres_url)
                except RuntimeError as error:  # one failed round is reported, the others still run
                    runs += [
                        Run(name, number, s, None, None, None, None, None, None, None, "failed", str(error))
                        for s in ("on", "off")
                    ]
    print(format_runs(runs))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": compare.machine(), "runs": [asdict(r) for r in runs], "summary": summary(runs)}
    args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
