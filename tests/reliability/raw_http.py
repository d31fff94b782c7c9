"""HTTP/1.1 requests as exact bytes over a keep-alive socket, for the bad-input fuzzer.

http.client and requests tidy a request up (one value per header, a valid target, ASCII only); the
fuzzer needs what a broken client really sends, so each request is written byte for byte.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

# Past these an HTTP server may answer on its own, without asking the app. They are common servers'
# defaults (gunicorn's request line and field limits); granian's own are higher (a 64 KB target,
# a 400 KB request head), so a request flagged here may well reach the app.
SERVER_LINE_LIMIT = 8190
SERVER_FIELD_LIMIT = 100
LARGEST_BODY = 10 * 1024 * 1024
TOKEN_CHARS = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
TARGET_CHARS = frozenset(range(0x21, 0x7F))


@dataclass
class WireRequest:
    """One request exactly as it goes on the wire; `mutations` says how it differs from the contract's example."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    chunked: bool = False
    mutations: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        lines = [self.method + b" " + self.target + b" HTTP/1.1", b"Host: 127.0.0.1"]
        lines += [name + b": " + value for name, value in self.headers]
        if self.chunked:
            lines.append(b"Transfer-Encoding: chunked")
            return b"\r\n".join(lines) + b"\r\n\r\n" + _chunks(self.body)
        if self.body or self.method in (b"POST", b"PUT", b"PATCH"):
            lines.append(b"Content-Length: " + str(len(self.body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body

    def server_may_refuse(self) -> bool:
        """Whether the HTTP server itself may refuse this request (an answer that is not the app's problem+json).

        An HTTP server rejects what it cannot parse or will not buffer before any application code runs.
        """
        if len(self.method) + len(self.target) + 10 > SERVER_LINE_LIMIT or len(self.headers) + 1 > SERVER_FIELD_LIMIT:
            return True
        if not self.method or not set(self.method) <= TOKEN_CHARS or not self.target.startswith(b"/"):
            return True
        if not set(self.target) <= TARGET_CHARS:
            return True
        for name, value in self.headers:
            if not name or not set(name) <= TOKEN_CHARS or len(name) + len(value) + 2 > SERVER_LINE_LIMIT:
                return True
            if any((byte < 0x20 and byte != 0x09) or byte == 0x7F for byte in value):
                return True
            if name.lower() in (b"content-length", b"transfer-encoding", b"host"):
                return True
        return False

    def may_go_unanswered(self) -> bool:
        """A server may close on a request it refuses unread, before the client has finished sending it
        (then the client cannot read the answer): one the HTTP server cannot parse, or a body over the
        mock's largest limit (the 10 MB upload limit)."""
        return self.server_may_refuse() or len(self.body) > LARGEST_BODY

    def describe(self, limit: int = 600) -> str:
        """The request as a reproducible Python bytes literal (cut to `limit` characters per part)."""
        head, blank, body = self.encode().partition(b"\r\n\r\n")
        return f"mutations {self.mutations}\nhead {_cut(head + blank, limit)}\nbody {_cut(body, limit)}"


def _cut(data: bytes, limit: int) -> str:
    shown = repr(data[:limit])
    return shown if len(data) <= limit else f"{shown} ... ({len(data)} bytes in all)"


def _chunks(body: bytes) -> bytes:
    # Uneven chunk sizes, so a server that assumes one chunk per read is caught out.
    pieces, start, size = [], 0, 1
    while start < len(body):
        piece = body[start : start + size]
        pieces.append(f"{len(piece):x}".encode() + b"\r\n" + piece + b"\r\n")
        start, size = start + size, size * 7 + 3
    return b"".join(pieces) + b"0\r\n\r\n"


@dataclass
class RawReply:
    status: int
    headers: Message
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class RawConnection:
    """A keep-alive connection that writes WireRequests; reopened after the server closes it.

    `silent_closes` lists the requests after which the server closed the connection without saying
    so (no "Connection: close"): the next request on it found a dead socket and was sent again on a
    fresh one, as HTTP clients do with a stale keep-alive connection.
    """

    def __init__(self, url: str, timeout: float = 60) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.address = (parts.hostname, parts.port)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.previous: WireRequest | None = None
        self.silent_closes: list[WireRequest] = []

    def send(self, request: WireRequest) -> RawReply | None:
        """The server's answer, or None when it closed the connection without one."""
        reused = self.sock is not None
        reply = self._exchange(request)
        if reply is None and reused and self.previous is not None:
            self.silent_closes.append(self.previous)
            reply = self._exchange(request)
        self.previous = request
        return reply

    def _exchange(self, request: WireRequest) -> RawReply | None:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
        sock = self.sock
        # The server may answer a request it stopped reading (431, 413) and close: read that answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request.encode())
        response = http.client.HTTPResponse(sock, method=request.method.decode("latin-1"))
        try:
            response.begin()
            content = response.read()
        except (http.client.HTTPException, ConnectionError):
            self.close()
            return None
        if response.will_close:
            self.close()
        return RawReply(response.status, response.headers, content)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
