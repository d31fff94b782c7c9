"""Keep a keep-alive connection usable after an answer that left part of the request body unread.

The app refuses some requests without reading their body (413 over a size limit, 405, a refusal decided
from the headers). The server then drops the connection without saying so, and a client that sends its
next request on it gets a reset instead of an answer. So, when the answer starts: a small unread rest is
read and thrown away, and a large one (not worth receiving) makes the answer say `Connection: close`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Unread bytes worth receiving to keep the connection: a few round trips at most.
DRAIN_LIMIT = 64 * 1024


class CountingInput:
    """wsgi.input that remembers how much was read and whether its end was seen."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.count = 0
        self.ended = False

    def read(self, size: int | None = -1) -> bytes:
        """Reads as the wrapped input does, counting the bytes. Reading to the end, or getting nothing
        when asking for some, marks the end seen."""
        data = self.inner.read() if size is None or size < 0 else self.inner.read(size)
        self._saw(data, size)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        """Reads a line as the wrapped input does, counting its bytes; an empty line marks the end seen."""
        data = self.inner.readline() if size is None or size < 0 else self.inner.readline(size)
        self.count += len(data)
        if not data:
            self.ended = True
        return data

    def __iter__(self) -> CountingInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _saw(self, data: bytes, size: int | None) -> None:
        self.count += len(data)
        if (not data and size != 0) or size is None or size < 0:
            self.ended = True

    def drain(self, length: int | None) -> bool:
        """Read and drop the unread rest of the body; False, reading nothing more, when it is over DRAIN_LIMIT."""
        if length is not None:
            if length - self.count > DRAIN_LIMIT:
                return False
            while not self.ended and self.count < length:
                self.read(length - self.count)
            return True
        dropped = 0  # chunked: the size is only known at its end
        while not self.ended:
            dropped += len(self.read(min(16 * 1024, DRAIN_LIMIT + 1 - dropped)))
            if dropped > DRAIN_LIMIT:
                return False
        return True


class BodyGuard:
    """WSGI middleware: wraps the body of every request that has one (see the module docstring)."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = _content_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked and not length:
            return self.app(environ, start_response)
        body = CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = body

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not body.drain(None if chunked else length):
                headers = [*headers, ("Connection", "close")]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _content_length(environ: WSGIEnvironment) -> int | None:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0)) or None
    except ValueError:
        return None
