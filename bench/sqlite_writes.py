"""POST /runs on SQLite and PostgreSQL beside Mockoon's in-memory CRUD POST of the same body (issue 15, targets 3-4).

Run from the project root::

    python -m bench.sqlite_writes                              # this tree: SQLite, PostgreSQL, Mockoon; 3 rounds x 8 s
    python -m bench.sqlite_writes --backend sqlite --rounds 3 --duration 5
    python -m bench.sqlite_writes --variant before=/tmp/base --variant after=.   # code trees side by side
    python -m bench.sqlite_writes --variant one=. --args one="--workers 1 --threads 4" --env one:NAME=VALUE
    python -m bench.sqlite_writes --mockoon ''                 # no Mockoon rows

A variant is a code tree (``python -m app.cli serve`` is run in it with this virtualenv's python) plus its own
``serve`` arguments and environment. Rounds alternate the variants (and Mockoon), so a machine that gets busier
or quieter during the run tilts every row alike. Each server starts on a fresh database (a fresh SQLite file; a
fresh PostgreSQL database migrated with ``db upgrade``), gets the provider state ``job 123 exists``, is warmed up
with sequential requests, then wrk keeps 32 connections posting the epx client's run submission for
``--duration`` seconds. Mockoon (``--mockoon``, the folder ``npm install --prefix DIR @mockoon/cli`` filled)
serves a CRUD route ``/runs`` over an empty data bucket (its CLI's defaults but ``--disable-log-to-file``, as\nbench/peers_servers.py runs it); it gets the same body and headers.

Per run: req/s, p50 and p99, non-2xx, the server's CPU (all its processes, in cores over the load) and the load
average just before. Every run is wrapped in ``flock /tmp/bench.lock`` by the caller, not here. Nothing is judged.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.compare import (
    HOST,
    JOB_123_STATE,
    SUBMIT_RUN,
    create_database,
    drop_database,
    free_port,
    process_tree,
    send,
    stop_server,
)
from bench.loadgen import run_load

ROOT = Path(__file__).resolve().parents[1]
MOCKOON_NAME = "mockoon"
START_TIMEOUT_S = 60.0


@dataclass
class Variant:
    name: str
    tree: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    variant: str
    backend: str
    round: int
    loadavg: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx: int = 0
    errors: int = 0
    cores: float | None = None
    failure: str | None = None


def cpu_seconds(root: int) -> float:
    """User and system CPU seconds of `root` and its descendants so far (/proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def loadavg() -> str:
    with open("/proc/loadavg", encoding="ascii") as handle:
        return " ".join(handle.read().split()[:3])


def wait_for(port: int, probe_ok: object, deadline: float, process: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        try:
            status, body, _ = send(port, probe_ok, 5)  # type: ignore[arg-type]
        except OSError:
            time.sleep(0.1)
            continue
        if status in (200, 201):
            return
        raise RuntimeError(f"answered {status}: {body[:300]!r}")
    raise RuntimeError("no answer in time")


def load(process: subprocess.Popen[bytes], port: int, result: Result, duration_s: float, warmup_s: float) -> None:
    """Warm up with sequential requests, then load with wrk; fill `result`."""
    until = time.monotonic() + warmup_s
    while time.monotonic() < until:
        status, body, _ = send(port, SUBMIT_RUN, 10)
        if status not in (200, 201):
            raise RuntimeError(f"warm-up answered {status}: {body[:300]!r}")
    result.loadavg = loadavg()
    before = cpu_seconds(process.pid)
    started = time.monotonic()
    measured = run_load(
        f"http://{HOST}:{port}{SUBMIT_RUN.path}",
        SUBMIT_RUN.method,
        SUBMIT_RUN.headers,
        SUBMIT_RUN.body,
        32,
        duration_s,
        engine="wrk",
    )
    result.cores = (cpu_seconds(process.pid) - before) / (time.monotonic() - started)
    result.rps, result.p50_ms, result.p99_ms = measured.rps, measured.p50_ms, measured.p99_ms
    result.non_2xx, result.errors = measured.non_2xx, measured.errors


def run_pactmock(
    variant: Variant, backend: str, url: str, work: Path, result: Result, plan: argparse.Namespace
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTMOCK_", "FLASK_", "DATABASE_"))}
    env.update(PACT_DIR=str(ROOT / "pacts"), DATABASE_URL=url, PYTHONUNBUFFERED="1", **variant.env)
    env["PYTHONPATH"] = str(variant.tree)
    if backend == "postgresql":
        subprocess.run(
            [sys.executable, "-m", "app.cli", "db", "upgrade"],
            cwd=variant.tree,
            env=env,
            check=True,
            capture_output=True,
        )
    port = free_port()
    command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port), *variant.args]
    log = work / f"{variant.name}-{backend}-{result.round}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=variant.tree, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for(port, JOB_123_STATE, time.monotonic() + START_TIMEOUT_S, process)
        load(process, port, result, plan.duration, plan.warmup)
    finally:
        stop_server(process)


MOCKOON_ENVIRONMENT = {
    "uuid": "5f1b7a8e-0000-4000-8000-000000000001",
    "lastMigration": 33,
    "name": "runs",
    "endpointPrefix": "",
    "latency": 0,
    "port": 0,
    "hostname": "127.0.0.1",
    "routes": [
        {
            "uuid": "5f1b7a8e-0000-4000-8000-000000000002",
            "type": "crud",
            "documentation": "",
            "method": "",
            "endpoint": "runs",
            "responses": [
                {
                    "uuid": "5f1b7a8e-0000-4000-8000-000000000003",
                    "body": "{}",
                    "latency": 0,
                    "statusCode": 200,
                    "label": "",
                    "headers": [],
                    "bodyType": "DATABUCKET",
                    "filePath": "",
                    "databucketID": "5f1b7a8e-0000-4000-8000-000000000004",
                    "sendFileAsBody": False,
                    "rules": [],
                    "rulesOperator": "OR",
                    "disableTemplating": False,
                    "fallbackTo404": False,
                    "default": True,
                    "crudKey": "id",
                    "callbacks": [],
                }
            ],
            "responseMode": None,
            "streamingMode": None,
            "streamingInterval": 0,
        }
    ],
    "rootChildren": [{"type": "route", "uuid": "5f1b7a8e-0000-4000-8000-000000000002"}],
    "folders": [],
    "data": [
        {
            "uuid": "5f1b7a8e-0000-4000-8000-000000000004",
            "id": "runs",
            "name": "runs",
            "documentation": "",
            "value": "[]",
        }
    ],
    "proxyMode": False,
    "proxyHost": "",
    "proxyRemovePrefix": False,
    "tlsOptions": {
        "enabled": False,
        "type": "CERT",
        "pfxPath": "",
        "certPath": "",
        "keyPath": "",
        "caPath": "",
        "passphrase": "",
    },
    "cors": False,
    "headers": [{"key": "Content-Type", "value": "application/json"}],
    "proxyReqHeaders": [],
    "proxyResHeaders": [],
    "callbacks": [],
}


def run_mockoon(folder: Path, work: Path, result: Result, plan: argparse.Namespace) -> None:
    data = work / "mockoon-runs.json"
    data.write_text(json.dumps(MOCKOON_ENVIRONMENT), encoding="utf-8")
    port = free_port()
    cli = folder / "node_modules" / "@mockoon" / "cli" / "bin" / "run.js"
    log = work / f"mockoon-{result.round}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", str(cli), "start", "--data", str(data), "--port", str(port), "--disable-log-to-file"],
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(port, SUBMIT_RUN, time.monotonic() + START_TIMEOUT_S, process)
        load(process, port, result, plan.duration, plan.warmup)
    finally:
        stop_server(process)


