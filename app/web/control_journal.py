"""The request journal on the control plane (issue 18 item 5).

GET    /_mock/journal?method=&path=&status=&interaction=&session=&since=&limit=   the server's requests, newest first
GET    /_mock/journal?merged=1&...                                        every server's, merged (journal_servers.py)
DELETE /_mock/journal                                                     forget them
POST   /_mock/journal/verify  {"method": "POST", "path": "/runs", "times": 2, "body": {...}, "headers": {...},
                               "session": "a"}
POST   /_mock/near-miss       {"method": ..., "path": ..., "query": ..., "headers": ..., "body": ...}

The journal is per server: every worker of this server is in it, other servers keep their own (journal.py);
?merged=1 gathers them all from the servers announced in the database they share.
Bad input gets a 400 problem naming what is wrong.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, current_app, jsonify, request

from ..contract.model import MISSING
from ..domain.errors import StoreUnavailable
from ..domain.sessions import InvalidSessionName, checked_name
from . import journal_servers
from .control import json_body
from .journal import Filters, Journal
from .journal_checks import Expectation, contract_request, near_misses, verify
from .problems import problem
from .served import Served

journal_control = Blueprint("journal_control", __name__)

SCOPE_NOTE = (
    "This journal is per server: it holds the requests every worker of this server answered. Several pactmock "
    "servers on one database keep one journal each; GET /_mock/journal?merged=1 gathers every server's."
)
MERGED_NOTE = "Every announced server's journal, merged newest first; each record names its server."
FILTERS = ("method", "path", "status", "interaction", "session", "since", "limit", "merged", "token")
MERGED_VALUES = {"1": True, "true": True, "0": False, "false": False}
DEFAULT_LIMIT = 100
METHOD = re.compile(r"[A-Za-z]{1,20}")
STATUS = re.compile(r"[1-5](?:\d\d|xx)")
COUNTS = ("times", "at_least", "at_most")
NEAR_MISS_KEYS = frozenset({"method", "path", "query", "headers", "body"})


class BadInput(ValueError):
    """The call's input cannot be used; the message says why (answered 400)."""


def _served() -> Served:
    served: Served = current_app.extensions["pactmock.served"]
    return served


def _journal() -> Journal | None:
    return Journal.for_server(_served().settings)


@journal_control.record_once
def _announce_this_server(state: Any) -> None:
    """At start, this server tells the others where to ask for its journal (the merged view)."""
    served: Served = state.app.extensions["pactmock.served"]
    if served.settings.journal_size > 0:
        journal_servers.announce_in_background(served.store, journal_servers.own_url(served.settings))


def _servers(served: Served) -> list[str] | None:
    """The servers announced on this database (this one announced again when missing), or None when the
    database cannot say."""
    try:
        return sorted(journal_servers.refresh(served.store, journal_servers.own_url(served.settings)))
    except StoreUnavailable:
        return None


def _off() -> dict[str, Any]:
    return {"enabled": False, "scope": "server", "note": "the journal is off: PACTMOCK_JOURNAL_SIZE=0"}


def _bad(error: BadInput) -> Response:
    return problem("invalid-request", str(error))


@journal_control.get("/_mock/journal")
def read_journal() -> Response:
    """The server's journaled requests passing the filters, newest first."""
    journal = _journal()
    if journal is None:
        return jsonify({**_off(), "total": 0, "requests": []})
    args = request.args.to_dict(flat=False)
    try:
        filters = _filters(args, journal.size)
        merged = _merged(args)
    except BadInput as error:
        return _bad(error)
    served = _served()
    if merged:
        return jsonify(_merged_journal(served, filters, args))
    records, total = journal.records(filters)
    return jsonify(
        {
            "enabled": True,
            "scope": "server",
            "note": SCOPE_NOTE,
            "server": journal_servers.own_url(served.settings),
            "servers": _servers(served),
            "size": journal.size,
            "bodyBytes": journal.body_bytes,
            "workers": journal.workers(),
            "total": total,
            "returned": len(records),
            "requests": records,
        }
    )


