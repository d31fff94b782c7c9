"""Peers that hold a server's connections without finishing a request, and a look at the server's processes.

Clients no HTTP library will be (a body trickled or never sent, a request line a byte at a time, a silent
connection, a large answer never read), each a plain socket, watched by the thousand with `selectors`.
Every wait has a deadline: a server that never answers makes a test fail, never hang.
"""

from __future__ import annotations

import contextlib
import http.client
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.epx import EPX_HEADERS

Address = tuple[str, int]


def address_of(url: str) -> Address:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def request_head(method: str, target: str, headers: dict[str, str], **more: str) -> bytes:
    """A request line and headers, ending with the blank line: exactly what goes on the wire."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in {**headers, **more}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def epx_head(method: str, target: str, **more: str) -> bytes:
    return request_head(method, target, EPX_HEADERS, **more)


# --- answers read from raw sockets ---


@dataclass
class Answer:
    """What came back on one connection: the bytes, and whether the server closed it."""

    data: bytes = b""
    closed: bool = False  # the server closed (EOF or reset)

    @property
    def status(self) -> int | None:
        line = self.data.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        return int(parts[1]) if len(parts) >= 2 and line.startswith(b"HTTP/1.") and parts[1].isdigit() else None

    @property
    def headers(self) -> dict[str, str]:
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        pairs = (line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line)
        return {name.strip().lower(): value.strip() for name, value in pairs}

    @property
    def body(self) -> bytes:
        return self.data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.data else b""

    def complete(self) -> bool:
        """The head and as many body bytes as Content-Length says have arrived."""
        if b"\r\n\r\n" not in self.data:
            return False
        length = self.headers.get("content-length")
        return length is not None and len(self.body) >= int(length)

    def __str__(self) -> str:
        shown = self.data[:600].decode("latin-1")
        return f"{shown!r}{' ...' if len(self.data) > 600 else ''}{' (then closed)' if self.closed else ''}"


def _read_some(sock: socket.socket, answer: Answer) -> None:
    try:
        data = sock.recv(65536)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:  # reset
        answer.closed = True
        return
    if data:
        answer.data += data
    else:
        answer.closed = True


def collect(socks: list[socket.socket], seconds: float, *, until_closed: bool = True) -> list[Answer]:
    """Read every socket until the server closes it (or, with until_closed=False, until a whole answer
    came), or until `seconds` pass; one Answer per socket, in order."""
    answers = [Answer() for _ in socks]
    selector = selectors.DefaultSelector()
    for index, sock in enumerate(socks):
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, index)
    waiting = len(socks)
    deadline = time.monotonic() + seconds
    try:
        while waiting and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=min(left, 0.5)):
                index = key.data
                _read_some(socks[index], answers[index])
                done = answers[index].closed or (not until_closed and answers[index].complete())
                if done:
                    selector.unregister(socks[index])
                    waiting -= 1
    finally:
        selector.close()
    return answers


def untouched(socks: Iterable[socket.socket]) -> int:
    """How many of these connections have nothing to read: no answer yet, not closed by the server."""
    selector = selectors.DefaultSelector()
    count = 0
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
        count += 1
    try:
        return count - len(selector.select(timeout=0))
    finally:
        selector.close()


def exchange(address: Address, data: bytes, seconds: float = 10) -> Answer:
    """One request written byte for byte on a new connection; the answer, read until it is whole or the
    server closes (a timeout leaves what came so far)."""
    sock = socket.create_connection(address, timeout=seconds)
    try:
        # The server may answer and close before taking everything: read that answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        [answer] = collect([sock], seconds, until_closed=False)
        return answer
    finally:
        sock.close()


# --- peers that hold connections ---


def connect_many(address: Address, count: int, *, receive_buffer: int | None = None) -> list[socket.socket]:
    """`count` connections, each accepted by the kernel within a few seconds (else the test fails there)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if receive_buffer is not None:
                # Set before connecting, so the window the server may fill stays this small.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.settimeout(10)
            socks.append(sock)
            sock.connect(address)
    except BaseException:
        close_all(socks)
        raise
    return socks


def send_to_all(socks: list[socket.socket], data: bytes) -> None:
    for sock in socks:
        sock.sendall(data)


def close_all(socks: Iterable[socket.socket]) -> None:
    for sock in socks:
        sock.close()


@dataclass
class Trickle:
    """Sends `data` to every socket one byte per `interval`, in a thread, until the data runs out, the server
    closes the socket, or `stop()`: a client that takes its time over a request head."""

    socks: list[socket.socket]
    data: bytes
    interval: float = 0.25
    stopped: threading.Event = field(default_factory=threading.Event)
    sent: int = 0

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Trickle:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        live = list(self.socks)
        for byte in self.data:
            if self.stopped.is_set() or not live:
                return
            for sock in list(live):
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    live.remove(sock)  # closed by the server: the test reads that from the socket itself
            self.sent += 1
            self.stopped.wait(self.interval)


