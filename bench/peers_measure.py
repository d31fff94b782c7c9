"""Measuring one peer process for `bench.peers`: first answer, warm-up, the loads, peak RSS; then stop it.

One process serves every load of its scenario (the single path, then random paths), so a peer's start-up is paid
once per size. Peak RSS is the process tree's, sampled every 0.1 s from start to the end of the last load
(`bench.compare.RssWatch`; past ``rss_limit`` the tree is killed). A random-path load is wrk with a Lua script
(`random_script`) that picks each request uniformly from a file of raw requests, one per interaction.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.compare import HOST, RssWatch, _log_tail, send, stop_server
from bench.loadgen import _WRK_MARKER, LoadResult, lua_string, run_load, wrk_script
from tests.support.synthetic import Probe


@dataclass(frozen=True)
class Launch:
    peer: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    start_timeout_s: float
    rss_limit_bytes: int | None
    ready: Probe  # sent until it answers ``ok_status``: the first answer


@dataclass(frozen=True)
class Load:
    name: str  # single | random | post
    probe: Probe  # the single request, or the one checked before a random load
    requests_file: Path | None = None  # random: length-prefixed raw requests
    checks: tuple[Probe, ...] = ()  # random: requests checked to answer 2xx before the load


@dataclass
class Outcome:
    """What one load on one peer measured."""

    load: str
    status: str = "ok"  # ok | failed | killed | no start
    reason: str | None = None
    requests: int | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx: int | None = None
    errors: int | None = None
    peak_rss_bytes: int | None = None
    peak_pss_bytes: int | None = None
    first_answer_s: float | None = None
    answer: dict[str, object] | None = None  # the single probe's answer (status, headers, body), for the bare app
    notes: list[str] = field(default_factory=list)


class Failed(Exception):
    pass


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _answer(port: int, probe: Probe) -> dict[str, object]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(probe.method, probe.path, body=probe.body or None, headers=probe.headers)
        response = connection.getresponse()
        body = response.read()
        return {"status": response.status, "headers": response.getheaders(), "body": body.decode(errors="replace")}
    finally:
        connection.close()


def _tail(log: Path) -> str:
    return _log_tail(log)[-300:]


def _first_answer(launch: Launch, port: int, process: subprocess.Popen[bytes], started: float) -> float:
    deadline = started + launch.start_timeout_s
    while True:
        if process.poll() is not None:
            raise Failed(f"exited with status {process.returncode}: {_tail(launch.log)}")
        if time.perf_counter() >= deadline:
            raise Failed(f"no 2xx answer within the {launch.start_timeout_s:g} s it was given to start")
        try:
            status, body, _ = send(port, launch.ready, max(0.5, deadline - time.perf_counter()))
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
            continue
        if _ok(status):
            return time.perf_counter() - started
        if 400 <= status < 500:
            raise Failed(f"{launch.ready.method} {launch.ready.path} answered {status}: {body[:200]!r}")
        time.sleep(0.05)


def _check(port: int, probes: Sequence[Probe]) -> None:
    for probe in probes:
        status, body, _ = send(port, probe, 10)
        if not _ok(status):
            raise Failed(f"{probe.method} {probe.path} answered {status}: {body[:200]!r}")


def random_script(requests_file: Path, seed: int) -> str:
    """wrk's script: the counting and summary of `bench.loadgen`, each request drawn from ``requests_file``."""
    base = wrk_script("GET", {}, b"")
    return (
        base
        + f"""
local requests = {{}}
function init(args)
  non2xx = 0
  local file = assert(io.open({lua_string(str(requests_file))}, "rb"))
  local data = file:read("*a")
  file:close()
  local position = 1
  while position <= #data do
    local newline = string.find(data, "\\n", position, true)
    local length = tonumber(string.sub(data, position, newline - 1))
    requests[#requests + 1] = string.sub(data, newline + 1, newline + length)
    position = newline + 1 + length
  end
  math.randomseed({seed} + math.floor(os.clock() * 1e6))
end
function request()
  return requests[math.random(#requests)]
end
"""
    )