def _merged(args: dict[str, list[str]]) -> bool:
    value = (args.get("merged") or ["0"])[-1].lower()
    if value not in MERGED_VALUES:
        raise BadInput(f"merged must be 1 or 0, not {value[:20]!r}")
    return MERGED_VALUES[value]


def _merged_journal(served: Served, filters: Filters, args: dict[str, list[str]]) -> dict[str, Any]:
    """Every announced server's records passing the filters (each server filters its own), newest first."""
    servers = _servers(served)
    if servers is None:
        servers = [journal_servers.own_url(served.settings)]
    query = {name: values[-1] for name, values in args.items() if name not in ("merged", "token")}
    answers = journal_servers.gather(servers, query, served.settings.admin_token)
    records = [
        {**record, "server": answer["url"]}
        for answer in answers
        if answer["status"] == "ok"
        for record in answer["requests"]
    ]
    records.sort(key=_moment, reverse=True)
    shown = records[: filters.limit] if filters.limit is not None else records
    silent = journal_servers.long_silent(journal_servers.announced(served.store), answers)
    journal_servers.forget(served.store, silent)
    return {
        "enabled": True,
        "scope": "merged",
        "note": MERGED_NOTE,
        "servers": [{key: value for key, value in a.items() if key != "requests"} for a in answers],
        "total": sum(int(a.get("total") or 0) for a in answers),
        "returned": len(shown),
        "requests": shown,
    }


@journal_control.delete("/_mock/journal")
def clear_journal() -> Response:
    """Forget every request journaled so far, on every worker of this server."""
    journal = _journal()
    if journal is None:
        return jsonify(_off())
    journal.clear()
    return jsonify({"enabled": True, "cleared": True})


@journal_control.post("/_mock/journal/verify")
def verify_journal() -> Response:
    """Whether the server received a request the given number of times; when not, what it received instead."""
    journal = _journal()
    if journal is None:
        return problem("invalid-request", "the journal is off (PACTMOCK_JOURNAL_SIZE=0): nothing can be verified")
    try:
        expectation = _expectation(json_body())
    except BadInput as error:
        return _bad(error)
    records, _ = journal.records()
    return jsonify(verify(expectation, records))


@journal_control.post("/_mock/near-miss")
def near_miss() -> Response:
    """The three interactions closest to the request given, with their mismatches."""
    payload: Any = json_body()
    example = '{"method": "POST", "path": "/runs", "headers": {"Offline-Token": "..."}, "body": {...}}'
    if not isinstance(payload, dict):
        return _bad(BadInput(f"expected a JSON object like {example}"))
    try:
        unknown = sorted(set(payload) - NEAR_MISS_KEYS)
        if unknown:
            raise BadInput(f"unknown keys {unknown}; a request has {sorted(NEAR_MISS_KEYS)}")
        method = _method(payload.get("method"))
        path = _path(payload.get("path"))
        query = _query(payload.get("query"))
        headers = _headers(payload.get("headers"))
    except BadInput as error:
        return _bad(error)
    given = contract_request(method, path, query, headers, payload.get("body", MISSING))
    closest = near_misses(given, _served())
    return jsonify({"request": f"{method} {path}", "matched": any(c["matches"] for c in closest), "closest": closest})


