"""The whole state, or one provider's, as plain data: cleared, exported and restored table by table.

An export lists each table's rows ordered by primary key, every value as JSON can carry it (date-times as
RFC 3339 text, bytes as base64), so exporting what an import restored gives the same document. A restore
checks the document first (tables, columns, values, references) and then replaces the state in the one
transaction it runs in: a bad document changes nothing.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.type_api import TypeEngine

from ..domain.errors import Invalid
from ..domain.state import BOOKKEEPING_SETTINGS, EPISTEMIX
from . import fast_reset
from .tables import Base, IdCounter
from .types import UtcDateTime

# What each scope holds: everything, Epistemix's own tables, or one generic provider's rows.
EPISTEMIX_TABLES = ("id_counters", "jobs", "runs", "uploads")
GENERIC_TABLES = ("items", "item_counters")
# The tables a PostgreSQL reset empties with TRUNCATE (every table that references jobs is among them).
EPISTEMIX_TRUNCATED = ("jobs", "runs", "uploads")
# Where a fresh database starts its ids (migration 0001): the contract's example ids come first.
FIRST_IDS = {"jobs": 123, "runs": 978}


def tables_of(scope: str | None) -> list[Table]:
    """The tables a scope covers, parents before children."""
    names = EPISTEMIX_TABLES if scope == EPISTEMIX else GENERIC_TABLES if scope else None
    return [t for t in Base.metadata.sorted_tables if names is None or t.name in names]


class SqlSnapshots:
    """Clear, export and restore the tables of a scope in one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def clear(self, scope: str | None) -> None:
        """Every row of the scope gone; Epistemix's id counters back at the contract's first ids.

        Everything or Epistemix by fast_reset.py: on SQLite, when nothing else was done in this unit of work, in a
        transaction of its own, committed at once; on PostgreSQL in this transaction, in one round trip."""
        if scope not in (None, EPISTEMIX):
            self._delete(scope)
            return
        emptied = [t.name for t in reversed(tables_of(scope)) if t.name != "id_counters"]
        if fast_reset.takes_own_transaction(self.session):
            fast_reset.reset_sqlite(self.session, emptied, BOOKKEEPING_SETTINGS, FIRST_IDS)
        elif self.session.get_bind().dialect.name == "postgresql":
            others = [name for name in emptied if name not in EPISTEMIX_TRUNCATED]
            fast_reset.reset_postgresql(self.session, EPISTEMIX_TRUNCATED, others, BOOKKEEPING_SETTINGS, FIRST_IDS)
        else:
            self._delete(scope)

    def _delete(self, scope: str | None) -> None:
        """The scope's rows deleted in this transaction (the foreign keys checked as ever)."""
        tables = tables_of(scope)
        truncated: tuple[str, ...] = ()
        if scope in (None, EPISTEMIX) and self.session.get_bind().dialect.name == "postgresql":
            # Jobs and the runs and uploads that reference them in one TRUNCATE: a DELETE of jobs runs the foreign
            # keys' check once per row (240 ms at 2,500 jobs). The other tables are DELETEd: TRUNCATE costs new files
            # per table and index, which made truncating every table twice as slow (bench/control_plane.py).
            truncated = EPISTEMIX_TRUNCATED
            self.session.execute(text(f"TRUNCATE {', '.join(truncated)}"))
        for table in reversed(tables):
            if table.name != "id_counters" and table.name not in truncated:
                self.session.execute(delete(table).where(*self._only(table, scope)))
        if scope in (None, EPISTEMIX):
            for name, first in FIRST_IDS.items():
                self.session.execute(update(IdCounter).where(IdCounter.name == name).values(next_value=first))

    def export(self, scope: str | None) -> dict[str, list[dict[str, Any]]]:
        """Each table's rows, ordered by primary key."""
        exported = {}
        for table in tables_of(scope):
            order = list(table.primary_key.columns)
            rows = self.session.execute(select(table).where(*self._only(table, scope)).order_by(*order)).mappings()
            exported[table.name] = [{c.name: _plain(row[c.name], c.type) for c in table.columns} for row in rows]
        return exported

    def restore(self, tables: Any, scope: str | None) -> int:
        """Replace the scope's rows with these (checked first: Invalid names the table, row and column)."""
        rows = check(tables, scope)
        if "mock_settings" in rows:
            rows["mock_settings"] = [r for r in rows["mock_settings"] if r["name"] not in BOOKKEEPING_SETTINGS]
        self._delete(scope)
        for table in tables_of(scope):
            if table.name == "id_counters":
                for row in rows[table.name]:
                    self.session.execute(update(table).where(table.c.name == row["name"]).values(**row))
            elif rows[table.name]:
                self.session.execute(insert(table), rows[table.name])
        if "items" in rows and self.session.get_bind().dialect.name == "postgresql":
            # Items made after the import must come after the imported ones.
            self.session.execute(text("SELECT setval('items_seq', GREATEST((SELECT MAX(seq) FROM items), 1))"))
        return sum(len(r) for r in rows.values())

    def _only(self, table: Table, scope: str | None) -> list[Any]:
        if table.name == "mock_settings":
            return [table.c.name.not_in(BOOKKEEPING_SETTINGS)]
        if scope is None or scope == EPISTEMIX or "provider" not in table.c:
            return []
        return [table.c.provider == scope]