def run_random(port: int, requests_file: Path, connections: int, duration_s: float) -> LoadResult:
    seconds = max(1, math.ceil(duration_s))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="peers-", delete=False) as script:
        script.write(random_script(requests_file, seed=port))
    try:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout=10s", "-s", script.name]
        done = subprocess.run(
            [*command, f"http://{HOST}:{port}/"], capture_output=True, text=True, timeout=seconds + 120, check=False
        )
    finally:
        os.unlink(script.name)
    for line in done.stdout.splitlines():
        if line.startswith(_WRK_MARKER):
            data = json.loads(line[len(_WRK_MARKER) :])
            break
    else:
        raise Failed(f"wrk exited {done.returncode} without a summary: {done.stderr.strip()[-300:]}")
    elapsed = data["duration_us"] / 1e6
    return LoadResult(
        requests=data["requests"],
        rps=data["requests"] / elapsed if elapsed else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["non_2xx"],
        errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        engine="wrk (random paths)",
        duration_s=elapsed,
    )


def _load(port: int, load: Load, connections: int, duration_s: float) -> LoadResult:
    if load.requests_file is not None:
        return run_random(port, load.requests_file, connections, duration_s)
    probe = load.probe
    url = f"http://{HOST}:{port}{probe.path}"
    return run_load(url, probe.method, probe.headers, probe.body, connections, duration_s, engine="wrk")


def measure(
    launch: Launch, port: int, loads: Sequence[Load], connections: int, duration_s: float, warmup_s: float
) -> list[Outcome]:
    """Start the peer, time its first answer, then for each load: check, warm up, measure. Stopped after."""
    outcomes = [Outcome(load.name) for load in loads]
    launch.log.parent.mkdir(parents=True, exist_ok=True)
    with launch.log.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            launch.command,
            cwd=launch.cwd,
            env=launch.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    watch = RssWatch(process, launch.rss_limit_bytes)
    watch.start()
    current = outcomes[0]
    try:
        try:
            first = _first_answer(launch, port, process, started)
        except Failed as exc:
            for outcome in outcomes:
                outcome.status, outcome.reason = "no start", str(exc)
            return outcomes
        for load, outcome in zip(loads, outcomes, strict=True):
            current = outcome
            outcome.first_answer_s = first
            try:
                outcome.answer = _answer(port, load.probe)
                if not _ok(int(str(outcome.answer["status"]))):
                    raise Failed(f"{load.probe.method} {load.probe.path} answered {outcome.answer['status']}")
                _check(port, load.checks)
                if warmup_s > 0:
                    _load(port, load, connections, warmup_s)
                result = _load(port, load, connections, duration_s)
            except (Failed, OSError, http.client.HTTPException, RuntimeError) as exc:
                outcome.status, outcome.reason = "failed", str(exc) or type(exc).__name__
                if process.poll() is not None:
                    outcome.reason = f"exited with status {process.returncode}: {_tail(launch.log)}"
                continue
            outcome.requests, outcome.rps = result.requests, result.rps
            outcome.p50_ms, outcome.p99_ms = result.p50_ms, result.p99_ms
            outcome.non_2xx, outcome.errors = result.non_2xx, result.errors
    finally:
        try:
            watch.stop()
        finally:
            stop_server(process)
        for outcome in outcomes:
            outcome.peak_rss_bytes, outcome.peak_pss_bytes = watch.peak, watch.peak_pss
        if watch.killed_at is not None:
            limit = (launch.rss_limit_bytes or 0) / 1024**3
            when = "before its first answer" if current.first_answer_s is None else f"during the {current.load} load"
            reason = f"killed at {watch.killed_at / 1024**3:.1f} GB {when} (RSS limit {limit:g} GB)"
            for outcome in outcomes:
                if outcome.status != "ok" or outcome is current:
                    outcome.status, outcome.reason = "killed", reason
    return outcomes


def write_requests_file(path: Path, requests: Sequence[bytes] | list[bytes]) -> int:
    """Length-prefixed raw requests, as `random_script` reads them; how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for raw in requests:
            out.write(f"{len(raw)}\n".encode() + raw)
    return len(requests)