def _moment(record: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(record.get("time")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _filters(args: dict[str, list[str]], size: int) -> Filters:
    unknown = sorted(set(args) - set(FILTERS))
    if unknown:
        raise BadInput(f"unknown filters {unknown}; the journal filters by {', '.join(FILTERS[:-1])}")
    one = {name: values[-1] for name, values in args.items()}
    status = one.get("status")
    if status is not None and not STATUS.fullmatch(status.lower()):
        raise BadInput(f"status must be a status such as 404 or a class such as 4xx, not {status[:40]!r}")
    limit = one.get("limit")
    if limit is not None and not (limit.isdigit() and 1 <= int(limit) <= size):
        raise BadInput(f"limit must be a whole number from 1 to {size} (PACTMOCK_JOURNAL_SIZE), not {limit[:40]!r}")
    return Filters(
        method=_method(one["method"]) if "method" in one else None,
        path=_path(one["path"]) if "path" in one else None,
        status=status.lower() if status is not None else None,
        interaction=one.get("interaction") or None,
        session=_session(one["session"]) if "session" in one else None,
        since_ns=_since(one["since"]) if "since" in one else None,
        limit=int(limit) if limit is not None else DEFAULT_LIMIT,
    )


def _since(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadInput(f"since must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z, not {text[:60]!r}") from None
    if moment.tzinfo is None:
        raise BadInput(f"since must carry a zone (Z or +hh:mm), not {text[:60]!r}")
    return int(moment.timestamp() * 1_000_000) * 1000


def _session(value: Any) -> str:
    """A session's name as the mock folds it (X-Pactmock-Session); BadInput for one no session can have."""
    if not isinstance(value, str):
        raise BadInput(f"session must be a session's name, not {str(value)[:60]!r}")
    try:
        return checked_name(value)
    except InvalidSessionName as error:
        raise BadInput(f"session: {error}") from None


def _method(value: Any) -> str:
    if not isinstance(value, str) or not METHOD.fullmatch(value):
        raise BadInput(f"method must be an HTTP method such as POST, not {str(value)[:40]!r}")
    return value.upper()


def _path(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2048:
        raise BadInput(f"path must start with / (at most 2,048 characters), not {str(value)[:60]!r}")
    return value


def _query(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if isinstance(value, str):
        return parse_qs(value.lstrip("?"), keep_blank_values=True)
    if isinstance(value, dict):
        return {str(k): _strings(v, f"query {k}") for k, v in value.items()}
    raise BadInput(f'query must be a string ("a=1&b=2") or an object of strings or lists, not {str(value)[:60]!r}')


def _headers(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInput(f"headers must be an object of names to strings, not {str(value)[:60]!r}")
    return {str(k): _strings(v, f"header {k}") for k, v in value.items()}


def _strings(value: Any, what: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise BadInput(f"{what[:80]} must be a string or a list of strings, not {str(value)[:60]!r}")
    return values


def _expectation(payload: Any) -> Expectation:
    example = '{"method": "POST", "path": "/runs", "times": 2, "body": {"runRequests": [{"jobId": 123}]}}'
    if not isinstance(payload, dict):
        raise BadInput(f"expected a JSON object like {example}")
    unknown = sorted(set(payload) - {"method", "path", "body", "headers", "query", "session", *COUNTS})
    if unknown:
        raise BadInput(
            f"unknown keys {unknown}; a verification has method, path, times/at_least/at_most, body, headers, "
            "query and session"
        )
    counts = {name: payload[name] for name in COUNTS if name in payload}
    for name, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise BadInput(f"{name} must be a whole number of at least 0, not {count!r}")
    if "times" in counts and len(counts) > 1:
        raise BadInput("times cannot be given with at_least or at_most")
    at_least, at_most = counts.get("at_least"), counts.get("at_most")
    if "times" in counts:
        at_least = at_most = counts["times"]
    elif not counts:
        at_least = 1
    if at_least is not None and at_most is not None and at_least > at_most:
        raise BadInput(f"at_least ({at_least}) is more than at_most ({at_most})")
    headers = {name: values[0] for name, values in _headers(payload.get("headers")).items() if len(values) == 1}
    query = {name: values[0] for name, values in _query(payload.get("query")).items() if len(values) == 1}
    return Expectation(
        method=_method(payload.get("method")),
        path=_path(payload.get("path")),
        body=payload.get("body", MISSING),
        headers=headers,
        query=query,
        at_least=at_least,
        at_most=at_most,
        session=_session(payload["session"]) if payload.get("session") is not None else None,
    )