def check(tables: Any, scope: str | None) -> dict[str, list[dict[str, Any]]]:
    """The document's rows as column values, or Invalid saying where it is wrong."""
    expected = tables_of(scope)
    if not isinstance(tables, dict) or set(tables) != {t.name for t in expected}:
        names = ", ".join(t.name for t in expected)
        raise Invalid(f'"tables" must be an object with exactly the tables {names}')
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in expected:
        listed = tables[table.name]
        if not isinstance(listed, list):
            raise Invalid(f"tables.{table.name} must be a list of rows")
        rows[table.name] = [_row(table, row, f"tables.{table.name}[{n}]", scope) for n, row in enumerate(listed)]
    _check_references(rows)
    return rows


def _row(table: Table, row: Any, where: str, scope: str | None) -> dict[str, Any]:
    columns = {c.name for c in table.columns}
    if not isinstance(row, dict) or set(row) != columns:
        raise Invalid(f"{where} must be an object with exactly the columns {', '.join(sorted(columns))}")
    if scope not in (None, EPISTEMIX) and "provider" in columns and row["provider"] != scope:
        raise Invalid(f"{where}.provider is {row['provider']!r}, but this import is for provider {scope!r}")
    values = {}
    for column in table.columns:
        value = row[column.name]
        try:
            values[column.name] = _typed(value, column.type, column.nullable)
        except (TypeError, ValueError) as error:
            raise Invalid(f"{where}.{column.name}: {error}") from None
    return values


def _check_references(rows: dict[str, list[dict[str, Any]]]) -> None:
    if "jobs" not in rows:
        return
    jobs = {row["id"] for row in rows["jobs"]}
    for table in ("runs", "uploads"):
        for n, row in enumerate(rows[table]):
            if row["job_id"] not in jobs:
                raise Invalid(f"tables.{table}[{n}].job_id is {row['job_id']}, a job the document does not hold")
    counters = {row["name"] for row in rows["id_counters"]}
    if not set(FIRST_IDS) <= counters:
        raise Invalid("tables.id_counters must hold the counters of jobs and runs")


def _plain(value: Any, kind: TypeEngine[Any]) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _typed(value: Any, kind: TypeEngine[Any], nullable: bool | None) -> Any:
    if value is None:
        if not nullable:
            raise ValueError("must not be null")
        return None
    python = _python_type(kind)
    if python is datetime:
        if not isinstance(value, str):
            raise TypeError(f"must be an RFC 3339 date-time, not {value!r}")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(f"{value!r} has no zone")
        return moment
    if python is bytes:
        if not isinstance(value, str):
            raise TypeError("must be base64 text")
        return base64.b64decode(value, validate=True)
    if python is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"must be a whole number, not {value!r}")
    if python is str and not isinstance(value, str):
        raise TypeError(f"must be text, not {value!r}")
    if python is bool and not isinstance(value, bool):
        raise TypeError(f"must be true or false, not {value!r}")
    return value


def _python_type(kind: TypeEngine[Any]) -> type | None:
    if isinstance(kind, UtcDateTime):
        return datetime
    try:
        return kind.python_type
    except NotImplementedError:  # JSON columns: any JSON value
        return None
