"""A soak of `pactmock serve`: a steady request rate with the fault mix, for ten minutes by default.

Run from the project root::

    python -m bench.soak                                   # 600 s at 200 req/s on PostgreSQL, outages included
    python -m bench.soak --duration 60 --outage-every 20 --outage-length 5   # a short look while developing
    python -m bench.soak --backend sqlite --duration 5     # the CI smoke (no outages: SQLite is a file)
    python -m bench.soak --json bench/out/soak.json --png bench/out/soak.png --log bench/out/soak-server.log

The mock runs exactly as users start it: this virtualenv's ``pactmock serve --host 127.0.0.1 --port P`` with the
CLI's defaults, ``PACT_DIR`` a copy of the repository's pacts and ``DATABASE_URL`` a fresh SQLite file or a fresh
PostgreSQL database (created on ``--postgres-url``, migrated with ``pactmock db upgrade``, dropped afterwards).
On PostgreSQL the mock reaches the database through ``bench.soak_proxy``, which the soak cuts every
``--outage-every`` seconds for ``--outage-length`` seconds (resetting every connection and refusing new ones),
then restores, and waits for ``/health`` to answer 200 again.

``--clients`` threads, each with its own keep-alive connection, take requests off a steady schedule of
``--rate`` per second (an open loop: a slow answer does not slow the schedule; if every client is busy a request
waits, shown as lag, and past two seconds of backlog it is skipped and counted). The mix is bench.soak_traffic's:
good requests (jobs, runs, uploads with sha256 checks), bad input, and control-plane calls.

Reported every ``--interval`` seconds and at the end: requests by class (good, bad input, control plane, and any
request in flight during an outage), 2xx/4xx/5xx, errors (no answer: connection errors and timeouts), answers
wrong for their request, p50/p99 of the good requests (time in flight, outside outages) and the RSS summed over
the server's processes (sampled each second from /proc). At the end the database is read directly: every job,
run and upload the mock acknowledged must be there, uploads with the sha256 acknowledged. Then the verdicts:
exit 0 when every judged verdict passes, 1 when one fails, 2 when the soak could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import math
import queue
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import soak_report as report
from .compare import busy_seconds
from .soak_client import Client, Failed
from .soak_results import cpu_summary, server_log_findings, verify, write_json
from .soak_server import (
    HOST,
    Mock,
    ProxyProcess,
    SetupFailed,
    cpu_seconds,
    default_postgres_url,
    fresh_postgres,
    rss_by_process,
    snapshot_pacts,
    start_mock,
    stop_mock,
    through_proxy,
    upstream_of,
)
from .soak_slow_peers import SlowPeers
from .soak_traffic import Ledger, pick
from .soak_verdicts import Findings, judge_run

# How many seconds of schedule may wait for a free client before requests are skipped instead.
BACKLOG_S = 2.0
RECOVERY_LIMIT_S = 60.0


@dataclass(frozen=True)
class Plan:
    duration: float
    rate: float
    backend: str
    interval: float
    outage_every: float
    outage_length: float
    clients: int
    seed: int
    postgres_url: str
    json_path: Path | None
    png_path: Path | None
    log_path: Path | None
    rss_slope_limit: float
    slow_peers: int


class Soak:
    """One soak against a running mock; ``proxy`` (PostgreSQL only) is what the outages cut."""

    def __init__(self, plan: Plan, mock: Mock, proxy: ProxyProcess | None) -> None:
        self.plan, self.mock, self.proxy = plan, mock, proxy
        self.ledger = Ledger()
        self.outcomes: list[report.Outcome] = []
        self.outages: list[report.Outage] = []
        self.rss: list[report.RssSample] = []
        self.skipped = 0
        self.server_exit: int | None = None  # set when the server exits by itself during the soak
        self.died_at: float | None = None
        self.slow_peer_outcomes: dict[str, int] = {}
        self.tickets: queue.Queue[float | None] = queue.Queue(maxsize=max(1, int(plan.rate * BACKLOG_S)))
        self.done = threading.Event()
        self.started = time.monotonic()
        self.started_wall = time.time()
        # This process's own full collections (seconds into the run, milliseconds): a pause here delays every
        # request in flight, and the server is not to blame for it.
        self.gc_pauses: list[tuple[float, float]] = []
        self._gc_began = 0.0

    def now(self) -> float:
        return time.monotonic() - self.started

    def run(self) -> None:
        workers = [
            threading.Thread(target=self._work, args=(i,), name=f"client-{i}", daemon=True)
            for i in range(self.plan.clients)
        ]
        helpers = [threading.Thread(target=self._sample_rss, name="rss", daemon=True)]
        if self.proxy is not None and self.plan.outage_every > 0:
            helpers.append(threading.Thread(target=self._cut_database, name="outages", daemon=True))
        helpers.append(threading.Thread(target=self._report_live, name="report", daemon=True))
        slow_peers = SlowPeers("127.0.0.1", self.mock.port, self.plan.slow_peers)
        slow_peers.start()
        self.started = time.monotonic()
        self.started_wall = time.time()
        gc.freeze()  # what was made before the load is never traversed again
        gc.callbacks.append(self._timed_collection)
        try:
            for thread in workers + helpers:
                thread.start()
            self._schedule()
            for thread in workers:
                thread.join()
        finally:
            gc.callbacks.remove(self._timed_collection)
        slow_peers.stop()
        self.slow_peer_outcomes = dict(slow_peers.outcomes)
        self.done.set()
        for thread in helpers:
            thread.join(RECOVERY_LIMIT_S + 15)

    def _schedule(self) -> None:
        tick = 0
        while (due := tick / self.plan.rate) < self.plan.duration and self.server_exit is None:
            wait = due - self.now()
            if wait > 0:
                time.sleep(wait)
            try:
                self.tickets.put_nowait(due)
            except queue.Full:
                self.skipped += 1
            tick += 1
        for _ in range(self.plan.clients):
            self.tickets.put(None)

    def _work(self, index: int) -> None:
        rng = random.Random(self.plan.seed * 1000 + index)
        client = Client(HOST, self.mock.port)
        while (due := self.tickets.get()) is not None:
            call = pick(self.ledger, rng)
            start = self.now()
            status = failure = problem = None
            outage_answer = False
            try:
                reply = client.send(call)
            except Failed as exc:
                failure, problem = exc.kind, str(exc)
            else:
                status = reply.status
                try:
                    problem = call.expect(reply)
                    outage_answer = call.outage_ok(reply)
                except Exception as exc:  # a fault of the soak's own checks: shown, never a dead client thread
                    problem = f"the soak's check of this answer raised {exc!r}"
            outcome = report.Outcome(
                call.op, call.kind, due, start, self.now(), status, failure, problem, outage_answer
            )
            self.outcomes.append(outcome)  # list.append is atomic: no lock needed
        client.close()

    def _sample_rss(self) -> None:
        while not self.done.is_set():
            if self.mock.process.poll() is not None:
                # Nothing left to soak: the schedule stops, and the verdicts say the server died.
                self.server_exit = self.mock.process.returncode
                self.died_at = self.now()
                _progress(f"the server exited with {self.server_exit} at {self.now():.0f} s; stopping the soak")
                return
            processes = rss_by_process(self.mock.process.pid)
            if processes:
                cpu = cpu_seconds(processes)
                sample = report.RssSample(self.now(), sum(processes.values()), processes, cpu, busy_seconds())
                self.rss.append(sample)
            self.done.wait(1.0)

    def _cut_database(self) -> None:
        assert self.proxy is not None
        span = report.windows(self.plan.duration)[1]
        cut_at = self.plan.outage_every
        # Outages stay clear of the last window, where memory and latency are compared with the first.
        while cut_at + self.plan.outage_length + 5 <= span[0]:
            if self.done.wait(max(0.0, cut_at - self.now())):
                return
            outage = report.Outage(self.now())
            outage.connections_reset = self.proxy.cut()
            self.outages.append(outage)
            self.done.wait(self.plan.outage_length)
            self.proxy.restore()
            outage.restored_at = self.now()
            recovered_at = self._await_health(outage.restored_at + RECOVERY_LIMIT_S)
            outage.recovered = recovered_at is not None
            # Without a recovery, what follows is judged as outside the outage again (and fails as it should).
            outage.recovered_at = recovered_at if recovered_at is not None else self.now()
            back = outage.recovered_at - outage.restored_at
            _progress(
                f"outage at {outage.cut_at:.0f} s: {outage.connections_reset} connections reset; "
                + (
                    f"/health 200 {back:.1f} s after the restore"
                    if outage.recovered
                    else f"no /health 200 in {back:.0f} s"
                )
            )
            cut_at += self.plan.outage_every

    def _await_health(self, deadline: float) -> float | None:
        while self.now() < deadline:
            connection = http.client.HTTPConnection(HOST, self.mock.port, timeout=10)
            try:
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return self.now()
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
            time.sleep(0.2)
        return None

    def _timed_collection(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.gc_pauses.append((self.now(), (time.perf_counter() - self._gc_began) * 1000))

    def _report_live(self) -> None:
        length = self.plan.interval
        for shown in range(math.ceil(self.plan.duration / length - 1e-9)):
            # A second past the interval's end: what was sent in it has mostly been answered.
            if self.done.wait(max(0.0, min(self.plan.duration, (shown + 1) * length) + 1 - self.now())):
                return
            # Only this interval's requests are judged: judging all so far took longer every time, and the
            # client threads waited for this one while it held the interpreter (their latencies grew with it).
            begin = shown * length
            outcomes = [
                o for o in self.outcomes[-int(3 * length * self.plan.rate) :] if begin <= o.start < begin + length
            ]
            judged = report.judge(outcomes, self.outages, self.now())
            rows = report.intervals(outcomes, judged, list(self.rss), length, self.plan.duration)
            _progress(_live_line(rows[shown]))
            # The requests kept so far are moved out of the collector's way: a full collection would otherwise
            # walk all of them, a pause that grows through the run (24 ms at 120,000 outcomes on this machine).
            gc.freeze()


def _live_line(row: report.Interval) -> str:
    p99 = "–" if row.p99_ms is None else f"{row.p99_ms:.0f} ms"
    rss = "–" if row.rss_mb is None else f"{row.rss_mb:.0f} MB"
    return (
        f"{row.start:4.0f}–{row.end:.0f} s: good {row.good}, bad {row.bad}, ctrl {row.control}, "
        f"outage {row.during_outage} | 2xx {row.ok_2xx}, 4xx {row.client_4xx}, 5xx {row.server_5xx} "
        f"({row.outage_503} outage 503), errors {row.errors}, wrong {row.wrong} | good p99 {p99} | RSS {rss}"
    )


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


# --- main ---------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Plan:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load [600]")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second, steady [200]")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql", help="[postgresql]")
    parser.add_argument("--interval", type=float, help="seconds per report row [30; a fifth of shorter runs]")
    parser.add_argument("--outage-every", type=float, default=120.0, help="seconds between outages, 0 for none [120]")
    parser.add_argument("--outage-length", type=float, default=15.0, help="seconds PostgreSQL stays cut off [15]")
    parser.add_argument("--clients", type=int, default=32, help="client threads, one connection each [32]")
    parser.add_argument("--seed", type=int, default=1, help="seeds the request mix [1]")
    parser.add_argument("--postgres-url", default=default_postgres_url(), help="[$TEST_POSTGRES_URL or local]")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure here")
    parser.add_argument("--png", type=Path, metavar="PATH", help="plot p50/p99 and RSS over time (matplotlib)")
    parser.add_argument("--log", type=Path, metavar="PATH", help="keep the server's log here")
    parser.add_argument("--slow-peers", type=int, default=16, help="slow-body and slow-header connections held [16]")
    parser.add_argument("--rss-slope-limit", type=float, default=0.5, help="flat memory: MB/min at most [0.5]")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.rate <= 0 or args.clients < 1:
        parser.error("--duration, --rate and --clients must be positive")
    interval = args.interval or (30.0 if args.duration >= 300 else max(1.0, args.duration / 5))
    return Plan(
        duration=args.duration,
        rate=args.rate,
        backend=args.backend,
        interval=interval,
        outage_every=args.outage_every,
        outage_length=args.outage_length,
        clients=args.clients,
        seed=args.seed,
        postgres_url=args.postgres_url,
        json_path=args.json,
        png_path=args.png,
        log_path=args.log,
        rss_slope_limit=args.rss_slope_limit,
        slow_peers=args.slow_peers,
    )


def main(argv: Sequence[str] | None = None) -> int:
    plan = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pactmock-soak-"))
    try:
        with contextlib.ExitStack() as stack:
            if plan.backend == "sqlite":
                direct_url = served_url = f"sqlite:///{work / 'soak.sqlite3'}"
                proxy = None
            else:
                direct_url = stack.enter_context(fresh_postgres(plan.postgres_url))
                proxy = ProxyProcess(*upstream_of(direct_url))
                stack.callback(proxy.close)
                served_url = through_proxy(direct_url, proxy)
            mock = start_mock(served_url, work, snapshot_pacts(work))
            stack.callback(stop_mock, mock)
            _progress(f"{' '.join(mock.command)} on {plan.backend}: {plan.rate:g} req/s for {plan.duration:g} s")
            soak = Soak(plan, mock, proxy)
            soak.run()
            server_exit = stop_mock(mock)
            if plan.log_path:
                plan.log_path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(mock.log_path, plan.log_path)
            verification = verify(soak.ledger, direct_url, soak.started_wall)
            return _finish(plan, soak, mock, verification, server_exit)
    except SetupFailed as exc:
        print(f"soak not run: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _finish(plan: Plan, soak: Soak, mock: Mock, verification: dict[str, Any], server_exit: int | None) -> int:
    outcomes = soak.outcomes
    judged = report.judge(outcomes, soak.outages, soak.now())
    rows = report.intervals(outcomes, judged, soak.rss, plan.interval, plan.duration)
    trend = report.rss_trend(soak.rss, plan.duration, soak.outages)
    log = server_log_findings(mock.log())
    findings = Findings(
        plan.duration,
        plan.rate,
        plan.rss_slope_limit,
        outcomes,
        judged,
        soak.outages,
        trend,
        verification,
        log,
        server_exit,
        soak.died_at,
        soak.skipped,
    )
    verdicts = judge_run(findings)
    faults = Counter(fault for fault in judged.fault if fault)
    load = cpu_summary(soak.rss, soak.now())
    print(f"## pactmock soak: {plan.backend}, {plan.rate:g} req/s for {plan.duration:g} s\n")
    print(report.format_intervals(rows))
    print(f"\n{load['sentence']}\n")
    print(_gc_line(soak.gc_pauses, plan.duration) + "\n")
    if soak.slow_peer_outcomes:
        told = ", ".join(f"{what}: {count}" for what, count in sorted(soak.slow_peer_outcomes.items()))
        print(f"Slow peers ({plan.slow_peers} held open): {told}\n")
    print(report.format_verdicts(verdicts))
    first_window, last_window = report.windows(plan.duration)
    print("\nGood requests by kind, the two windows the latency verdict compares:\n")
    print(
        report.format_latency_by_op(
            report.good_latency_by_op(outcomes, judged, first_window),
            report.good_latency_by_op(outcomes, judged, last_window),
        )
    )
    if faults:
        print("\nFaults (most frequent first):")
        for fault, count in faults.most_common(10):
            print(f"  {count:6,}  {fault[:200]}")
    if log["first_errors"]:
        print("\nServer ERROR lines (first few):")
        for line in log["first_errors"]:
            print(f"  {line[:200]}")
    if plan.png_path:
        title = f"pactmock soak, {plan.backend}, {plan.rate:g} req/s; grey: database cut off"
        why_not = report.plot(plan.png_path, outcomes, judged, soak.outages, soak.rss, plan.duration, title)
        _progress(f"plot not written: {why_not}" if why_not else f"plot written to {plan.png_path}")
    if plan.json_path:
        write_json(plan, soak, mock, rows, trend, verification, log, server_exit, verdicts, faults, load)
    return 1 if any(v.passed is False for v in verdicts) else 0


def _gc_line(pauses: Sequence[tuple[float, float]], duration: float) -> str:
    """The soak process's own full collections, in the windows the latency verdict compares."""
    first, last = report.windows(duration)

    def longest(window: tuple[float, float]) -> str:
        inside = [ms for at, ms in pauses if window[0] <= at < window[1]]
        return f"{len(inside)}, longest {max(inside):.1f} ms" if inside else "none"

    return (
        f"This soak process's own full garbage collections (they delay every request in flight): {len(pauses)} in all; "
        f"first minute after warm-up: {longest(first)}; last minute: {longest(last)}."
    )


if __name__ == "__main__":
    sys.exit(main())
