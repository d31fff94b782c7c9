"""The entrance driven in process, without HTTP: microseconds of Python a request costs (issue 15).

A wrk run on two shared cores tells req/s within 10-20% at best; the Python a request costs is what a change to
the entrance moves, and this measures it alone. One worker's `Entrance` (what `pactmock serve` runs) is built as
the server builds it and called on an asyncio loop with granian's scope and protocol objects stood in for by
plain ones (`_Scope`, `_Proto`): the RSGI interface is the seam, and its real side is measured by `bench.peers`.

    python -m bench.entrance_inproc --interactions 100000 --requests 40000 --load random
    python -m bench.entrance_inproc --interactions 100000 --load single --profile /tmp/single.prof

Loads: ``single`` repeats the synthetic pact's middle request; ``random`` draws every request uniformly from
all the pact's interactions (as `bench.peers`' random load does); ``post`` is `bench.peers`' stateful load,
``POST /runs`` of the epx pacts on SQLite (or, with ``--postgres-url``, on a fresh database of that server, dropped
afterwards) after the provider state ``job 123 exists``, one request at a time (its CPU and its round trips, not its
queueing). Every answer must be 2xx: a refusal would be measuring a different path.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import peers_translate as translate
from bench.compare import EPX_PACT, JOB_123_STATE, SUBMIT_RUN, create_database, drop_database
from tests.support import synthetic

HOST = "127.0.0.1:8000"


@dataclass(frozen=True)
class Sent:
    """One request as granian hands it over."""

    method: str
    path: str
    query_string: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class _Headers:
    def __init__(self, items: tuple[tuple[str, str], ...]) -> None:
        self._items = items

    def items(self) -> tuple[tuple[str, str], ...]:
        return self._items


class _Scope:
    proto = "http"
    http_version = "1.1"
    scheme = "http"
    server = HOST
    client = "127.0.0.1:50000"

    def __init__(self, sent: Sent) -> None:
        self.method, self.path, self.query_string = sent.method, sent.path, sent.query_string
        self.headers = _Headers(sent.headers)


class _Proto:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.status = 0

    async def __call__(self) -> bytes:
        return self.body

    def response_bytes(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status

    def response_str(self, status: int, headers: Any, body: str) -> None:
        self.status = status


def requests_of(count: int) -> list[Sent]:
    """Every interaction of the synthetic pact of `count`, as the request a client sends."""
    exchanges = translate.exchanges(synthetic.interaction(i, count) for i in range(count))
    return [from_probe(synthetic.Probe(ex.method, ex.target, ex.headers, ex.body_bytes())) for ex in exchanges]


def from_probe(probe: synthetic.Probe) -> Sent:
    """A request as granian hands it over: lower-case header names, a Content-Length where a body is or may be."""
    path, _, query = probe.path.partition("?")
    headers = [("host", HOST)] + [(name.lower(), value) for name, value in probe.headers.items()]
    if probe.body or probe.method in ("POST", "PUT", "PATCH"):
        headers.append(("content-length", str(len(probe.body))))
    return Sent(probe.method, path, query, tuple(headers), probe.body)


def build(pact_dir: Path, work: Path, database_url: str | None = None) -> Any:
    """One worker's entrance, as `pactmock serve` builds it, on `database_url` (migrated here) or an SQLite file."""
    from app.settings import Settings
    from app.store import migrate
    from app.web.factory import build_entrance

    url = database_url or f"sqlite:///{work / 'inproc.db'}"
    migrate.upgrade(url)
    return build_entrance(Settings.from_env({"PACT_DIR": str(pact_dir), "DATABASE_URL": url}))


async def drive(entrance: Any, sequence: list[Sent]) -> float:
    """Seconds taken to answer `sequence`, one request after another; every answer must be 2xx."""
    started = time.perf_counter()
    for sent in sequence:
        proto = _Proto(sent.body)
        await entrance(_Scope(sent), proto)
        if not 200 <= proto.status < 300:
            raise SystemExit(f"{sent.method} {sent.path}: answered {proto.status}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40_000)
    parser.add_argument("--load", choices=("single", "random", "post"), default="random")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the last round here")
    parser.add_argument("--postgres-url", help="the post load on a fresh database of this server, not SQLite")
    args = parser.parse_args(argv)
    if args.postgres_url and args.load != "post":
        parser.error("--postgres-url goes with --load post")
    database = create_database(args.postgres_url) if args.postgres_url else None  # (name, url)
    try:
        return _measure(args, database)
    finally:
        if database is not None:
            drop_database(args.postgres_url, database[0])


def _measure(args: argparse.Namespace, database: tuple[str, str] | None) -> int:
    with tempfile.TemporaryDirectory(prefix="pactmock-inproc-") as tmp:
        work = Path(tmp)
        pact_dir = work / "pacts"
        if args.load == "post":
            pact_dir.mkdir()
            shutil.copy(EPX_PACT, pact_dir)
            sequence = [from_probe(SUBMIT_RUN)] * args.requests
        else:
            synthetic.write_pact(pact_dir, args.interactions)
            every = requests_of(args.interactions)
            draw = random.Random(15)
            pool = every if args.load == "random" else [every[synthetic.middle(args.interactions)]]
            sequence = [draw.choice(pool) for _ in range(args.requests)]
        entrance = build(pact_dir, work, database[1] if database else None)
        loop = asyncio.new_event_loop()
        if args.load == "post":
            loop.run_until_complete(drive(entrance, [from_probe(JOB_123_STATE)]))
        rounds = []
        for number in range(args.rounds):
            profiler = cProfile.Profile() if args.profile and number == args.rounds - 1 else None
            if profiler:
                profiler.enable()
            rounds.append(loop.run_until_complete(drive(entrance, sequence)))
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
        pending = asyncio.all_tasks(loop)  # the entrance's own (its body deadlines' sweep)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        entrance.pool.shutdown(wait=True)
    per_request = [round(seconds / args.requests * 1e6, 1) for seconds in rounds]
    printed = {"load": args.load, "interactions": args.interactions, "us_per_request": per_request}
    printed["backend"] = "postgresql" if database else "sqlite"
    if database:
        printed["database"] = f"{database[0]} (dropped)"
    json.dump(printed, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
