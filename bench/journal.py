"""What the request journal costs: the stub path's and POST /runs' req/s with the journal on and off, side by side.

Run from the project root::

    python -m bench.journal                      # 3 rounds of 10 s per scenario and setting
    python -m bench.journal --rounds 1 --duration 60 --only stub   # one minute of load: the journal's bound
    python -m bench.journal --postgres           # POST /runs on PostgreSQL too ($TEST_POSTGRES_URL)

It reuses bench.compare's machinery: each run starts ``pactmock serve`` (the CLI's defaults) on a fresh database,
waits for its first 200, warms it up and loads it with bench.loadgen (32 keep-alive connections), and records the
peak RSS of the server's process tree. The journal is on with its defaults (PACTMOCK_JOURNAL_SIZE=1000, bodies up
to 4 KB) or off (PACTMOCK_JOURNAL_SIZE=0); within a round the order of on and off alternates, so a machine that
gets busier or quieter during the bench weighs on both. After each run with the journal on, the size of the
server's journal files is read (they outlive the server until the next one starts).

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
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench import compare
from bench.loadgen import ENGINES

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
    return sum(path.stat().st_size for path in root.glob(f"{port}-*/*.jsonl"))


def _launch(plan: compare.Plan, work: Path, name: str, setting: str, database_url: str, pact_dir: Path) -> Any:
    port = compare.free_port()
    env = compare.mock_env(pact_dir, database_url)
    env["PACTMOCK_JOURNAL_SIZE"] = SETTINGS[setting]
    stateful = name.startswith("runs")
    launch = compare.Launch(
        compare.MOCK,
        compare.mock_command(plan, port),
        env,
        work / f"{name}-{setting}-{port}.log",
        plan.start_timeout_s,
        None,
        compare.JOB_123_STATE if stateful else compare.REGISTER,
        compare.SUBMIT_RUN if stateful else compare.REGISTER,
    )
    return launch, port


def one_run(plan: compare.Plan, work: Path, name: str, round_number: int, setting: str, postgres: str) -> Run:
    """Start a server for the scenario with the journal on or off, load it, and say what was measured."""
    pact_dir = work / "stub" if name == "stub" else compare.ROOT / "pacts"
    dropped: str | None = None
    if name == "runs-postgres":
        dropped, database_url = compare.create_database(postgres)
        compare.migrate(plan, database_url)
    else:
        database_url = f"sqlite:///{work / f'{name}-{setting}-{round_number}.sqlite3'}"
    launch, port = _launch(plan, work, name, setting, database_url, pact_dir)
    row = compare.Row(name, name, 0, compare.MOCK)
    compare._progress(f"round {round_number}: {name}, journal {setting}")
    try:
        compare.measure(launch, port, plan, row)
    finally:
        if dropped is not None:
            compare.drop_database(postgres, dropped)
    disk = _journal_disk_bytes(port) if setting == "on" else None
    return Run(
        name, round_number, setting, row.rps, row.p50_ms, row.p99_ms, row.non_2xx, row.errors,
        row.peak_rss_bytes, disk, row.status, row.reason,
    )  # fmt: skip


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
        f"{'scenario':<14} {'round':>5} {'off req/s':>10} {'on req/s':>10} {'on/off':>7} {'RSS on MB':>9} {'files KB':>8}"
    ]
    for name in dict.fromkeys(r.scenario for r in runs):
        for number in sorted({r.round for r in runs if r.scenario == name}):
            pair = {r.journal: r for r in runs if r.scenario == name and r.round == number}
            on, off = pair.get("on"), pair.get("off")
            ratio = f"{on.rps / off.rps:.3f}" if on and off and on.rps and off.rps else "-"
            rss = f"{on.peak_rss_bytes / 2**20:.0f}" if on and on.peak_rss_bytes else "-"
            disk = f"{on.journal_disk_bytes / 1024:.0f}" if on and on.journal_disk_bytes is not None else "-"
            off_rps = f"{off.rps:.0f}" if off and off.rps else (off.reason or "-") if off else "-"
            on_rps = f"{on.rps:.0f}" if on and on.rps else (on.reason or "-") if on else "-"
            lines.append(f"{name:<14} {number:>5} {off_rps:>10} {on_rps:>10} {ratio:>7} {rss:>9} {disk:>8}")
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
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per run [10]")
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
                order = ("off", "on") if number % 2 else ("on", "off")
                runs += [one_run(plan, work, name, number, setting, plan.postgres_url) for setting in order]
    print(format_runs(runs))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": compare.machine(), "runs": [asdict(r) for r in runs], "summary": summary(runs)}
    args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
