"""Micro-benchmarks of the contract engine: request matching and routing.

Run from the project root::

    python -m bench.engine                 # full run, about 30 seconds
    python -m bench.engine --quick         # a few iterations, a CI smoke run
    python -m bench.engine --json out.json # also write the numbers as JSON
    make bench                             # the full run in the project's virtualenv

It prints two tables. The first is the cost of matching one realistic Epistemix
run submission (``POST /runs``, V4 matching rules as pact-python writes them),
both from pact-file dicts (``compare_request``) and from pre-normalised models
(``match_request``, what the server does per request). The second is the cost
of ``Router.candidates`` and ``Router.route`` for a literal and a regex path
with 10, 1,000 and 100,000 loaded interactions (1% of them with regex paths),
plus the time to build each router.

Timing follows timeit: a warm-up, then the garbage collector is off while
measuring. Calls faster than a couple of microseconds are timed in batches, so
their p50/p99 are percentiles of per-batch means. This script reports numbers;
it never judges them.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from app.contract import compare_request, match_request
from app.contract.model import Body, Interaction, Request, Response, RuleList, Rules
from app.contract.read.normalize import normalize_request
from app.contract.serve.router import Router

SIZES = (10, 1_000, 100_000)
REGEX_SHARE = 0.01
TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9.bench.signature"

_TYPE = {"combine": "AND", "matchers": [{"match": "type"}]}


def _rule(matcher: dict[str, Any]) -> dict[str, Any]:
    return {"combine": "AND", "matchers": [matcher]}


# The request as pact-python (pact_ffi) writes it into a V4 pact file.
EXPECTED_RUN_REQUEST: dict[str, Any] = {
    "method": "POST",
    "path": "/runs",
    "headers": {
        "Offline-Token": [TOKEN],
        "content-type": ["application/json"],
        "fredcli-version": ["1.2.3"],
        "user-agent": ["epx_client_1.2.3"],
    },
    "body": {
        "content": {
            "runRequests": [
                {
                    "jobId": 123,
                    "workingDir": "/home/epx/run",
                    "size": "hot",
                    "fredVersion": "latest",
                    "population": {"version": "US_2010.v5", "locations": ["New York", "Loving_County_TX"]},
                    "fredArgs": [{"flag": "-p", "value": "main.fred"}],
                    "fredFiles": ["/home/epx/main.fred"],
                }
            ]
        },
        "contentType": "application/json",
        "encoded": False,
    },
    "matchingRules": {
        "body": {
            "$.runRequests": _rule({"match": "type", "min": 1}),
            "$.runRequests[*].jobId": _rule({"match": "integer"}),
            "$.runRequests[*].workingDir": _TYPE,
            "$.runRequests[*].size": _TYPE,
            "$.runRequests[*].fredVersion": _TYPE,
            "$.runRequests[*].population.version": _TYPE,
            "$.runRequests[*].population.locations": _TYPE,
            "$.runRequests[*].fredArgs": _rule({"match": "type", "min": 1}),
            "$.runRequests[*].fredArgs[*].flag": _TYPE,
            "$.runRequests[*].fredArgs[*].value": _TYPE,
            "$.runRequests[*].fredFiles": _rule({"match": "type", "min": 1}),
        },
        "header": {
            "Offline-Token": _rule({"match": "regex", "regex": "^Bearer .+$"}),
            "fredcli-version": _rule({"match": "regex", "regex": r"\d+\.\d+\.\d+"}),
        },
    },
}

# What a client actually sends: other values, an extra header or four, all within the contract.
ACTUAL_RUN_REQUEST: dict[str, Any] = {
    "method": "POST",
    "path": "/runs",
    "headers": {
        "Host": ["localhost:5000"],
        "Offline-Token": ["Bearer eyJhbGciOiJIUzI1NiJ9.another.token"],
        "Content-Type": ["application/json"],
        "Content-Length": ["287"],
        "Fredcli-Version": ["1.4.0"],
        "User-Agent": ["epx_client_1.2.3"],
        "Accept": ["*/*"],
        "Accept-Encoding": ["gzip, deflate"],
    },
    "body": {
        "runRequests": [
            {
                "jobId": 4567,
                "workingDir": "/home/alice/runs/flu",
                "size": "cold",
                "fredVersion": "11.0.1",
                "population": {"version": "US_2010.v5", "locations": ["Allegheny_County_PA", "Jefferson_County_PA"]},
                "fredArgs": [{"flag": "-p", "value": "flu.fred"}, {"flag": "-d", "value": "out"}],
                "fredFiles": ["/home/alice/runs/flu/flu.fred", "/home/alice/runs/flu/params.fred"],
            }
        ]
    },
}


@dataclass
class Stats:
    """Per-call times of one measurement, in nanoseconds."""

    calls: int
    batch: int
    mean_ns: float
    p50_ns: float
    p99_ns: float


@dataclass(frozen=True)
class Settings:
    quick: bool
    compare_calls: int
    lookup_calls: int
    compare_budget_s: float
    lookup_budget_s: float
    warmup_s: float
    build_repeats: int


FULL = Settings(
    quick=False,
    compare_calls=20_000,
    lookup_calls=200_000,
    compare_budget_s=15.0,
    lookup_budget_s=1.5,
    warmup_s=0.2,
    build_repeats=3,
)
QUICK = Settings(
    quick=True,
    compare_calls=200,
    lookup_calls=2_000,
    compare_budget_s=0.05,
    lookup_budget_s=0.02,
    warmup_s=0.005,
    build_repeats=1,
)


@contextmanager
def gc_off() -> Iterator[None]:
    """Keep the garbage collector off, as timeit does while timing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def measure(fn: Callable[[], object], warmup_s: float, budget_s: float, max_calls: int) -> Stats:
    """Warm ``fn`` up, then time up to ``max_calls`` calls (fewer if they would take over ``budget_s``)."""
    with gc_off():
        return _measure(fn, warmup_s, budget_s, max_calls)


