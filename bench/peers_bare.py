"""The floor `bench.peers` measures the stub path against: a bare WSGI app that answers every request with one answer.

Run under granian with the worker layout of `pactmock serve` (``bench.peers`` starts it)::

    PEERS_BARE_ANSWER=answer.json python -m granian --interface wsgi --workers 2 --blocking-threads 2 \\
        bench.peers_bare:application

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


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = environ.get("CONTENT_LENGTH")
    if length:
        environ["wsgi.input"].read(int(length))
    start_response(_STATUS, _HEADERS)
    return [_BODY]
