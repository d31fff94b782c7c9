"""The dashboard's first page: every contract's interactions and how often each was exercised, and the problems
(pact files not served, fields a pact pins that the state varies)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from flask import Response, request

from ..domain.state import DASHBOARD_COVERAGE_SINCE
from ..providers.pinned import PinnedField, pinned_fields
from .journal import Filters, Journal
from .served import Served
from .ui_base import render, served, ui_control

# Interactions listed per page: a pact of 100,000 interactions still opens at once.
INTERACTIONS_PER_PAGE = 200

_PINNED: dict[int, list[PinnedField]] = {}
# A mock setting: when the whole mock was last reset. The journal outlives a reset; coverage counts from it.
COVERAGE_SINCE = DASHBOARD_COVERAGE_SINCE


@dataclass(frozen=True)
class Exercised:
    """How often the journal saw each interaction answer, or come closest to a refused request."""

    answered: Counter[tuple[str, str, str]]
    refused: Counter[tuple[str, str, str]]
    requests: int
    enabled: bool
    size: int


def exercised(current: Served) -> Exercised:
    """Counts over the requests the journal holds (its newest PACTMOCK_JOURNAL_SIZE, since it was last cleared)."""
    journal = Journal.for_server(current.settings)
    if journal is None:
        return Exercised(Counter(), Counter(), 0, False, 0)
    with current.store.reading() as uow:
        since = (uow.settings.get(COVERAGE_SINCE) or {}).get("ns")
    records, _ = journal.records(Filters(since_ns=since if isinstance(since, int) else None))
    answered: Counter[tuple[str, str, str]] = Counter()
    refused: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        by = record.get("answeredBy")
        closest = record.get("closest")
        if isinstance(by, dict):
            answered[(str(by.get("consumer")), str(by.get("provider")), str(by.get("interaction")))] += 1
        elif isinstance(closest, dict):
            refused[(str(closest.get("consumer")), str(closest.get("provider")), str(closest.get("description")))] += 1
    return Exercised(answered, refused, len(records), True, journal.size)


def pinned(current: Served) -> list[PinnedField]:
    """Fields the pacts pin that the state varies: worked out once per process (the contracts do not change)."""
    found = _PINNED.get(id(current))
    if found is None:
        found = _PINNED[id(current)] = pinned_fields(current.contracts.interactions, current.providers)
    return found


@ui_control.after_app_request
def note_reset(response: Response) -> Response:
    """A whole-mock reset (POST /_mock/reset with no provider) starts the coverage counts again."""
    if request.method != "POST" or request.path != "/_mock/reset" or response.status_code != 200:
        return response
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not payload.get("provider"):
        with served().store.writing() as uow:
            uow.settings.put(COVERAGE_SINCE, {"ns": time.time_ns()})
    return response


@ui_control.get("/_mock/ui")
@ui_control.get("/_mock/ui/")
def overview() -> Response:
    """Contracts and coverage, and the problems the mock found in its pacts."""
    current = served()
    counts = exercised(current)
    start = _start(request.args.get("from"))
    position = 0
    contracts = []
    for contract in current.contracts.contracts:
        rows = []
        for interaction in contract.interactions:
            if start <= position < start + INTERACTIONS_PER_PAGE:
                key = (contract.consumer, contract.provider, interaction.description)
                rows.append(
                    {
                        "method": interaction.method,
                        "path": interaction.path,
                        "description": interaction.description,
                        "states": [state.name for state in interaction.provider_states],
                        "answered": counts.answered.get(key, 0),
                        "refused": counts.refused.get(key, 0),
                    }
                )
            position += 1
        exercised_count = sum(
            1
            for i in contract.interactions
            if counts.answered.get((contract.consumer, contract.provider, i.description))
        )
        contracts.append({"contract": contract, "rows": rows, "exercised": exercised_count})
    return render(
        "ui/overview.html",
        contracts=contracts,
        counts=counts,
        broken=[str(problem) for problem in current.contracts.problems],
        pinned=[field.sentence() for field in pinned(current)],
        start=start,
        total=position,
        per_page=INTERACTIONS_PER_PAGE,
    )


def _start(text: str | None) -> int:
    # A bad or negative position shows the first page: it is a link's parameter, not data.
    return int(text) if text is not None and text.isascii() and text.isdigit() else 0
