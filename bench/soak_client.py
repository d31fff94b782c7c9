"""The soak's HTTP side: one keep-alive connection per client thread, and one-off connections for huge bodies."""

from __future__ import annotations

import contextlib
import http.client
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

# A request that has not been answered in this long counts as a timeout: far past any sane answer, short
# enough that a hung worker shows up within one report interval.
REQUEST_TIMEOUT_S = 30.0
_BODY_CHUNK = 256 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()


@dataclass(frozen=True)
class Call:
    """One request and how to judge its answer.

    ``expect`` returns why the reply is wrong for this request (None when it is right) and records whatever
    the reply acknowledged. ``fresh`` sends it on a connection of its own that is closed afterwards: a body
    the server refuses before reading it all leaves the connection unusable.
    """

    op: str
    kind: str  # good, bad or control
    method: str
    target: str
    headers: dict[str, str]
    expect: Callable[[Reply], str | None]
    body: bytes = b""
    fresh: bool = False
    outage_ok: Callable[[Reply], bool] = field(default=lambda reply: proper_503(reply))


def proper_503(reply: Reply) -> bool:
    """What a request must get while the database is unreachable: 503 problem+json saying when to retry."""
    return (
        reply.status == 503
        and reply.content_type == "application/problem+json"
        and (reply.headers.get("Retry-After") or "").isdigit()
    )


class Failed(Exception):
    """No answer: ``kind`` is "timeout" or "connection"."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class Client:
    """Sends calls to the mock at ``host:port`` on a kept-alive connection; reconnects after any failure."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection: http.client.HTTPConnection | None = None

    def send(self, call: Call) -> Reply:
        if call.fresh:
            return self._send_once(call)
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            self.connection.request(call.method, call.target, body=call.body or None, headers=call.headers)
            response = self.connection.getresponse()
            reply = Reply(response.status, response.headers, response.read())
        except BaseException as exc:
            self.close()
            raise _failure(exc) from exc
        if response.will_close:
            self.close()
        return reply

    def _send_once(self, call: Call) -> Reply:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            connection.putrequest(call.method, call.target, skip_accept_encoding=True)
            for name, value in call.headers.items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(call.body)))
            connection.endheaders()
            # The mock may answer 413 and close before the body is all sent, as it should: stop sending then
            # and read the answer it gave, as curl does.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for start in range(0, len(call.body), _BODY_CHUNK):
                    connection.send(call.body[start : start + _BODY_CHUNK])
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        except BaseException as exc:
            raise _failure(exc) from exc
        finally:
            connection.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _failure(exc: BaseException) -> BaseException:
    if isinstance(exc, socket.timeout | TimeoutError):
        return Failed("timeout", repr(exc))
    if isinstance(exc, OSError | http.client.HTTPException):
        return Failed("connection", repr(exc))
    return exc
