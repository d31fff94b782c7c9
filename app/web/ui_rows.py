"""Pages of stored rows for the dashboard: jobs, runs, uploads and generic items, a page at a time by keyset.

The domain's ports list what a client may ask for (a user's jobs, a job's latest runs); the dashboard pages
through every row of a table instead, so it reads the tables itself, through the unit of work's SQL session
and lightweight table clauses (web/ does not import the store package). A page is `WHERE key > :after ORDER BY
key LIMIT n` on the primary key or the items' creation order (both indexed), so the last page of a million rows
costs what the first does; nothing ever loads a whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, column, func, select, table
from sqlalchemy.sql.elements import ColumnElement

from ..domain.ports import Store

PAGE_SIZE = 25

JOBS = table(
    "jobs",
    column("id", BigInteger),
    column("user_id", BigInteger),
    column("tags", JSON),
    column("created_ts", DateTime(timezone=True)),
)
RUNS = table(
    "runs",
    column("id", BigInteger),
    column("job_id", BigInteger),
    column("status", String),
    column("status_ts", DateTime(timezone=True)),
    column("created_ts", DateTime(timezone=True)),
    column("user_deleted", Boolean),
)
UPLOADS = table(
    "uploads",
    column("id", Integer),
    column("job_id", BigInteger),
    column("key", String),
    column("content_type", String),
    column("size", BigInteger),
    column("sha256", String),
    column("uploaded_ts", DateTime(timezone=True)),
)
ITEMS = table(
    "items",
    column("provider", String),
    column("collection", String),
    column("id", String),
    column("document", JSON),
    column("version", Integer),
    column("seq", BigInteger),
)


@dataclass(frozen=True)
class Window:
    """Which page to read: after a key, before a key, the last page, or (all None) the first."""

    after: int | None = None
    before: int | None = None
    last: bool = False
    size: int = PAGE_SIZE


@dataclass(frozen=True)
class RowPage:
    """One page of rows (as dicts, oldest first), the keys that bound it, and whether pages lie on either side."""

    rows: list[dict[str, Any]]
    first_key: int | None
    last_key: int | None
    has_before: bool
    has_after: bool
    total: int


def jobs_page(store: Store, window: Window) -> RowPage:
    """A page of every job, by id."""
    return _page(store, JOBS, JOBS.c.id, (), window)


def runs_page(store: Store, window: Window, job_id: int | None = None) -> RowPage:
    """A page of every run (or one job's), by id."""
    where = (RUNS.c.job_id == job_id,) if job_id is not None else ()
    return _page(store, RUNS, RUNS.c.id, where, window)


def uploads_page(store: Store, window: Window, job_id: int | None = None) -> RowPage:
    """A page of every upload's facts (not its bytes), by when it was first stored."""
    where = (UPLOADS.c.job_id == job_id,) if job_id is not None else ()
    return _page(store, UPLOADS, UPLOADS.c.id, where, window)


def items_page(store: Store, provider: str, collection: str, window: Window) -> RowPage:
    """A page of a generic collection's stored items, oldest first (their creation order)."""
    where = (ITEMS.c.provider == provider, ITEMS.c.collection == collection)
    return _page(store, ITEMS, ITEMS.c.seq, where, window)


def _page(
    store: Store, source: Any, key: ColumnElement[Any], where: Sequence[ColumnElement[bool]], window: Window
) -> RowPage:
    size = window.size
    with store.reading() as uow:
        session = _session(uow)
        query = select(source).where(*where)
        if window.before is not None:
            found = list(session.execute(query.where(key < window.before).order_by(key.desc()).limit(size + 1)))
            rows, has_before, has_after = found[:size][::-1], len(found) > size, True
        elif window.last:
            found = list(session.execute(query.order_by(key.desc()).limit(size + 1)))
            rows, has_before, has_after = found[:size][::-1], len(found) > size, False
        else:
            if window.after is not None:
                query = query.where(key > window.after)
            found = list(session.execute(query.order_by(key).limit(size + 1)))
            rows, has_before, has_after = found[:size], window.after is not None, len(found) > size
        total = int(session.execute(select(func.count()).select_from(source).where(*where)).scalar_one())
    shown = [{name: _aware(value) for name, value in row._mapping.items()} for row in rows]
    key_name = key.name
    return RowPage(
        rows=shown,
        first_key=shown[0][key_name] if shown else None,
        last_key=shown[-1][key_name] if shown else None,
        has_before=has_before and bool(shown),
        has_after=has_after and bool(shown),
        total=total,
    )


def _session(uow: Any) -> Any:
    session = getattr(uow, "session", None)
    if session is None:
        raise RuntimeError("the dashboard pages through an SQL store's tables; this store has none")
    return session


def _aware(value: Any) -> Any:
    # SQLite keeps no zone: its naive values are UTC, as the store's own column type reads them.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
