"""The stub path against the machine's limit: pactmock beside a bare granian app answering the same bytes.

Run from the project root::

    python -m bench.stub_ceiling                      # a., then one path and random paths over 100,000
    python -m bench.stub_ceiling --only a --duration 5
    python -m bench.stub_ceiling --only random --size 10000
    python -m bench.stub_ceiling --profile DIR        # py-spy records each pactmock worker during its load

Issue 15's first target: on scenario a. of ``bench.compare`` (``POST /jobs/register`` of the epx contract, its
provider renamed so that the stub answers) pactmock's req/s is at least 0.6x a bare granian WSGI app with the same
worker layout (``--workers``, 2 by default) returning the same bytes; on random paths over 100,000 interactions at
least 0.8x its own single-path figure; p99 under 10 ms on both.

Servers, one at a time, each fresh on a free loopback port:

* ``pactmock serve --workers N`` on the pact (a fresh SQLite file);
* ``granian --interface wsgi --workers N`` serving ``bare_wsgi`` below: the status, headers and body pactmock gave
  the same request, replayed (granian adds its own ``server`` and ``date`` as it does for pactmock);
* ``granian --interface rsgi --workers N`` serving ``bare_rsgi``: the same bytes through the interface pactmock
  itself is served by (what granian costs without any Python app work).

Loads: wrk, one thread, ``--connections`` (32) keep-alive connections, ``--duration`` seconds after a warm-up of
``--warmup`` seconds. "one path" repeats the synthetic pact's middle interaction; "random" picks, per request,
one of all N interactions uniformly (``tests.support.synthetic``; every one is a request its contract allows), so
almost every request reaches an interaction not asked for in the last few seconds. ``cat /proc/loadavg`` is
printed before each load. Nothing is judged here beyond the printed ratios.

Measured 2026-12-01 (2 cores shared with other helpers' tests; 5 s runs, 2 workers; before = 53ed15a, after =
befc02c; two rounds each): a. pactmock 10,345 and 9,781 -> 16,400 and 20,510 req/s (p99 6.6-7.1 -> 3.7-4.5 ms),
bare granian WSGI 53-62k, bare RSGI 21-34k: 0.17x -> 0.27-0.39x of bare WSGI. One path of 100,000: 8,893 ->
18,888 req/s. Random over 100,000: 3,939 and 3,827 -> 5,915 and 5,411 req/s (p99 78-95 -> 45-52 ms), 0.29x of
the one-path figure. Load averages 3-7 before, up to 15 during the second "after" round.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.compare import EPX_PACT, REGISTER, STUB_PROVIDER, free_port, mock_env, process_tree, stop_server
from bench.loadgen import lua_string
from tests.support import synthetic

HOST = "127.0.0.1"
ANSWER_ENV = "STUB_CEILING_ANSWER"
MARKER = "STUB_CEILING "
PYSPY = os.environ.get("PYSPY", "py-spy")


# --- the bare apps (loaded by granian in its workers) ------------------------------------------------------------


def _answer() -> tuple[int, list[tuple[str, str]], bytes]:
    data = json.loads(Path(os.environ[ANSWER_ENV]).read_text(encoding="utf-8"))
    return data["status"], [tuple(pair) for pair in data["headers"]], bytes.fromhex(data["body"])


_STATUS, _HEADERS, _BODY = _answer() if ANSWER_ENV in os.environ else (200, [], b"")
_STATUS_LINE = f"{_STATUS} {http.client.responses.get(_STATUS, '')}"


def bare_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The recorded answer, whatever was asked: the request body is read, as any app reads it."""
    stream = environ.get("wsgi.input")
    if stream is not None:
        stream.read()
    start_response(_STATUS_LINE, list(_HEADERS))
    return [_BODY]


async def bare_rsgi(scope: Any, proto: Any) -> None:
    """The recorded answer over RSGI, after the whole request body."""
    await proto()
    proto.response_bytes(_STATUS, _HEADERS, _BODY)


# --- servers -----------------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    def workers(self) -> list[int]:
        return process_tree(self.process.pid)[1:]


def start_pactmock(pact_dir: Path, workers: int, work: Path, log: Path) -> Server:
    port = free_port()
    command = [str(Path(sys.executable).parent / "pactmock"), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers)]
    env = mock_env(pact_dir, f"sqlite:///{work / f'ceiling-{port}.sqlite3'}")
    process = subprocess.Popen(
        command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )
    return Server("pactmock", process, port)


