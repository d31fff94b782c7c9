"""An HTTP/1.1 load generator for the benchmarks: wrk when it is installed, else a bundled Python one.

Use it from code::

    from bench.loadgen import run_load

    result = run_load("http://127.0.0.1:5000/health", "GET", {}, b"", connections=32, duration_s=10)
    print(result.rps, result.p50_ms, result.p99_ms)

or from the project root::

    python -m bench.loadgen http://127.0.0.1:5000/health -c 32 -d 10
    python -m bench.loadgen http://127.0.0.1:5000/jobs/register -X POST -H 'Content-Type: application/json' \\
        --body '{"tags": ["info_job"]}'
    python -m bench.loadgen --selftest          # both engines against a trivial server: the generators' ceilings
    python -m bench.loadgen --selftest --quick  # the same, a few seconds

Both engines keep ``connections`` keep-alive connections busy for ``duration_s`` seconds, each sending the same
request again as soon as the previous response is complete (a closed loop, as wrk does), and count the responses
completed before the deadline; responses still in flight then are not counted. Latency is the time from sending a
request to receiving the end of its response.

Engines:

* ``wrk``: the ``wrk`` binary (Debian package ``wrk``) driven by a generated Lua script that sets the method,
  headers and body, counts non-2xx responses and prints the summary as JSON from its ``done`` hook. wrk runs
  whole seconds only, so ``duration_s`` is rounded up.
* ``python``: a single-threaded ``selectors`` (epoll) loop over non-blocking sockets with a minimal HTTP/1.1
  response parser (Content-Length, chunked, and close-delimited bodies); ``processes`` > 1 splits the
  connections over forked processes.
* ``auto``: wrk when ``wrk`` is on PATH, else python.

Ceilings on the 2-core machine, 2026-11-21, from ``--selftest`` (32 connections, 10 s): the python engine completed
58k req/s with one process, and wrk (one thread) 49k; the trivial 2-process server sharing the cores was the limit.
A Python WSGI server serving pactmock tops out near 7k req/s here, and against one (granian, ``GET /health``) the
python engine measured 6,478 req/s and wrk 6,577: either engine saturates it. Each used about 0.13 cores at 3k req/s.

Only plain ``http://`` URLs, and only to addresses on this machine: this is a benchmark tool, not a stress tester.
This module reports numbers; it never judges them.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal
from urllib.parse import urlsplit

Engine = Literal["wrk", "python", "auto"]
ENGINES: tuple[str, ...] = ("wrk", "python", "auto")

_WRK_MARKER = "PACTMOCK_LOADGEN "
_RECV_BYTES = 65536
_RECONNECT_DELAY_S = 0.05


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured; latencies in milliseconds."""

    requests: int  # responses completed before the deadline, whatever their status
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int  # completed responses whose status was not 2xx
    errors: int  # connect, read and write failures, and timeouts
    engine: str = "python"
    duration_s: float = 0.0


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    host_header: str


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"only http:// URLs are supported, not {url!r}")
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    port = parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return Target(parts.hostname, port, path, host_header)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def resolve_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "auto":
        return "wrk" if wrk_available() else "python"
    if engine == "wrk" and not wrk_available():
        raise RuntimeError("the wrk binary is not on PATH (Debian: apt-get install wrk)")
    return engine


def run_load(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | str = b"",
    connections: int = 32,
    duration_s: float = 10.0,
    *,
    engine: Engine | str = "auto",
    timeout_s: float = 10.0,
    wrk_threads: int = 1,
    processes: int = 1,
) -> LoadResult:
    """Keep ``connections`` connections sending the request for ``duration_s`` seconds; see the module docstring."""
    if connections < 1:
        raise ValueError("connections must be at least 1")
    if duration_s <= 0:
        raise ValueError("duration_s must be positive")
    payload = body.encode() if isinstance(body, str) else bytes(body)
    chosen = resolve_engine(engine)
    if chosen == "wrk":
        return _run_wrk(url, method, dict(headers or {}), payload, connections, duration_s, timeout_s, wrk_threads)
    return _run_python(url, method, dict(headers or {}), payload, connections, duration_s, timeout_s, processes)