# --- the server's processes, through /proc ---


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (granian's workers, for the `pactmock serve` process)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(child) for child in task.read_text().split()]
        except OSError:
            continue  # the thread ended meanwhile
    return sorted(set(children))


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {name: value.strip() for name, _, value in (line.partition(":") for line in text.splitlines())}


def rss_bytes(pid: int, field_name: str = "VmRSS") -> int:
    """Resident memory of a process (VmRSS), or its peak (VmHWM); 0 once it is gone."""
    value = _status(pid).get(field_name, "0 kB")
    return int(value.split()[0]) * 1024


def workers_rss(main_pid: int) -> int:
    return sum(rss_bytes(pid) for pid in child_pids(main_pid))


def alive(pid: int) -> bool:
    """Running: neither gone nor a zombie (an orphan whose new parent does not reap it stays one)."""
    state = _status(pid).get("State", "")
    return bool(state) and not state.startswith(("Z", "X"))


def wait_until(condition: Callable[[], bool], seconds: float, interval: float = 0.05) -> bool:
    """Whether `condition()` became true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


# --- the traffic the slow peers must not hold up ---


@dataclass
class Traffic:
    """What normal clients saw: failures (a wrong answer, a timeout) and each answer's time, for the report."""

    failures: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def summary(self) -> str:
        ordered = sorted(self.seconds) or [float("nan")]
        p50, p99 = (1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))] for share in (0.5, 0.99))
        return f"{len(self.seconds)} answered, {len(self.failures)} failed; p50 {p50:.0f} ms, p99 {p99:.0f} ms"


def normal_traffic(url: str, total: int, *, clients: int = 8, timeout: float = 5) -> Traffic:
    """`total` requests from `clients` keep-alive clients, alternately GET /health and POST /jobs/register,
    each checked; an answer that does not come within `timeout` seconds is a failure (a hang, not slowness)."""
    from .conftest import Connection  # here, not at the top: conftest is pytest's, this module is plain

    traffic = Traffic()
    lock = threading.Lock()

    def client(index: int) -> None:
        connection = Connection(url, timeout=timeout)
        for number in range(index, total, clients):
            began = time.monotonic()
            try:
                if number % 2:
                    tags = [f"normal-{number}"]
                    reply = connection.epx("POST", "/jobs/register", {"tags": tags})
                    good = reply.status == 200 and reply.json()["tags"] == tags
                else:
                    reply = connection.send("GET", "/health", {})
                    good = reply.status == 200 and reply.json()["status"] == "healthy"
                outcome = None if good else str(reply)
            except (OSError, http.client.HTTPException, ValueError) as exc:  # a timeout, a reset, a bad answer
                outcome = f"request {number}: {exc!r}"
            with lock:
                if outcome is None:
                    traffic.seconds.append(time.monotonic() - began)
                else:
                    traffic.failures.append(outcome)
        connection.close()

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Each request is bounded by the socket timeout; this only guards against a bug in the client.
        thread.join(timeout=timeout * total)
    return traffic


# --- slow peers kept up beside other traffic (the fuzzer's fault mix) ---

SLOW_HEAD = b"POST /jobs/register HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100_000


class SlowPeerMix:
    """`bodies` peers that announce a megabyte of body and send a few bytes of it, and `heads` peers that trickle
    a request head, kept connected beside other traffic: each one the server cuts off is checked (a 408
    problem+json and a close for a body, a close for a head) and replaced by a new one, until the mix stops.

    `cut_off` counts them by kind; `wrong` says how any cut-off went otherwise.
    """

    def __init__(self, url: str, *, bodies: int = 8, heads: int = 8, interval: float = 0.25) -> None:
        self.address = address_of(url)
        self.wanted = {"body": bodies, "head": heads}
        self.interval = interval
        self.cut_off: dict[str, int] = {"body": 0, "head": 0}
        self.wrong: list[str] = []
        self.selector = selectors.DefaultSelector()
        self.peers: dict[socket.socket, tuple[str, Answer]] = {}
        self.heads: dict[socket.socket, int] = {}  # a head peer -> how many bytes of SLOW_HEAD it has sent
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowPeerMix:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)

    def _open(self, kind: str) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=10)
        if kind == "body":
            sock.sendall(epx_head("POST", "/jobs/register", **{"Content-Length": str(1024 * 1024)}) + b'{"ta')
        sock.setblocking(False)
        return sock

    def _judge(self, kind: str, answer: Answer) -> None:
        self.cut_off[kind] += 1
        if kind == "body":
            fine = answer.status == 408 and answer.headers.get("content-type") == "application/problem+json"
        else:
            fine = answer.status is None or answer.status >= 400
        if not fine:
            self.wrong.append(f"slow {kind} cut off with {answer}")

    def _run(self) -> None:
        try:
            for kind, count in self.wanted.items():
                for _ in range(count):
                    self._add(kind)
            while not self.stopped.is_set():
                for sock in list(self.heads):
                    with contextlib.suppress(OSError):  # closed by the server: read below
                        sock.send(SLOW_HEAD[self.heads[sock] : self.heads[sock] + 1])
                        self.heads[sock] += 1
                for key, _ in self.selector.select(timeout=self.interval):
                    sock = key.data
                    kind, answer = self.peers[sock]
                    _read_some(sock, answer)
                    if answer.closed:
                        self.selector.unregister(sock)
                        del self.peers[sock]
                        self.heads.pop(sock, None)
                        sock.close()
                        self._judge(kind, answer)
                        self._add(kind)
        except OSError as exc:
            self.wrong.append(f"a slow peer could not connect: {exc!r}")
        finally:
            close_all(self.peers)
            self.selector.close()

    def _add(self, kind: str) -> None:
        sock = self._open(kind)
        self.peers[sock] = (kind, Answer())
        self.selector.register(sock, selectors.EVENT_READ, sock)
        if kind == "head":
            self.heads[sock] = 0
