"""Slow peers for the soak: connections that send a request's headers and then trickle its body, or trickle
the headers themselves, for as long as the server lets them; each is replaced when the server closes it.

They must cost the mock nothing its other clients can see: the soak's latency verdicts run with them present.
What the server said to them (408 problem+json, or a close) is counted and reported.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter

from tests.support.epx import EPX_HEADERS

SLOW_BODY_HEAD = (
    "POST /jobs/register HTTP/1.1\r\nHost: soak\r\n"
    + "".join(f"{name}: {value}\r\n" for name, value in EPX_HEADERS.items())
    + "Content-Length: 1048576\r\n\r\n"
).encode()
SLOW_HEADERS = b"GET /health HTTP/1.1\r\nHost: soak\r\nX-Slow: "
TRICKLE_EVERY_S = 1.0


class SlowPeers:
    """`count` slow connections kept open against host:port until `stop()`; half slow bodies, half slow headers."""

    def __init__(self, host: str, port: int, count: int) -> None:
        self.host, self.port, self.count = host, port, count
        self.outcomes: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-peers", daemon=True)

    def start(self) -> None:
        if self.count > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _open(self, index: int) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=5)
            sock.sendall(SLOW_BODY_HEAD if index % 2 == 0 else SLOW_HEADERS)
            sock.setblocking(False)
            return sock
        except OSError:
            self.outcomes["could not connect"] += 1
            return None

    def _run(self) -> None:
        peers: list[socket.socket | None] = [self._open(i) for i in range(self.count)]
        while not self._stop.wait(TRICKLE_EVERY_S):
            for index, sock in enumerate(peers):
                if sock is None or not self._still_open(sock):
                    if sock is not None:
                        sock.close()
                    peers[index] = self._open(index)
                    continue
                with contextlib.suppress(OSError):  # a closed one is noticed on the next round
                    sock.send(b"x")
        for sock in peers:
            if sock is not None:
                sock.close()

    def _still_open(self, sock: socket.socket) -> bool:
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return True
        except OSError:
            self.outcomes["reset"] += 1
            return False
        if data.startswith(b"HTTP/1.1 "):
            self.outcomes[f"answered {data[9:12].decode(errors='replace')}"] += 1
        else:
            self.outcomes["closed"] += 1
        return False
