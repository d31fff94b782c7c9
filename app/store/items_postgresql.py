"""A generic create on PostgreSQL in one round trip: the id number, the item and its commit in one string.

The item's id is made from the collection's counter, so the document cannot be finished before the number is
taken. It is sent with two marks where the id goes (the id field's value, and `{id}` in the model's defaults),
and the statement puts the number in: counter upsert, id text, document and INSERT are one statement. As with
run submissions (runs_postgresql.py), that statement's transaction commits without waiting for the disk, so the
counter row's lock (what keeps ids gap-free) is held for the statement alone and never across a round trip or a
WAL flush; the last statement then waits for the disk before the client is answered, and carries back the
number (the server answers only the last statement of such a string). Before this, a create held the counter's
lock for three round trips and a flush, and creates of one collection ran one after another (bench/RESULTS.md).

Other servers' kept item reads hear of the create from the engine's announcement once it is over
(web/change_signal.py sends one NOTIFY for every write announced meanwhile). A NOTIFY in the statement itself cost
9% of the create rate under load (PostgreSQL serialises the commits of notifying transactions and wakes every
listener per create; bench/RESULTS.md).

An id a fixture already holds is not overwritten: the INSERT does nothing, the counter stays moved past it
(as the step-by-step path skips such ids), and the number carried back is empty: the caller tries again.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from ..resources.numbered import NumberedDocument

CREATE = """
BEGIN;
SET LOCAL synchronous_commit TO off;
WITH taken AS (
    INSERT INTO item_counters (provider, collection, next_value)
    VALUES (%(provider)s, %(collection)s, %(start)s + 1)
    ON CONFLICT (provider, collection) DO UPDATE SET next_value = item_counters.next_value + 1
    RETURNING next_value - 1 AS number
),
numbered AS (
    SELECT number, CASE WHEN length(CAST(number AS TEXT)) >= %(width)s THEN CAST(number AS TEXT)
                        ELSE lpad(CAST(number AS TEXT), %(width)s, '0') END AS digits
    FROM taken
),
inserted AS (
    INSERT INTO items (provider, collection, id, document, version, seq)
    SELECT %(provider)s, %(collection)s, %(prefix)s || digits,
           CAST(replace(replace(%(document)s, %(field_mark)s, %(field_head)s || digits || %(field_tail)s),
                        %(text_mark)s, %(text_head)s || digits) AS JSONB),
           1, nextval('items_seq')
    FROM numbered
    ON CONFLICT (provider, collection, id) DO NOTHING
    RETURNING id
)
SELECT set_config('pactmock.created_number',
                  COALESCE((SELECT CAST(number AS TEXT) FROM numbered WHERE EXISTS (SELECT FROM inserted)), ''),
                  false);
COMMIT;
SELECT current_setting('pactmock.created_number'), pg_logical_emit_message(true, 'pactmock', 'durable');
"""
# pg_logical_emit_message(true, ...) writes a WAL record in its own transaction, which therefore commits
# synchronously: it returns once the WAL up to its record, and so the create before it, is on disk.


def create(engine: Engine, provider: str, collection: str, start: int, item: NumberedDocument) -> int | None:
    """The number the new item's id was made from, durably committed; None when that id was taken.

    `engine` autocommits (Database.autocommit_engine), so the statements' own BEGIN and COMMIT rule.
    """
    prefix_in_text = _in_json_text(item.prefix)
    parameters = {
        "provider": provider,
        "collection": collection,
        "start": start,
        "width": item.width,
        "prefix": item.prefix,
        "document": item.document,
        "field_mark": item.field_mark,
        "field_head": f'"{prefix_in_text}' if item.quoted else "",
        "field_tail": '"' if item.quoted else "",
        "text_mark": item.text_mark,
        "text_head": prefix_in_text,
    }
    with engine.connect() as connection:
        try:
            number = connection.exec_driver_sql(CREATE, parameters).scalar_one()
        except DBAPIError as exc:
            # The string's own transaction is left open and failed (a lock timeout, a cancel, a character
            # JSONB refuses), and the pool's reset cannot end it on an autocommitting connection.
            if not exc.connection_invalidated:
                _end_failed_transaction(connection)
            raise
    return int(number) if number else None


def _in_json_text(text: str) -> str:
    """`text` as it is written inside a JSON string (quotes and backslashes escaped)."""
    return json.dumps(text)[1:-1]


def _end_failed_transaction(connection: Connection) -> None:
    try:
        connection.exec_driver_sql("ROLLBACK")
    except DBAPIError:
        connection.invalidate()  # the pool then opens a new one; engine.py also checks at checkout
