"""A stub's answer as it goes on the wire, made without a werkzeug `Response` where that changes nothing.

A stub answer is made once per interaction and then replayed, so for most contracts its cost does not matter.
Requests spread over a contract of 100,000 interactions are the exception: nearly every one is a first, and
building, finishing and listing a werkzeug `Response` was a seventh of such a request's time. For the common
answer (a known status with a body, no Location header, no header value werkzeug would refuse) this makes the
same status line, the same headers in the same order and the same body as `to_flask` followed by
`get_wsgi_headers`; any other answer goes the werkzeug way (`wire_answer` gives None). tests/unit/
test_wire_answer.py holds the two ways equal over every interaction of the pacts the tests serve.
"""

from __future__ import annotations

from werkzeug.http import HTTP_STATUS_CODES

from ..contract.model import Response as ContractResponse
from .dispatch import encoded_body

# Headers werkzeug rewrites when it finishes an answer (`get_wsgi_headers`): answers carrying them go its way.
_REWRITTEN = frozenset({"location", "content-location"})
_STATUS_LINES = {code: f"{code} {reason.upper()}" for code, reason in HTTP_STATUS_CODES.items()}


def wire_answer(response: ContractResponse, allow: str | None) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """Status line, headers (CORS for ``allow`` included) and body of a contract response without generators;
    None when werkzeug would answer it differently than this simple path does (`to_flask` then makes it)."""
    status = response.status
    line = _STATUS_LINES.get(status)
    if line is None or 100 <= status < 200 or status in (204, 304):
        return None  # unknown reasons, and the statuses whose Content-Length werkzeug takes away
    data, content_type = encoded_body(response)
    headers: list[tuple[str, str]] = [("Content-Length", str(len(data)))]
    for name, values in response.headers.items():
        value = ", ".join(values)
        if name.lower() in _REWRITTEN or "\n" in value or "\r" in value:
            return None
        _set(headers, name, value)
    if content_type and not _has(headers, "content-type"):
        headers.append(("Content-Type", content_type))
    if allow is not None:
        _set(headers, "Access-Control-Allow-Origin", allow)
        if allow != "*":
            _set(headers, "Vary", "Origin")
    return line, headers, data


def _has(headers: list[tuple[str, str]], lowered: str) -> bool:
    return any(name.lower() == lowered for name, _ in headers)


def _set(headers: list[tuple[str, str]], name: str, value: str) -> None:
    """As werkzeug's `Headers.set`: the first header of that name (any case) replaced in place, the others gone."""
    lowered = name.lower()
    for index, (old, _) in enumerate(headers):
        if old.lower() == lowered:
            headers[index] = (name, value)
            headers[index + 1 :] = [pair for pair in headers[index + 1 :] if pair[0].lower() != lowered]
            return
    headers.append((name, value))
