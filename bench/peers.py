"""pactmock side by side with its peers: `pact stub`, WireMock, Mockoon, json-server and two bare granian apps.

Run from the project root, after ``make bench-peers`` installed the npm peers under bench/.peers/::

    python -m bench.peers                     # 3 rounds, sizes 6,1000,10000,100000, 10 s per load
    python -m bench.peers --quick             # 1 round, sizes 6 and 1,000, 1 s per load: a smoke run
    python -m bench.peers --rounds 1 --sizes 6,10000 --duration 5 --only stub
    python -m bench.peers --json PATH         # [bench/out/peers.json]; the PNG goes beside it
    python -m bench.peers --only a --rounds 1 --first-round 2 --json a2.json   # one short piece of a round
    python -m bench.peers --merge a1.json a2.json s1.json --json bench/out/peers.json   # pieces judged together

Scenarios (`bench.peers_scenarios`): the epx stub path (``a``), synthetic pacts of each size with a single-path
and a random-path load (``s-N``), and the stateful ``POST /runs`` against Mockoon's CRUD route and json-server
(``post``), plus `bench.pg_ceiling` at the same connection count. Each peer runs alone (one process at a time) on
a loopback port: first answer timed from process start, ``--warmup`` seconds of the same load (so the JVM and
the mocks' caches are warm), then ``--duration`` seconds of wrk with ``--connections`` keep-alive connections.
A peer that does not answer within its start time, or grows past ``--rss-limit``, is reported so (with the
time or size it was given) and not started again at that size or larger in later rounds. Figures of a round are
compared within that round; the targets are judged on the median over rounds of each round's ratio.

The bare granian apps (`bench.peers_bare`) answer a. with pactmock's own bytes and do nothing else: one through
WSGI (the target's yardstick), one through RSGI, the interface `pactmock serve` runs. The two floors printed
after the targets tell the interface's share of the gap from pactmock's own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import peers_report as report
from bench import peers_servers as servers
from bench.compare import create_database, drop_database, free_port, machine, wrk_version
from bench.peers_measure import Launch, Outcome, measure
from bench.peers_scenarios import POST_PEERS, STUB_PEERS, Feed, PostFeed, epx_stub, stateful_post, synthetic_stub

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "bench" / "out" / "peers.json"
SIZES = (6, 1_000, 10_000, 100_000)
QUICK_SIZES = (6, 1_000)
GB = 1024**3


@dataclass(frozen=True)
class Plan:
    rounds: int
    sizes: tuple[int, ...]
    only: tuple[str, ...]  # of a, stub, post
    peers: tuple[str, ...]
    duration_s: float
    warmup_s: float
    connections: int
    start_timeout_s: float
    rss_limit_bytes: int
    postgres_url: str
    quick: bool


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
    except OSError:
        return "unknown"


class Runner:
    def __init__(self, plan: Plan, work: Path) -> None:
        self.plan = plan
        self.work = work
        self.rows: list[dict[str, Any]] = []
        self.gave_up: dict[str, tuple[int, str]] = {}  # peer -> (smallest size it failed at, why)
        self.answers: dict[str, dict[str, object]] = {}  # scenario -> pactmock's answer to its single probe

    def _record(self, round_: int, scenario: str, interactions: int, peer: str, outcome: Outcome) -> None:
        row = {"round": round_, "scenario": scenario, "interactions": interactions, "peer": peer, **asdict(outcome)}
        row.pop("answer")
        row["loadavg"] = _loadavg()
        self.rows.append(row)

    def _skip(self, round_: int, feed_name: str, interactions: int, peer: str, loads: Sequence[str]) -> bool:
        why = servers.missing(peer)
        if why is None and peer in self.gave_up and interactions >= self.gave_up[peer][0]:
            size, reason = self.gave_up[peer]
            why = f"not started again: at {size:,} interactions, {reason}"
        if why is None and peer not in self.plan.peers:
            why = "left out (--peer)"
        if why is None:
            return False
        for load in loads:
            self._record(round_, feed_name, interactions, peer, Outcome(load, status="not run", reason=why))
        return True

    def _launch(self, peer: str, command: tuple[list[str], dict[str, str]], folder: Path, ready: Any) -> Launch:
        limit = self.plan.rss_limit_bytes
        log = folder / f"{peer.replace(' ', '-')}.log"
        return Launch(peer, command[0], command[1], folder, log, self.plan.start_timeout_s, limit, ready)

    def stub_scenario(self, round_: int, feed: Feed) -> None:
        names = [load.name for load in feed.loads]
        single = feed.loads[0].probe
        for peer in STUB_PEERS:
            if peer in (servers.BARE, servers.BARE_RSGI) and feed.name != "a":
                continue  # the floor is the same at every size: measured on a. only
            if self._skip(round_, feed.name, feed.interactions, peer, names):
                continue
            port = free_port()
            loads = feed.loads
            if peer == servers.PACTMOCK:
                database = f"sqlite:///{feed.folder / f'pactmock-{round_}.sqlite3'}"
                command = servers.pactmock(port, feed.pact_file.parent, database)
            elif peer in (servers.BARE, servers.BARE_RSGI):
                answer = self.answers.get(feed.name)
                if answer is None:
                    self._skip_all(round_, feed, peer, "pactmock gave no answer to copy")
                    continue
                answer_file = feed.folder / "bare-answer.json"
                answer_file.write_text(report.dumps(answer), encoding="utf-8")
                command = servers.bare_granian(port, answer_file, rsgi=peer == servers.BARE_RSGI)
            elif peer == servers.STUB:
                command = servers.pact_stub(port, feed.pact_file)
            elif peer == servers.WIREMOCK:
                command = servers.wiremock(port, feed.wiremock_root)
            else:
                command = servers.mockoon(port, feed.mockoon_file)
            _progress(f"round {round_}: {feed.title}: {peer} (load average {_loadavg()})")
            outcomes = measure(
                self._launch(peer, command, feed.folder, single),
                port,
                loads,
                self.plan.connections,
                self.plan.duration_s,
                self.plan.warmup_s,
            )
            if peer == servers.PACTMOCK and outcomes[0].answer is not None:
                self.answers[feed.name] = outcomes[0].answer
            for outcome in outcomes:
                self._record(round_, feed.name, feed.interactions, peer, outcome)
            self._note_failure(peer, feed.interactions, outcomes)

    def _skip_all(self, round_: int, feed: Feed, peer: str, reason: str) -> None:
        for load in feed.loads:
            self._record(round_, feed.name, feed.interactions, peer, Outcome(load.name, "not run", reason))

    def _note_failure(self, peer: str, size: int, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.status in ("no start", "killed") and (peer not in self.gave_up or size < self.gave_up[peer][0]):
                self.gave_up[peer] = (size, outcome.reason or outcome.status)

    def post_scenario(self, round_: int, feed: PostFeed) -> None:
        for peer in POST_PEERS:
            base = peer.split()[0]
            if base != servers.PACTMOCK and self._skip(round_, "post", 1, peer, ["post"]):
                continue
            if base == servers.PACTMOCK and base not in self.plan.peers:
                self._record(round_, "post", 1, peer, Outcome("post", "not run", "left out (--peer)"))
                continue
            port = free_port()
            database_name = None
            ready = feed.load.probe
            try:
                if peer == "pactmock SQLite":
                    url = f"sqlite:///{feed.folder / f'runs-{round_}-{uuid.uuid4().hex[:6]}.sqlite3'}"
                    command, ready = servers.pactmock(port, ROOT / "pacts", url), feed.ready
                elif peer == "pactmock PostgreSQL":
                    if not self.plan.postgres_url:
                        self._record(round_, "post", 1, peer, Outcome("post", "not run", "no --postgres-url"))
                        continue
                    try:
                        database_name, url = create_database(self.plan.postgres_url)
                        _migrate(url)
                    except Exception as exc:  # any failure of the server is a row, not a crash
                        reason = f"PostgreSQL not ready: {str(exc).strip().splitlines()[0][:200]}"
                        self._record(round_, "post", 1, peer, Outcome("post", "not run", reason))
                        continue
                    command, ready = servers.pactmock(port, ROOT / "pacts", url), feed.ready
                elif peer == servers.MOCKOON:
                    command = servers.mockoon(port, feed.mockoon_file)
                else:
                    database = feed.folder / f"json-server-{round_}.json"
                    shutil.copyfile(feed.json_server_file, database)
                    command = servers.json_server(port, database)
                _progress(f"round {round_}: POST /runs: {peer} (load average {_loadavg()})")
                launch = self._launch(peer, command, feed.folder, ready)
                (outcome,) = measure(
                    launch, port, [feed.load], self.plan.connections, self.plan.duration_s, self.plan.warmup_s
                )
                self._record(round_, "post", 1, peer, outcome)
            finally:
                if database_name is not None:
                    drop_database(self.plan.postgres_url, database_name)

    def pg_ceiling(self, round_: int) -> None:
        if not self.plan.postgres_url:
            return
        _progress(f"round {round_}: bench.pg_ceiling, {self.plan.connections} clients")
        outcome = report.run_pg_ceiling(self.plan.postgres_url, self.plan.connections, self.plan.duration_s)
        self._record(round_, "pg-ceiling", 1, "pgbench", outcome)


def _migrate(url: str) -> None:
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTMOCK_", "DATABASE_"))}
    env["DATABASE_URL"] = url
    pactmock = Path(sys.executable).parent / "pactmock"
    done = subprocess.run([str(pactmock), "db", "upgrade"], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pactmock db upgrade failed: {done.stderr.strip()[-300:]}")


def parse_args(argv: Sequence[str] | None) -> tuple[Plan, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, sizes 6 and 1,000, 1 s loads: a smoke run")
    parser.add_argument("--rounds", type=int, help="rounds [3; --quick: 1]")
    parser.add_argument("--sizes", help="synthetic sizes, comma-separated [6,1000,10000,100000]")
    parser.add_argument("--only", action="append", choices=("a", "stub", "post"), help="scenarios (repeatable)")
    parser.add_argument("--peer", action="append", help="run only these peers (repeatable; pactmock is one)")
    parser.add_argument("--duration", type=float, help="seconds per load [10; --quick: 1]")
    parser.add_argument("--warmup", type=float, help="seconds of the same load before each one [3; --quick: 0.5]")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--start-timeout", type=float, help="seconds each peer has to answer [120; --quick: 30]")
    parser.add_argument("--rss-limit", type=float, default=6.0, help="GB: a peer past it is killed [6]")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="server for pactmock's PostgreSQL POST and the ceiling ['' skips them; $TEST_POSTGRES_URL]",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="[bench/out/peers.json]")
    parser.add_argument("--no-png", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (files fed, logs)")
    parser.add_argument("--first-round", type=int, default=1, help="number of the first round (to merge runs) [1]")
    parser.add_argument(
        "--merge", nargs="+", type=Path, metavar="JSON", help="judge the rows of earlier runs' JSON together; no load"
    )
    args = parser.parse_args(argv)
    sizes: tuple[int, ...] = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        try:
            sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
        except ValueError:
            parser.error(f"--sizes takes whole numbers separated by commas, not {args.sizes!r}")
        if not sizes or min(sizes) < 1:
            parser.error("--sizes must be positive")
    every = (
        servers.PACTMOCK,
        servers.BARE,
        servers.BARE_RSGI,
        servers.STUB,
        servers.WIREMOCK,
        servers.MOCKOON,
        servers.JSON_SERVER,
    )
    plan = Plan(
        rounds=args.rounds or (1 if args.quick else 3),
        sizes=sizes,
        only=tuple(args.only or ("a", "stub", "post")),
        peers=tuple(args.peer or every),
        duration_s=args.duration or (1.0 if args.quick else 10.0),
        warmup_s=args.warmup if args.warmup is not None else (0.5 if args.quick else 3.0),
        connections=args.connections,
        start_timeout_s=args.start_timeout or (30.0 if args.quick else 120.0),
        rss_limit_bytes=int(args.rss_limit * GB),
        postgres_url=args.postgres_url,
        quick=args.quick,
    )
    if not shutil.which("wrk"):
        parser.error("wrk is not on PATH (Debian: apt-get install wrk): the random-path load needs its Lua scripts")
    return plan, args


def main(argv: Sequence[str] | None = None) -> int:
    plan, args = parse_args(argv)
    if args.merge:
        return _merge(args)
    info = machine()
    versions = servers.versions()
    workers, threads = servers.serve_layout()
    print(f"Python {info['python']}; {info['cpu_count']} CPUs ({info['cpu_model']}); {wrk_version()}")
    print("peers: " + ", ".join(f"{name} {version or 'not installed'}" for name, version in versions.items()))
    print(f"pactmock serve and the bare granian app: {workers} workers x {threads} threads")
    work = Path(tempfile.mkdtemp(prefix="pactmock-peers-"))
    runner = Runner(plan, work)
    started = time.monotonic()
    try:
        _progress("writing the pacts and each peer's files")
        feeds: list[Feed] = []
        if "a" in plan.only:
            feeds.append(epx_stub(work))
        if "stub" in plan.only:
            feeds.extend(synthetic_stub(work, size) for size in plan.sizes)
        post = stateful_post(work) if "post" in plan.only else None
        for round_ in range(args.first_round, args.first_round + plan.rounds):
            for feed in feeds:
                runner.stub_scenario(round_, feed)
            if post is not None:
                runner.post_scenario(round_, post)
                runner.pg_ceiling(round_)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    document = {
        "machine": info,
        "plan": asdict(plan),
        "versions": versions,
        "layout": {"workers": workers, "threads": threads},
        "elapsed_s": time.monotonic() - started,
    }
    print(f"\ntotal time {document['elapsed_s']:.0f} s")
    _write(runner.rows, plan.sizes, args, document)
    return 0


def _merge(args: argparse.Namespace) -> int:
    """Rows of earlier runs (``--merge A.json B.json``) judged together, as one run of their rounds."""
    rows: list[dict[str, Any]] = []
    sizes: set[int] = set()
    first: dict[str, Any] = {}
    for path in args.merge:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        first = first or document
        rows.extend(document["rows"])
        if "stub" in document["plan"]["only"]:
            sizes.update(document["plan"]["sizes"])
    extra = {k: first.get(k) for k in ("machine", "versions", "layout")}
    extra["merged"] = [str(p) for p in args.merge]
    _write(rows, sorted(sizes), args, extra)
    return 0


def _write(rows: list[dict[str, Any]], sizes: Sequence[int], args: argparse.Namespace, extra: dict[str, Any]) -> None:
    summary = report.summarize(rows)
    verdicts = report.judge(rows, sizes)
    print(report.format_table(summary))
    print("\nTargets (each a ratio within a round; the median over rounds, each round's figure in brackets)")
    print(report.format_verdicts(verdicts))
    floors = report.floors(rows)
    print("\nThe floors (not targets): " + "; ".join(f"{f['target']} {f['measured']}" for f in floors))
    png = None if args.no_png else args.json.with_suffix(".png")
    if png is not None:
        problem = report.plot(summary, png)
        print(f"wrote {png}" if problem is None else f"PNG not written ({problem})")
        png = png if problem is None else None
    document = {**extra, "rows": rows, "summary": summary, "targets": verdicts, "floors": floors}
    document["png"] = str(png) if png else None
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(report.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
