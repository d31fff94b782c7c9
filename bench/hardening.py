"""What a few hostile or broken clients do to `pactmock serve` (issue 20's figures), side by side.

For each code tree given (the repository by default; `--code-dir` adds another checkout, an older commit say)
it starts `python -m app.cli serve --workers 2` on the repository's pacts and a fresh SQLite file, then measures:

* normal-request latency (4 client threads, `POST /jobs/register`, 5 s) alone, with 64 slow-body clients
  connected (headers of a 1 MB body, then a few bytes), and with 2,000 idle connections;
* worker RSS before and after 8 `PUT`s to a 60 KB path of `/a` repeated, and the peak seen;
* after `kill -9` of one worker: how long until a request is answered again, and until a new worker is up;
* with `--stub-cpu`: the server's CPU time per stub answer (the epx contract under another provider name, so
  `POST /jobs/register` is answered from the contract), under 32 connections for 8 s, the trees alternating
  `--rounds` times. CPU per answer is far steadier than req/s on a shared machine.

    python -m bench.hardening                          # this tree
    python -m bench.hardening --code-dir /tmp/base     # and an older checkout, in the same run
    python -m bench.hardening --stub-cpu --code-dir /tmp/base --rounds 3

A request that is not answered within 10 s counts as failed. This module reports numbers; it never judges them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.loadgen import run_load
from tests.support.epx import EPX_HEADERS

ROOT = Path(__file__).resolve().parents[1]
REGISTER_BODY = b'{"tags": ["info_job"]}'
SLOW_HEAD = (
    "POST /jobs/register HTTP/1.1\r\nHost: bench\r\n"
    + "".join(f"{name}: {value}\r\n" for name, value in EPX_HEADERS.items())
    + "Content-Length: 1048576\r\n\r\n"
).encode()


@dataclass
class Latency:
    answered: int = 0
    failed: int = 0
    samples: list[float] = field(default_factory=list)

    def line(self) -> str:
        if not self.samples:
            return f"answered 0, failed {self.failed}"
        ordered = sorted(self.samples)
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        return f"answered {self.answered}, failed {self.failed}, p50 {p50:.1f} ms, p99 {p99:.1f} ms"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def workers(self) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False)
        return [int(pid) for pid in found.stdout.split()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def serving(code_dir: Path, work: Path, **env: str) -> Iterator[Server]:
    port = free_port()
    environment = {
        **os.environ,
        "PACT_DIR": str(ROOT / "pacts"),
        "DATABASE_URL": f"sqlite:///{work / f'bench-{port}.sqlite3'}",
        "FLASK_HOST": "127.0.0.1",
        **env,
    }
    with (work / f"serve-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--workers", "2", "--port", str(port)],
            cwd=code_dir,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port)
    try:
        deadline = time.monotonic() + 60
        while not answered(port, "GET", "/health", {}, b""):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the server in {code_dir} did not start; see {work}")
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def answered(port: int, method: str, path: str, headers: dict[str, str], body: bytes, timeout: float = 10) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status < 500
    except (OSError, http.client.HTTPException):
        return False


def normal_load(port: int, seconds: float = 5, clients: int = 4) -> Latency:
    result = Latency()
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < end:
            started = time.monotonic()
            ok = answered(port, "POST", "/jobs/register", EPX_HEADERS, REGISTER_BODY)
            took = time.monotonic() - started
            with lock:
                result.samples.append(took)
                if ok:
                    result.answered += 1
                else:
                    result.failed += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def open_sockets(port: int, count: int, first_bytes: bytes) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if first_bytes:
            sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def long_path_rss(server: Server) -> str:
    path = "/a" * 30_000
    before = {pid: rss_mb(pid) for pid in server.workers()}
    peak = dict(before)
    statuses = []
    for _ in range(8):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            connection.request("PUT", path, body=b"{}", headers={"Content-Type": "application/json"})
            statuses.append(connection.getresponse().status)
            connection.close()
        except (OSError, http.client.HTTPException) as exc:
            statuses.append(type(exc).__name__)
        for pid in peak:
            peak[pid] = max(peak[pid], rss_mb(pid))
    after = {pid: rss_mb(pid) for pid in before}
    return (
        f"statuses {sorted(set(map(str, statuses)))}; worker RSS before {sum(before.values()):.0f} MB, "
        f"after {sum(after.values()):.0f} MB, peak of one worker {max(peak.values()):.0f} MB"
    )


def kill_a_worker(server: Server) -> str:
    workers = server.workers()
    os.kill(workers[0], signal.SIGKILL)
    killed = time.monotonic()
    first_answer = new_worker = None
    while time.monotonic() - killed < 15 and (first_answer is None or new_worker is None):
        if first_answer is None and answered(server.port, "GET", "/health", {}, b"", timeout=2):
            first_answer = time.monotonic() - killed
        if new_worker is None and len(set(server.workers()) - set(workers)) == 1:
            new_worker = time.monotonic() - killed
        time.sleep(0.01)
    alive = server.process.poll() is None
    answer = "never" if first_answer is None else f"{first_answer * 1000:.0f} ms"
    spawned = "none within 15 s" if new_worker is None else f"{new_worker:.2f} s"
    return f"answered again after {answer}; new worker after {spawned}; server alive: {alive}"


def measure(code_dir: Path, work: Path) -> None:
    print(f"\n== {code_dir}")
    with serving(code_dir, work) as server:
        normal_load(server.port, seconds=2)  # warm up
        print(f"normal requests alone:               {normal_load(server.port).line()}")
        slow = open_sockets(server.port, 64, SLOW_HEAD + b'{"tags": [')
        print(f"with 64 slow-body clients:           {normal_load(server.port).line()}")
        close_all(slow)
        idle = open_sockets(server.port, 2000, b"")
        print(f"with 2,000 idle connections:         {normal_load(server.port).line()}")
        close_all(idle)
        print(f"8 PUTs to a 60 KB '/a' path:         {long_path_rss(server)}")
        print(f"kill -9 of a worker:                 {kill_a_worker(server)}")


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime and stime
        except OSError:
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def stub_cpu(code_dir: Path, work: Path) -> str:
    pact = json.loads((ROOT / "pacts" / "epx-epistemix.json").read_text())
    pact["provider"]["name"] = "EpistemixStub"
    folder = work / "stub-pacts"
    folder.mkdir(exist_ok=True)
    (folder / "stub.json").write_text(json.dumps(pact))
    with serving(code_dir, work, PACT_DIR=str(folder)) as server:
        url = f"http://127.0.0.1:{server.port}/jobs/register"
        run_load(url, "POST", EPX_HEADERS, REGISTER_BODY, connections=32, duration_s=2)
        pids = [server.process.pid, *server.workers()]
        before = cpu_seconds(pids)
        load = run_load(url, "POST", EPX_HEADERS, REGISTER_BODY, connections=32, duration_s=8)
        used = cpu_seconds(pids) - before
    per_answer = used / max(1, load.requests) * 1e6
    return f"{code_dir}: {load.rps:,.0f} req/s, p99 {load.p99_ms:.1f} ms, {per_answer:.0f} us CPU per answer"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code-dir", type=Path, action="append", default=[], help="another checkout to measure")
    parser.add_argument("--stub-cpu", action="store_true", help="measure CPU per stub answer instead")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the trees for --stub-cpu [3]")
    args = parser.parse_args()
    trees = [code_dir.resolve() for code_dir in [ROOT, *args.code_dir]]
    with tempfile.TemporaryDirectory(prefix="pactmock-hardening-") as folder:
        if args.stub_cpu:
            for _ in range(args.rounds):
                for code_dir in trees:
                    print(stub_cpu(code_dir, Path(folder)), flush=True)
            return
        for code_dir in trees:
            measure(code_dir, Path(folder))


if __name__ == "__main__":
    main()
