"""The dashboard's data: Epistemix jobs, runs (their status as the clock has it now) and uploads, and every
generic provider's collections, a page at a time.

Stored rows are paged by keyset (ui_rows.py). A generated collection's items are made from their index, so any
page of a million of them costs one page of work: page N is items N*size .. N*size+size-1, each with the
overlay stored under its id (a client's write, or a seeded row) when there is one.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Response, request

from ..domain.lifecycle import advance, pod_phase
from ..resources.engine import Engine
from ..resources.model import Collection
from ..resources.values import key_of
from ..resources.virtual import TOMBSTONE
from . import ui_rows
from .ui_base import mock_clock, render, served, ui_control
from .ui_rows import Window

ITEM_COLUMNS = 6


def window() -> Window:
    """The page the query asks for (?after=, ?before= or ?last=1); a parameter that is no number is ignored."""
    return Window(after=_number("after"), before=_number("before"), last=request.args.get("last") == "1")


# Keys are 64-bit columns: a larger number in a link is no key (and PostgreSQL would refuse to compare it).
LARGEST_KEY = 2**63 - 1


def _number(name: str) -> int | None:
    text = request.args.get(name, "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= LARGEST_KEY else None


@ui_control.get("/_mock/ui/data")
def data() -> Response:
    """How many jobs, runs and uploads are stored, and every generic provider's collections."""
    current = served()
    first = Window(size=1)
    now = mock_clock()()
    providers = []
    for provider, engine_of in sorted(current.providers.engines.items()):
        engine = engine_of(current.store)
        collections = []
        for name, collection in engine.model.collections.items():
            generated = collection.generated is not None
            count = engine.count(name, now) if generated else engine.stored_count(name, now)
            collections.append({"name": name, "generated": generated, "count": count})
        providers.append({"provider": provider, "collections": collections})
    return render(
        "ui/data.html",
        jobs=ui_rows.jobs_page(current.store, first).total,
        runs=ui_rows.runs_page(current.store, first).total,
        uploads=ui_rows.uploads_page(current.store, first).total,
        providers=providers,
    )


@ui_control.get("/_mock/ui/data/jobs")
def jobs() -> Response:
    """Every job, a page at a time."""
    return render("ui/jobs.html", page=ui_rows.jobs_page(served().store, window()))


@ui_control.get("/_mock/ui/data/runs")
def runs() -> Response:
    """Every run (or one job's), with the status the clock has brought it to; the page refreshes itself."""
    current = served()
    job_id = _number("job")
    page = ui_rows.runs_page(current.store, window(), job_id)
    now = mock_clock()()
    durations = current.policy.durations
    shown = []
    for row in page.rows:
        status, since = advance(row["status"], row["status_ts"], now, durations)
        shown.append({**row, "status": status, "since": since, "phase": pod_phase(status)})
    return render("ui/runs.html", page=page, runs=shown, job_id=job_id)


@ui_control.get("/_mock/ui/data/uploads")
def uploads() -> Response:
    """Every upload's key, size, digest and type (or one job's), with a link to its bytes."""
    job_id = _number("job")
    return render("ui/uploads.html", page=ui_rows.uploads_page(served().store, window(), job_id), job_id=job_id)


@ui_control.get("/_mock/ui/data/<provider>/<collection>")
def collection_items(provider: str, collection: str) -> Response:
    """A page of one generic collection: by page number when it is generated, by keyset when it is stored."""
    current = served()
    engine_of = current.providers.engines.get(provider)
    engine = engine_of(current.store) if engine_of is not None else None
    if engine is None or collection not in engine.model.collections:
        return render("ui/missing.html", status=404, what=f"no collection {collection[:80]!r} of {provider[:80]!r}")
    chosen = engine.model.collections[collection]
    if chosen.generated is not None:
        return _generated_page(engine, chosen)
    page = ui_rows.items_page(current.store, provider, collection, window())
    documents = [row["document"] for row in page.rows]
    return render(
        "ui/items.html",
        provider=provider,
        collection=collection,
        generated=False,
        columns=_columns(chosen, documents),
        documents=documents,
        page=page,
        total=page.total,
    )


def _generated_page(engine: Engine, collection: Collection) -> Response:
    size = ui_rows.PAGE_SIZE
    now = mock_clock()()
    virtual = engine.virtual
    # Reading a generated collection the first time sets its epoch: that is a write.
    with engine.store.writing() as uow:
        count = virtual.count(uow.items, collection)
        pages = max(1, math.ceil(count / size))
        number = min(max(_number("page") or 1, 1), pages)
        epoch = virtual.epoch(uow.items, collection, now)
        documents = []
        for index in range((number - 1) * size, min(number * size, count)):
            document = virtual.item(uow.items, collection, index, epoch, now)
            overlay = uow.items.get(engine.provider, collection.name, key_of(document[collection.ids.field]))
            if overlay is not None:
                if overlay.document.get(TOMBSTONE):
                    continue  # removed by a client
                document = overlay.document
            documents.append({**document, "~index": index})
    return render(
        "ui/items.html",
        provider=engine.provider,
        collection=collection.name,
        generated=True,
        columns=_columns(collection, documents),
        documents=documents,
        number=number,
        pages=pages,
        total=count,
    )


def _columns(collection: Collection, documents: list[dict[str, Any]]) -> list[str]:
    """The id field first, then the first few fields whose values are plain (not lists or objects)."""
    names = [collection.ids.field]
    for document in [collection.example, *documents[:5]]:
        for name, value in document.items():
            plain = not isinstance(value, dict | list)
            if plain and name not in names and not name.startswith("~") and len(names) < ITEM_COLUMNS:
                names.append(name)
    return names