def _measure(fn: Callable[[], object], warmup_s: float, budget_s: float, max_calls: int) -> Stats:
    warm_calls = 0
    start = time.perf_counter_ns()
    deadline = start + int(warmup_s * 1e9)
    while True:
        fn()
        warm_calls += 1
        now = time.perf_counter_ns()
        if now >= deadline and warm_calls >= 3:
            break
    estimate = (now - start) / warm_calls
    calls = max(10, min(max_calls, int(budget_s * 1e9 / estimate)))
    batch = max(1, min(1_000, int(2_000 / estimate)))
    rounds = max(1, calls // batch)
    samples: list[float] = []
    clock = time.perf_counter_ns
    batch_range = range(batch)
    for _ in range(rounds):
        t0 = clock()
        for _ in batch_range:
            fn()
        samples.append((clock() - t0) / batch)
    samples.sort()
    return Stats(rounds * batch, batch, sum(samples) / len(samples), _percentile(samples, 50), _percentile(samples, 99))


def bench_compare(settings: Settings) -> dict[str, Stats]:
    expected_model = normalize_request(EXPECTED_RUN_REQUEST, "V4")
    actual_model = normalize_request(ACTUAL_RUN_REQUEST, "V4")
    for mismatches in (
        compare_request(EXPECTED_RUN_REQUEST, ACTUAL_RUN_REQUEST, "V4"),
        match_request(expected_model, actual_model),
    ):
        if mismatches:  # a benchmark of the failure path would be misleading
            raise RuntimeError("the benchmark request does not match: " + "; ".join(m.message for m in mismatches))
    timing = (settings.warmup_s, settings.compare_budget_s, settings.compare_calls)
    return {
        "compare_request": measure(lambda: compare_request(EXPECTED_RUN_REQUEST, ACTUAL_RUN_REQUEST, "V4"), *timing),
        "match_request": measure(lambda: match_request(expected_model, actual_model), *timing),
    }


def synthetic_interactions(count: int) -> list[Interaction]:
    """``count`` GET interactions: literal ``/items/{i}/detail`` paths, 1% (at least one) regex paths."""
    regex_every = max(1, min(count, round(1 / REGEX_SHARE)))
    interactions = []
    for i in range(count):
        rules: Rules = {}
        if i % regex_every == 0:
            path = f"/things/{i}/1"
            rules["path"] = {"": RuleList(({"match": "regex", "regex": f"^/things/{i}/[0-9]+$"},))}
        else:
            path = f"/items/{i}/detail"
        request = Request(method="GET", path=path, headers={"Accept": ["application/json"]}, rules=rules)
        response = Response(
            status=200,
            headers={"Content-Type": ["application/json"]},
            body=Body({"id": i, "name": f"item {i}"}, "application/json"),
        )
        interactions.append(Interaction(description=f"get {path}", request=request, response=response))
    return interactions


def _middle(count: int, regex: bool) -> int:
    """Index of an interaction of the wanted kind in the middle of the list."""
    regex_every = max(1, min(count, round(1 / REGEX_SHARE)))
    middle = count // 2
    if regex:
        return (middle // regex_every) * regex_every
    return middle if middle % regex_every else middle + 1


def bench_router(size: int, settings: Settings) -> dict[str, Any]:
    with gc_off():
        interactions = synthetic_interactions(size)
    builds = []
    for _ in range(settings.build_repeats):
        with gc_off():
            start = time.perf_counter_ns()
            router = Router(interactions)
            builds.append(time.perf_counter_ns() - start)
    builds.sort()
    build = Stats(len(builds), 1, sum(builds) / len(builds), _percentile(builds, 50), _percentile(builds, 99))

    literal_path = f"/items/{_middle(size, regex=False)}/detail"
    regex_path = f"/things/{_middle(size, regex=True)}/42"
    result: dict[str, Any] = {
        "interactions": size,
        "regex_interactions": sum(1 for i in interactions if "path" in i.request.rules),
        "build": build,
    }
    for kind, path in (("literal", literal_path), ("regex", regex_path)):
        actual = Request(method="GET", path=path, headers={"Accept": ["application/json"]})
        found = router.route(actual)
        if found.interaction is None or len(router.candidates("GET", path)) != 1:
            raise RuntimeError(f"the router does not find exactly one interaction for {path}")
        timing = (settings.warmup_s, settings.lookup_budget_s, settings.lookup_calls)
        result[f"candidates_{kind}"] = measure(partial(router.candidates, "GET", path), *timing)
        result[f"route_{kind}"] = measure(partial(router.route, actual), *timing)
    return result


def _time(ns: float) -> str:
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.2f} µs"
    return f"{ns / 1_000_000:.2f} ms"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = [headers, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(str(cell).ljust(w) if n == 0 else str(cell).rjust(w) for n, (cell, w) in enumerate(zip(line, widths)))
        for line in lines
    )


def _stats_row(label: str, stats: Stats, *extra: str) -> list[str]:
    return [
        label,
        *extra,
        f"{stats.calls:,}",
        str(stats.batch),
        _time(stats.mean_ns),
        _time(stats.p50_ns),
        _time(stats.p99_ns),
    ]


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few iterations, for a CI smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers as JSON to PATH")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    info = machine()
    print(f"Python {info['python']} ({info['implementation']}) on {info['platform']}")
    print(f"machine {info['machine']}, processor {info['processor'] or 'unknown'}, {info['cpu_count']} CPUs")
    print(f"mode: {'quick' if settings.quick else 'full'}; times are per call (batch > 1: per-batch means)\n")

    compared = bench_compare(settings)
    print("1. Matching a POST /runs submission (V4 rules)")
    columns = ["call", "calls", "batch", "mean", "p50", "p99"]
    labels = {
        "compare_request": 'compare_request(dicts, "V4")',
        "match_request": "match_request(models)",
    }
    print(_table(columns, [_stats_row(labels[name], stats) for name, stats in compared.items()]) + "\n")

    routers = [bench_router(size, settings) for size in SIZES]
    print(f"2. Router with {REGEX_SHARE:.0%} regex paths")
    operations = {
        "build": "Router(interactions)",
        "candidates_literal": "candidates, literal path",
        "route_literal": "route, literal path",
        "candidates_regex": "candidates, regex path",
        "route_regex": "route, regex path",
    }
    rows = [
        _stats_row(label, entry[key], f"{entry['interactions']:,}", f"{entry['regex_interactions']:,}")
        for key, label in operations.items()
        for entry in routers
    ]
    print(_table(["operation", "interactions", "regex", "calls", "batch", "mean", "p50", "p99"], rows))

    if args.json:
        document = {
            "machine": info,
            "settings": asdict(settings),
            "compare": {name: asdict(stats) for name, stats in compared.items()},
            "router": [
                {key: asdict(value) if isinstance(value, Stats) else value for key, value in entry.items()}
                for entry in routers
            ],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
