"""The floor `bench.peers` measures the stub path against: a bare WSGI app that answers every request with one answer.

Run under granian with the worker layout of `pactmock serve` (``bench.peers`` starts it)::

    PEERS_BARE_ANSWER=answer.json python -m granian --interface wsgi --workers 2 --blocking-threads 2 \\
        bench.peers_bare:application
    PEERS_BARE_ANSWER=answer.json python -m granian --interface rsgi --workers 2 bench.peers_bare:rsgi_application

The second is the same answer through granian's RSGI interface, the one `pactmock serve` runs (its entrance
receives bodies on the event loop, app/web/entrance.py): the floor of an RSGI app, against which the cost of
the interface itself and the cost of pactmock's own work can be told apart.

``answer.json`` holds ``{"status": 200, "headers": [[name, value], ...], "body": "<text>"}``: the bytes pactmock
itself answered the same request with, so the two send the same bytes. The request body is read (as any server
must, to keep the connection usable) and ignored: no routing, no matching, nothing stored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any


def _load() -> tuple[str, list[tuple[str, str]], bytes]:
    answer = json.loads(Path(os.environ["PEERS_BARE_ANSWER"]).read_text(encoding="utf-8"))
    status = int(answer["status"])
    body = answer["body"].encode()
    # What the server itself writes (framing, date, its name) is left to granian, as it is for pactmock.
    own = {"content-length", "transfer-encoding", "connection", "date", "server", "keep-alive"}
    headers = [(str(n), str(v)) for n, v in answer["headers"] if n.lower() not in own]
    headers.append(("Content-Length", str(len(body))))
    return f"{status} {HTTPStatus(status).phrase}", headers, body


_STATUS, _HEADERS, _BODY = _load() if "PEERS_BARE_ANSWER" in os.environ else ("200 OK", [], b"")
_STATUS_CODE = int(_STATUS.split(" ", 1)[0])  # RSGI takes the code alone


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = environ.get("CONTENT_LENGTH")
    if length:
        environ["wsgi.input"].read(int(length))
    start_response(_STATUS, _HEADERS)
    return [_BODY]


async def rsgi_application(scope: Any, proto: Any) -> None:
    """The same answer as `application`, through RSGI: the body is awaited, then the bytes sent."""
    if scope.proto != "http":
        return
    await proto()
    proto.response_bytes(_STATUS_CODE, _HEADERS, _BODY)