def start_bare(interface: str, answer_file: Path, workers: int, log: Path) -> Server:
    port = free_port()
    target = "bench.stub_ceiling:bare_wsgi" if interface == "wsgi" else "bench.stub_ceiling:bare_rsgi"
    command = [str(Path(sys.executable).parent / "granian"), "--interface", interface, "--workers", str(workers)]
    command += ["--host", HOST, "--port", str(port), "--no-ws", "--log-level", "warning", target]
    env = dict(os.environ, **{ANSWER_ENV: str(answer_file)})
    process = subprocess.Popen(
        command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )
    return Server(f"bare granian {interface.upper()}", process, port)


def ask(port: int, probe: synthetic.Probe, timeout_s: float = 5.0) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        connection.request(probe.method, probe.path, body=probe.body or None, headers=probe.headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def wait_ready(server: Server, probe: synthetic.Probe, timeout_s: float) -> tuple[int, list[tuple[str, str]], bytes]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited {server.process.returncode}")
        try:
            return ask(server.port, probe)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer within {timeout_s} s")


def record_answer(answer: tuple[int, list[tuple[str, str]], bytes], path: Path) -> None:
    """What the bare apps replay: pactmock's status, headers (less those granian writes itself) and body."""
    status, headers, body = answer
    kept = [
        (name.lower(), value) for name, value in headers if name.lower() not in ("server", "date", "content-length")
    ]
    path.write_text(json.dumps({"status": status, "headers": kept, "body": body.hex()}), encoding="utf-8")


# --- load --------------------------------------------------------------------------------------------------------


def raw_request(probe: synthetic.Probe, port: int) -> bytes:
    lines = [f"{probe.method} {probe.path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in probe.headers.items()]
    if probe.body or probe.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(probe.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + probe.body


def synthetic_probe(index: int, count: int) -> synthetic.Probe:
    """The request interaction ``index`` of the synthetic pact allows (its own example values)."""
    request = synthetic.interaction(index, count)["request"]
    headers = {name: values[0] for name, values in request["headers"].items()}
    body = json.dumps(request["body"]["content"], separators=(",", ":")).encode() if "body" in request else b""
    path = request["path"]
    if "query" in request:
        path += "?" + "&".join(f"{name}={values[0]}" for name, values in request["query"].items())
    return synthetic.Probe(request["method"], path, headers, body)


WRK_LUA = """
local requests = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  non2xx = 0
  local file = io.open(REQUESTS, "rb")
  local data = file:read("*a")
  file:close()
  for piece in string.gmatch(data, "([^\\001]+)") do table.insert(requests, piece) end
  count = #requests
  math.randomseed(12345)
end
function request()
  if count == 1 then return requests[1] end
  return requests[math.random(count)]
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format('%s{"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, "non_2xx": %d, '
    .. '"errors": %d}\\n', MARKER, summary.requests, summary.duration, latency:percentile(50.0),
    latency:percentile(99.0), bad, e.connect + e.read + e.write + e.timeout))
end
"""


def load(port: int, requests: Sequence[bytes], duration_s: int, connections: int) -> dict[str, Any]:
    """wrk over keep-alive connections, each request one of `requests` (uniformly at random when several)."""
    with tempfile.TemporaryDirectory(prefix="ceiling-") as folder:
        data = Path(folder) / "requests.bin"
        data.write_bytes(b"\x01".join(requests))
        script = Path(folder) / "load.lua"
        script.write_text(
            WRK_LUA.replace("REQUESTS", lua_string(str(data))).replace("MARKER", lua_string(MARKER)), encoding="utf-8"
        )
        command = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--timeout=10s", "-s", str(script)]
        done = subprocess.run([*command, f"http://{HOST}:{port}/"], capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            data_line = json.loads(line[len(MARKER) :])
            seconds = data_line["duration_us"] / 1e6
            return {
                "rps": data_line["requests"] / seconds,
                "p50_ms": data_line["p50_us"] / 1000,
                "p99_ms": data_line["p99_us"] / 1000,
                "non_2xx": data_line["non_2xx"],
                "errors": data_line["errors"],
            }
    raise RuntimeError(f"wrk gave no summary: {done.stdout} {done.stderr}")


def loadavg() -> str:
    return Path("/proc/loadavg").read_text(encoding="ascii").split(" ", 3)[:3].__str__()


def profile(server: Server, seconds: int, folder: Path, label: str) -> list[subprocess.Popen[bytes]]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [PYSPY, "record", "-p", str(pid), "-d", str(seconds), "-r", "200", "-f", "raw", "--nonblocking"]
            + ["-o", str(folder / f"{label}-{pid}.txt")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in server.workers()
    ]


# --- runs --------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    server: str
    result: dict[str, Any]
    load_before: str


def run(
    server: Server, scenario: str, requests: Sequence[bytes], args: argparse.Namespace, profile_as: str | None
) -> Row:
    try:
        if args.warmup:
            load(server.port, requests, args.warmup, args.connections)
        before = loadavg()
        profilers = profile(server, args.duration, args.profile, profile_as) if args.profile and profile_as else []
        result = load(server.port, requests, args.duration, args.connections)
        for profiler in profilers:
            profiler.wait(30)
    finally:
        stop_server(server.process)
    row = Row(scenario, server.name, result, before)
    print(
        f"{scenario:<28} {server.name:<22} {result['rps']:>9,.0f} req/s  p50 {result['p50_ms']:6.2f} ms  "
        f"p99 {result['p99_ms']:6.2f} ms  non-2xx {result['non_2xx']}  errors {result['errors']}  "
        f"loadavg {before}",
        flush=True,
    )
    return row


def epx_pact(work: Path) -> Path:
    folder = work / "epx"
    folder.mkdir(exist_ok=True)
    pact = json.loads(EPX_PACT.read_text(encoding="utf-8"))
    pact["provider"]["name"] = STUB_PROVIDER
    (folder / "epx-epistemixstub.json").write_text(json.dumps(pact, indent=2), encoding="utf-8")
    return folder


def triple(
    scenario: str,
    pact_dir: Path,
    probe: synthetic.Probe,
    requests_for: Any,
    args: argparse.Namespace,
    work: Path,
    with_bare: bool,
) -> list[Row]:
    rows = []
    slug = "-".join(scenario.replace(",", "").replace("/", " ").split()[:3])
    mock = start_pactmock(pact_dir, args.workers, work, work / f"{slug}-pactmock.log")
    answer = wait_ready(mock, probe, 300)
    if answer[0] != 200:
        stop_server(mock.process)
        raise RuntimeError(f"pactmock answered {answer[0]}: {answer[2][:300]!r}")
    rows.append(run(mock, scenario, requests_for(mock.port), args, slug))
    if not with_bare:
        return rows
    answer_file = work / f"{slug}-answer.json"
    record_answer(answer, answer_file)
    for interface in ("wsgi", "rsgi"):
        bare = start_bare(interface, answer_file, args.workers, work / f"{slug}-{interface}.log")
        wait_ready(bare, probe, 30)
        rows.append(run(bare, scenario, requests_for(bare.port), args, None))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stub_ceiling", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=("a", "one", "random"), help="scenarios [all]")
    parser.add_argument("--size", type=int, default=100_000, help="synthetic interactions [100,000]")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run [10]")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each run [2]")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", type=Path, help="py-spy raw stacks of each pactmock worker go here")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "stub-ceiling")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    chosen = args.only or ["a", "one", "random"]
    args.work.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    if "a" in chosen:
        folder = epx_pact(args.work)
        rows += triple(
            "a. epx POST /jobs/register",
            folder,
            REGISTER,
            lambda port: [raw_request(REGISTER, port)],
            args,
            args.work,
            True,
        )
    if "one" in chosen or "random" in chosen:
        folder = args.work / f"synthetic-{args.size}"
        if not synthetic.pact_path(folder, args.size).exists():
            synthetic.write_pact(folder, args.size)
        middle = synthetic.probe(args.size)
        if "one" in chosen:
            rows += triple(
                f"one path of {args.size:,}",
                folder,
                middle,
                lambda port: [raw_request(middle, port)],
                args,
                args.work,
                True,
            )
        if "random" in chosen:
            probes = [synthetic_probe(i, args.size) for i in range(args.size)]
            rows += triple(
                f"random over {args.size:,}",
                folder,
                middle,
                lambda port: [raw_request(p, port) for p in probes],
                args,
                args.work,
                False,
            )
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