def percentile(ordered: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0.0 when it is empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# --- wrk ---------------------------------------------------------------------------------------------------------


def lua_string(value: str | bytes) -> str:
    """A Lua (5.1 / LuaJIT) string literal holding exactly these bytes."""
    raw = value.encode() if isinstance(value, str) else value
    out = []
    for byte in raw:
        if 0x20 <= byte < 0x7F and byte not in (0x22, 0x5C):
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def wrk_script(method: str, headers: Mapping[str, str], body: bytes) -> str:
    """The Lua script: the request, a per-thread non-2xx counter, and a JSON summary from ``done``."""
    lines = [f"wrk.method = {lua_string(method)}"]
    if body:
        lines.append(f"wrk.body = {lua_string(body)}")
    lines.extend(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}" for name, value in headers.items())
    lines.append(
        """
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, "non_2xx": %d, '
      .. '"connect": %d, "read": %d, "write": %d, "timeout": %d}\\n',
    MARKER, summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
    non2xx_total, e.connect, e.read, e.write, e.timeout))
end
""".replace("MARKER", lua_string(_WRK_MARKER))
    )
    return "\n".join(lines) + "\n"


def _run_wrk(
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes,
    connections: int,
    duration_s: float,
    timeout_s: float,
    wrk_threads: int,
) -> LoadResult:
    parse_url(url)  # the same URL rules as the python engine
    threads = max(1, min(wrk_threads, connections))
    seconds = max(1, math.ceil(duration_s))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="loadgen-", delete=False) as script:
        script.write(wrk_script(method, headers, body))
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={max(1, math.ceil(timeout_s))}s",
            "-s",
            script.name,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30, check=False)
    finally:
        os.unlink(script.name)
    for line in done.stdout.splitlines():
        if line.startswith(_WRK_MARKER):
            data = json.loads(line[len(_WRK_MARKER) :])
            break
    else:
        raise RuntimeError(f"wrk exited {done.returncode} without a summary:\n{done.stdout}\n{done.stderr}")
    elapsed = data["duration_us"] / 1e6
    errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return LoadResult(
        requests=data["requests"],
        rps=data["requests"] / elapsed if elapsed else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["non_2xx"],
        errors=errors,
        engine="wrk",
        duration_s=elapsed,
    )


# --- python ------------------------------------------------------------------------------------------------------


def build_request(target: Target, method: str, headers: Mapping[str, str], body: bytes) -> bytes:
    names = {name.lower() for name in headers}
    lines = [f"{method} {target.path} HTTP/1.1"]
    if "host" not in names:
        lines.append(f"Host: {target.host_header}")
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if (body or method.upper() in ("POST", "PUT", "PATCH")) and "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


UNTIL_CLOSE = -1


def parse_response(buffer: bytearray | bytes, head: bool = False) -> tuple[int, int, bool] | None:
    """``(status, length, close)`` of the complete response at the start of ``buffer``, or None if incomplete.

    ``length`` is UNTIL_CLOSE for a body delimited by the end of the connection; ``close`` says the server will
    close the connection after this response.
    """
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status = int(rest[:3])
    close = version == "HTTP/1.0"
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            tokens = value.lower()
            if "close" in tokens:
                close = True
            elif "keep-alive" in tokens:
                close = False
    start = end + 4
    if head or status in (204, 304) or 100 <= status < 200:
        return status, start, close
    if chunked:
        total = _chunked_end(buffer, start)
        return None if total is None else (status, total, close)
    if length is None:
        return status, UNTIL_CLOSE, True
    if len(buffer) < start + length:
        return None
    return status, start + length, close


def _chunked_end(buffer: bytearray | bytes, position: int) -> int | None:
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(bytes(buffer[position:line_end]).split(b";", 1)[0].strip() or b"0", 16)
        position = line_end + 2
        if size == 0:
            if len(buffer) < position + 2:
                return None
            if buffer[position : position + 2] == b"\r\n":
                return position + 2
            trailers_end = buffer.find(b"\r\n\r\n", position)
            return None if trailers_end < 0 else trailers_end + 4
        if len(buffer) < position + size + 2:
            return None
        position += size + 2


