"""The whole state, or one provider's, reset, exported and imported: what a test suite calls between tests.

An export is one JSON document, `{"format": "pactmock-state", "version": 1, "scope": ..., "tables": {...}}`:
every row of the scope, ordered, so importing it into a fresh mock and exporting again gives the same bytes.
The scope is None (everything: the clock, the scenarios and the generated collections' settings too),
"Epistemix", or a generic provider's name.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import Invalid
from .ports import Store

FORMAT = "pactmock-state"
VERSION = 1
# The scope of the coded provider's tables (jobs, runs, uploads, their ids); S3's uploads are among them.
EPISTEMIX = "Epistemix"
# Mock settings that are the servers' own bookkeeping, not state (the servers announced for the merged journal,
# the dashboard's coverage start): a reset keeps them, an export leaves them out, an import neither brings nor
# removes them.
JOURNAL_SERVERS = "journal-servers"
# When the dashboard's coverage counts start (the last whole-mock reset): the dashboard's, not the state's.
DASHBOARD_COVERAGE_SINCE = "dashboard_coverage_since"
BOOKKEEPING_SETTINGS = (JOURNAL_SERVERS, DASHBOARD_COVERAGE_SINCE)


def reset(store: Store, scope: str | None) -> None:
    """Data gone, id counters back at the contract's first ids; for everything also the clock and scenarios."""
    with store.writing() as uow:
        uow.snapshots.clear(scope)


def export(store: Store, scope: str | None) -> dict[str, Any]:
    """The scope's state as one document."""
    with store.reading() as uow:
        tables = uow.snapshots.export(scope)
    return {"format": FORMAT, "version": VERSION, "scope": scope, "tables": tables}


def exported_bytes(document: dict[str, Any]) -> bytes:
    """The document as it is sent and saved: keys sorted, no spaces, so equal states give equal bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def restore(store: Store, document: Any, scope: str | None) -> int:
    """Replace the scope's state with the document's, all or nothing; the rows restored."""
    if not isinstance(document, dict):
        raise Invalid("the document must be a JSON object as GET /_mock/state exports it")
    if document.get("format") != FORMAT:
        raise Invalid(f'format must be "{FORMAT}", not {document.get("format")!r}')
    if document.get("version") != VERSION:
        raise Invalid(f"version {document.get('version')!r} cannot be read: this mock reads version {VERSION}")
    if document.get("scope") != scope:
        raise Invalid(f"the document holds scope {document.get('scope')!r}, not {scope!r}: import it with that scope")
    with store.writing() as uow:
        return uow.snapshots.restore(document.get("tables"), scope)
