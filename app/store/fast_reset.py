"""A whole-mock or Epistemix reset as one short transaction on each backend (issue 18: under 50 ms at 10,000 rows).

- SQLite: the tables are emptied with the foreign keys off, in a transaction of the reset's own on a pooled
  connection. With them on, SQLite deletes jobs, runs and uploads row by row (each a parent or child of a foreign
  key); with them off, and no WHERE, it drops each table's pages whole. Every table of the references is emptied
  in the same transaction, so no reference is left dangling. `PRAGMA foreign_keys` cannot change inside a
  transaction, which is why this runs on a connection of its own rather than in the unit of work's.
- PostgreSQL: every statement in one round trip; jobs, runs and uploads TRUNCATEd only when jobs holds many
  rows, else DELETEd. A TRUNCATE makes new files for each table and index, empty or not: about 15 ms whatever
  the rows; a DELETE costs about 9 us a job (its runs and uploads deleted first; the foreign keys' trigger still
  runs once per job), so below 1,000 jobs DELETE is the cheaper (docs/control-plane.md). The
  commit is not waited for on the disk (synchronous_commit off, as `pactmock seed` does): a crash of the database
  in the next moment may undo the reset, never half of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

# Below this many jobs a PostgreSQL reset DELETEs jobs, runs and uploads: fewer rows cost less than new files.
TRUNCATE_FROM_JOBS = 1000


def takes_own_transaction(session: Session) -> bool:
    """Whether the reset may run in a transaction of its own: SQLite, and nothing done yet in this unit of work."""
    return session.get_bind().dialect.name == "sqlite" and not session.in_transaction()


def reset_sqlite(
    session: Session, emptied: Sequence[str], kept_settings: Sequence[str], first_ids: Mapping[str, int]
) -> None:
    """Empty the tables `emptied` (mock_settings but for `kept_settings`) and set the id counters to
    `first_ids`, committed at once, the foreign keys off meanwhile."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    for name in emptied:
        if name == "mock_settings":
            marks = ", ".join("?" for _ in kept_settings)
            statements.append((f"DELETE FROM mock_settings WHERE name NOT IN ({marks})", tuple(kept_settings)))
        else:
            statements.append((f"DELETE FROM {name}", ()))
    statements += [("UPDATE id_counters SET next_value = ? WHERE name = ?", (n, c)) for c, n in first_ids.items()]
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    pooled = engine.raw_connection()
    try:
        cursor = pooled.driver_connection.cursor()  # type: ignore[union-attr]
        _run(cursor, "PRAGMA foreign_keys=OFF", ())
        try:
            _run(cursor, "BEGIN IMMEDIATE", ())
            try:
                for statement, parameters in statements:
                    _run(cursor, statement, parameters)
                _run(cursor, "COMMIT", ())
            except BaseException:
                if pooled.driver_connection.in_transaction:  # type: ignore[union-attr]
                    cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        pooled.invalidate()  # whatever state it is in, it does not go back to the pool
        raise
    finally:
        pooled.close()


def _run(cursor: sqlite3.Cursor, statement: str, parameters: tuple[Any, ...]) -> None:
    try:
        cursor.execute(statement, parameters)
    except sqlite3.Error as error:
        # As SQLAlchemy raises it, so the unit of work turns it into the domain's error (a locked database: 503).
        raise DBAPIError.instance(statement, parameters, error, sqlite3.Error) from error


def reset_postgresql(
    session: Session,
    truncated: Sequence[str],
    emptied: Sequence[str],
    kept_settings: Sequence[str],
    first_ids: Mapping[str, int],
) -> None:
    """In this transaction, one round trip: `truncated` (jobs first, then what references it) emptied by TRUNCATE
    when jobs holds TRUNCATE_FROM_JOBS rows or more, by DELETE below; `emptied` DELETEd (mock_settings but for
    `kept_settings`); the id counters set to `first_ids`; the commit not waited for on the disk."""
    few = "; ".join(f"DELETE FROM {name}" for name in reversed(truncated))
    kept = ", ".join(_literal(name) for name in kept_settings)
    deletes = [
        f"DELETE FROM mock_settings WHERE name NOT IN ({kept})" if name == "mock_settings" else f"DELETE FROM {name}"
        for name in emptied
    ]
    cases = " ".join(f"WHEN {_literal(name)} THEN {int(first)}" for name, first in first_ids.items())
    names = ", ".join(_literal(name) for name in first_ids)
    script = [
        "SET LOCAL synchronous_commit TO off",
        f"DO $reset$ BEGIN IF (SELECT count(*) FROM (SELECT FROM {truncated[0]} LIMIT {TRUNCATE_FROM_JOBS}) AS found)"
        f" >= {TRUNCATE_FROM_JOBS} THEN TRUNCATE {', '.join(truncated)}; ELSE {few}; END IF; END $reset$",
        *deletes,
        f"UPDATE id_counters SET next_value = CASE name {cases} END WHERE name IN ({names})",
    ]
    session.connection().exec_driver_sql(";\n".join(script))


def _literal(value: str) -> str:
    """A fixed name of this module's callers as an SQL string literal (no caller's input ever reaches here)."""
    return "'" + value.replace("'", "''") + "'"
