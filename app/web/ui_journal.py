"""The dashboard's journal: the requests the server answered, newest first, each refusal with its mismatches
(expected, actual, where), and one request's page with the interactions closest to it (its near misses)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, redirect, request

from ..contract.model import MISSING
from .control_journal import STATUS
from .journal import Filters, Journal
from .journal_checks import contract_request, near_misses
from .journal_record import WITHHELD
from .ui_base import link, render, served, ui_control

SHOWN = 100
STATUS_CLASSES = ("", "2xx", "3xx", "4xx", "5xx")


def _journal() -> Journal | None:
    return Journal.for_server(served().settings)


@ui_control.get("/_mock/ui/journal")
def journal() -> Response:
    """The newest requests, filtered by status and path prefix."""
    found = _journal()
    status = request.args.get("status", "").lower()
    path = request.args.get("path", "").strip()
    refusal = None
    if status and not STATUS.fullmatch(status):
        refusal = f"status must be a status such as 404 or a class such as 4xx, not {status[:40]!r}"
        status = ""
    if path and not path.startswith("/"):
        refusal = f"a path starts with /, not {path[:60]!r}"
        path = ""
    records: list[dict[str, Any]] = []
    total = 0
    if found is not None:
        filters = Filters(status=status or None, path=(path + "*") if path else None, limit=SHOWN)
        records, total = found.records(filters)
    return render(
        "ui/journal.html",
        status=400 if refusal else 200,
        enabled=found is not None,
        records=records,
        total=total,
        shown=SHOWN,
        status_filter=status,
        path_filter=path,
        classes=STATUS_CLASSES,
        refusal=refusal,
        shown_json=_shown_json,
    )


@ui_control.post("/_mock/ui/journal/clear")
def clear_journal() -> Response:
    """Forget every request journaled so far (as DELETE /_mock/journal), then show the empty journal."""
    found = _journal()
    if found is not None:
        found.clear()
    return redirect(link("ui.journal", said="The journal is cleared"), code=303)  # type: ignore[return-value]


@ui_control.get("/_mock/ui/journal/<record_id>")
def journal_record(record_id: str) -> Response:
    """One request as the journal holds it, and the three interactions closest to it."""
    found = _journal()
    records = found.records()[0] if found is not None else []
    record = next((r for r in records if r.get("id") == record_id), None)
    if record is None:
        return render("ui/missing.html", status=404, what=f"no request {record_id[:60]!r} is in the journal")
    withheld = _withheld(record)
    closest = [
        {**near, "mismatches": [m for m in near["mismatches"] if _name(m) not in withheld]}
        for near in near_misses(_as_request(record), served())
    ]
    return render("ui/record.html", record=record, closest=closest, withheld=sorted(withheld), shown_json=_shown_json)


def _withheld(record: dict[str, Any]) -> set[str]:
    """Headers and query parameters whose values the journal withheld (credentials): they cannot be judged again."""
    names = {name for name, value in (record.get("headers") or {}).items() if value == WITHHELD}
    return names | {name for name, values in (record.get("query") or {}).items() if WITHHELD in values}


def _name(mismatch: dict[str, Any]) -> str:
    return str(mismatch.get("path", "")).lower() if mismatch.get("part") == "header" else str(mismatch.get("path"))


def _as_request(record: dict[str, Any]) -> Any:
    """The journaled request as the engine judges it, its withheld credentials left out (their mismatches are
    dropped after: the client's value is not known)."""
    headers = {str(name): [str(value)] for name, value in (record.get("headers") or {}).items() if value != WITHHELD}
    query = {
        str(name): [str(v) for v in values]
        for name, values in (record.get("query") or {}).items()
        if WITHHELD not in values
    }
    body = record.get("body", MISSING)
    return contract_request(str(record.get("method")), str(record.get("path")), query, headers, body)


def _shown_json(value: Any) -> str:
    """A mismatch's value as JSON text, so the string "1" and the number 1 read differently."""
    if value is None:
        return "(absent)"
    return json.dumps(value, ensure_ascii=False)