class _Connection:
    __slots__ = ("buffer", "outgoing", "sent_at", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.outgoing = b""
        self.sent_at = 0.0


@dataclass
class _Tally:
    requests: int
    non_2xx: int
    errors: int
    elapsed: float
    latencies: bytes  # array("d") of seconds


def _generate(
    host: str,
    port: int,
    request: bytes,
    head: bool,
    connections: int,
    duration_s: float,
    timeout_s: float,
    start_at: float,
) -> _Tally:
    """One process's closed loop over ``connections`` connections; ``start_at`` is a time.time() to begin at."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    selector = selectors.DefaultSelector()
    latencies = array("d")
    record = latencies.append
    perf = time.perf_counter
    requests = non_2xx = errors = 0
    retry: list[float] = []  # when each lost connection may be opened again
    live: set[_Connection] = set()

    def send(conn: _Connection) -> None:
        conn.sent_at = perf()
        sent = conn.sock.send(request)
        if sent < len(request):
            conn.outgoing = request[sent:]
            selector.modify(conn.sock, selectors.EVENT_WRITE, conn)

    def drop(conn: _Connection) -> None:
        selector.unregister(conn.sock)
        conn.sock.close()
        live.discard(conn)
        retry.append(perf() + _RECONNECT_DELAY_S)

    def open_one() -> bool:
        nonlocal errors
        try:
            sock = socket.create_connection((host, port), timeout=timeout_s)
        except OSError:
            errors += 1
            retry.append(perf() + _RECONNECT_DELAY_S)
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn = _Connection(sock)
        selector.register(sock, selectors.EVENT_READ, conn)
        live.add(conn)
        try:
            send(conn)
        except OSError:
            errors += 1
            drop(conn)
            return False
        return True

    started = perf()
    deadline = started + duration_s
    for _ in range(connections):
        open_one()
    next_sweep = started + 0.1
    while True:
        now = perf()
        if now >= deadline:
            break
        timeout = min(deadline, next_sweep) - now
        if retry:
            timeout = max(0.0, min(timeout, min(retry) - now))
        for key, mask in selector.select(timeout):
            conn: _Connection = key.data
            if mask & selectors.EVENT_WRITE:
                try:
                    sent = conn.sock.send(conn.outgoing)
                except OSError:
                    errors += 1
                    drop(conn)
                    continue
                conn.outgoing = conn.outgoing[sent:]
                if not conn.outgoing:
                    selector.modify(conn.sock, selectors.EVENT_READ, conn)
                continue
            try:
                data = conn.sock.recv(_RECV_BYTES)
            except BlockingIOError:
                continue
            except OSError:
                errors += 1
                drop(conn)
                continue
            finished = perf()
            if not data:
                parsed = parse_response(conn.buffer, head)
                if parsed is not None and parsed[1] == UNTIL_CLOSE and finished < deadline:
                    requests += 1
                    non_2xx += not 200 <= parsed[0] < 300
                    record(finished - conn.sent_at)
                else:
                    errors += 1  # the server closed the connection before the response was complete
                drop(conn)
                continue
            conn.buffer += data
            parsed = parse_response(conn.buffer, head)
            if parsed is None or parsed[1] == UNTIL_CLOSE:
                continue
            status, length, close = parsed
            if finished < deadline:
                requests += 1
                non_2xx += not 200 <= status < 300
                record(finished - conn.sent_at)
            del conn.buffer[:length]
            if close:
                drop(conn)
                if finished < deadline:
                    retry[-1] = finished  # a server that closes after each response is reconnected at once
                continue
            try:
                send(conn)
            except OSError:
                errors += 1
                drop(conn)
        now = perf()
        if retry:
            due = [when for when in retry if when <= now]
            if due:
                retry[:] = [when for when in retry if when > now]
                for _ in due:
                    if now < deadline:
                        open_one()
        if now >= next_sweep:
            next_sweep = now + 0.1
            for conn in [c for c in live if now - c.sent_at > timeout_s]:
                errors += 1
                drop(conn)
    elapsed = perf() - started
    for conn in list(live):
        selector.unregister(conn.sock)
        conn.sock.close()
    selector.close()
    return _Tally(requests, non_2xx, errors, elapsed, latencies.tobytes())


def _generate_star(args: tuple[str, int, bytes, bool, int, float, float, float]) -> _Tally:
    return _generate(*args)


def _run_python(
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes,
    connections: int,
    duration_s: float,
    timeout_s: float,
    processes: int,
) -> LoadResult:
    target = parse_url(url)
    request = build_request(target, method, headers, body)
    head = method.upper() == "HEAD"
    processes = max(1, min(processes, connections))
    if processes == 1:
        tallies = [_generate(target.host, target.port, request, head, connections, duration_s, timeout_s, 0.0)]
    else:
        shares = [connections // processes + (i < connections % processes) for i in range(processes)]
        start_at = time.time() + 0.2  # every process starts its clock together
        jobs = [(target.host, target.port, request, head, n, duration_s, timeout_s, start_at) for n in shares]
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            tallies = pool.map(_generate_star, jobs)
    latencies = array("d")
    for tally in tallies:
        latencies.frombytes(tally.latencies)
    ordered = sorted(latencies)
    requests = sum(t.requests for t in tallies)
    elapsed = max(t.elapsed for t in tallies)
    return LoadResult(
        requests=requests,
        rps=requests / elapsed if elapsed else 0.0,
        p50_ms=percentile(ordered, 50) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        non_2xx=sum(t.non_2xx for t in tallies),
        errors=sum(t.errors for t in tallies),
        engine="python" if processes == 1 else f"python x{processes}",
        duration_s=elapsed,
    )


# --- a trivial server, to measure the generators themselves ------------------------------------------------------

_CANNED = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


def _trivial_server(listener: socket.socket) -> None:
    """Answer every request without a body on the shared listening socket with a canned 200, until killed."""
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    pending: dict[socket.socket, bytearray] = {}
    while True:
        for key, _ in selector.select():
            if key.data is None:
                try:
                    client, _ = listener.accept()
                except BlockingIOError:
                    continue
                client.setblocking(False)
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                pending[client] = bytearray()
                selector.register(client, selectors.EVENT_READ, True)
                continue
            client = key.fileobj  # type: ignore[assignment]
            try:
                data = client.recv(_RECV_BYTES)
            except OSError:
                data = b""
            if not data:
                selector.unregister(client)
                pending.pop(client, None)
                client.close()
                continue
            buffer = pending[client]
            buffer += data
            count = buffer.count(b"\r\n\r\n")
            if count:
                del buffer[: buffer.rfind(b"\r\n\r\n") + 4]
                try:
                    client.sendall(_CANNED * count)
                except OSError:
                    selector.unregister(client)
                    pending.pop(client, None)
                    client.close()


def selftest(connections: int, duration_s: float, server_processes: int) -> list[tuple[str, LoadResult]]:
    """Both engines (and the python one with two processes) against a trivial keep-alive server on this machine."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    context = multiprocessing.get_context("fork")
    servers = [context.Process(target=_trivial_server, args=(listener,), daemon=True) for _ in range(server_processes)]
    for server in servers:
        server.start()
    listener.close()
    results: list[tuple[str, LoadResult]] = []
    try:
        runs: list[tuple[str, str, int]] = [("python", "python", 1), ("python", "python x2", 2)]
        if wrk_available():
            runs.insert(0, ("wrk", "wrk -t1", 1))
        for engine, label, processes in runs:
            run_load(url, "GET", {}, b"", connections, 1.0, engine=engine, processes=processes)  # warm-up
            results.append(
                (label, run_load(url, "GET", {}, b"", connections, duration_s, engine=engine, processes=processes))
            )
    finally:
        for server in servers:
            server.terminate()
            server.join(5)
    return results


# --- command line ------------------------------------------------------------------------------------------------


def format_table(rows: Sequence[tuple[str, LoadResult]]) -> str:
    lines = [
        "| run | requests | req/s | p50 ms | p99 ms | non-2xx | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {r.requests:,} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.non_2xx:,} | {r.errors:,} |"
        )
    return "\n".join(lines)


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"a header is 'Name: value', not {text!r}")
    return name.strip(), value.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("url", nargs="?", help="http://host:port/path (not needed with --selftest)")
    parser.add_argument("-X", "--method", default="GET")
    parser.add_argument("-H", "--header", action="append", type=_parse_header, default=[], help="'Name: value'")
    parser.add_argument("--body", default="", help="request body (text)")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="seconds [default: 10; --quick: 3]")
    parser.add_argument("--engine", choices=ENGINES, default="auto")
    parser.add_argument("--processes", type=int, default=1, help="processes of the python engine")
    parser.add_argument("--selftest", action="store_true", help="measure the engines against a trivial server")
    parser.add_argument("--server-processes", type=int, default=2, help="processes of the --selftest server")
    parser.add_argument("--quick", action="store_true", help="a few seconds per run")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    duration = 3.0 if args.quick else args.duration
    if args.selftest:
        rows = selftest(args.connections, duration, args.server_processes)
        print(
            f"Load generators against a trivial keep-alive server ({args.server_processes} processes), "
            f"{args.connections} connections, {duration:g} s, {os.cpu_count()} cores, {platform.python_version()}"
        )
    elif args.url:
        result = run_load(
            args.url,
            args.method,
            dict(args.header),
            args.body,
            args.connections,
            duration,
            engine=args.engine,
            processes=args.processes,
        )
        rows = [(f"{args.method} {args.url}", result)]
    else:
        parser.error("a URL, or --selftest")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"runs": [{"run": label, **asdict(r)} for label, r in rows]}, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