def one_run(kind: str, variant: Variant | None, backend: str, rnd: int, work: Path, plan: argparse.Namespace) -> Result:
    result = Result(variant.name if variant else MOCKOON_NAME, backend, rnd, loadavg())
    name = None
    try:
        if variant is None:
            run_mockoon(Path(plan.mockoon).resolve(), work, result, plan)
        elif backend == "sqlite":
            run_pactmock(variant, backend, f"sqlite:///{work / f'{variant.name}-{rnd}.sqlite3'}", work, result, plan)
        else:
            name, url = create_database(plan.postgres_url)
            run_pactmock(variant, backend, url, work, result, plan)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        result.failure = str(exc)[:300]
    finally:
        if name is not None:
            drop_database(plan.postgres_url, name)
    return result


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(results: Sequence[Result]) -> str:
    lines = [
        "| server | backend | req/s median (rounds) | p50 ms median | p99 ms median (rounds) | cores | load avg before |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    groups: dict[tuple[str, str], list[Result]] = {}
    for result in results:
        groups.setdefault((result.variant, result.backend), []).append(result)
    for (name, backend), rows in groups.items():
        ok = [r for r in rows if r.rps is not None]
        if not ok:
            lines.append(f"| {name} | {backend} | failed: {rows[0].failure} | | | | |")
            continue
        rps = statistics.median(r.rps or 0 for r in ok)
        p50 = statistics.median(r.p50_ms or 0 for r in ok)
        p99 = statistics.median(r.p99_ms or 0 for r in ok)
        cores = statistics.median(r.cores or 0 for r in ok)
        bad = sum(r.non_2xx + r.errors for r in ok)
        each_rps = ", ".join(_fmt(r.rps) for r in ok)
        each_p99 = ", ".join(_fmt(r.p99_ms, 1) for r in ok)
        note = f" ({bad} non-2xx/errors)" if bad else ""
        loads = "; ".join(r.loadavg.split()[0] for r in ok)
        lines.append(
            f"| {name} | {backend} | {_fmt(rps)} ({each_rps}){note} | {_fmt(p50, 1)} | {_fmt(p99, 1)} ({each_p99}) "
            f"| {_fmt(cores, 2)} | {loads} |"
        )
    return "\n".join(lines)


def parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[Variant]]:
    parser = argparse.ArgumentParser(prog="python -m bench.sqlite_writes", description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=TREE", help="a code tree [this one]")
    parser.add_argument("--args", action="append", default=[], metavar="NAME=ARGS", help="serve arguments of NAME")
    parser.add_argument("--env", action="append", default=[], metavar="NAME:KEY=VALUE", help="environment of NAME")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"), help="[both]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--mockoon", default="/tmp/peers", help="npm prefix holding @mockoon/cli ['' skips it]")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--json", type=Path, help="write every run here")
    args = parser.parse_args(argv)
    variants = [Variant(*spec.split("=", 1)) for spec in args.variant] or [Variant("pactmock", ROOT)]
    by_name = {v.name: v for v in variants}
    for v in variants:
        v.tree = Path(v.tree).resolve()
    for spec in args.args:
        name, text = spec.split("=", 1)
        by_name[name].args = shlex.split(text)
    for spec in args.env:
        name, pair = spec.split(":", 1)
        key, value = pair.split("=", 1)
        by_name[name].env[key] = value
    return args, variants


def main(argv: Sequence[str] | None = None) -> int:
    plan, variants = parse(argv)
    backends = plan.backend or ["sqlite", "postgresql"]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sqlite-writes-") as folder:
        work = Path(folder)
        for rnd in range(1, plan.rounds + 1):
            for backend in backends:
                for variant in variants:
                    results.append(one_run("pactmock", variant, backend, rnd, work, plan))
                    print(json.dumps(asdict(results[-1])), flush=True)
            if plan.mockoon:
                results.append(one_run(MOCKOON_NAME, None, "memory", rnd, work, plan))
                print(json.dumps(asdict(results[-1])), flush=True)
    print(table(results))
    if plan.json:
        plan.json.write_text(json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
