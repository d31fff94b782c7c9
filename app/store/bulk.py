"""Many items written at once (`pactmock seed`): a chunk of rows per transaction, by each backend's bulk path.

A row replaces the stored item with its id: the document is the new one, the version goes back to 1 and the
item keeps its place in the creation order (`seq`), so writing the same rows again leaves the table as it was;
a stored row that already is the one given (same document, version 1) is not written again (a re-run of the
same seed then costs a lookup per row, not a new row version and its index entries).
A new item takes a `seq` above every earlier one, in the order the rows are given.

- PostgreSQL, into a collection that held no items when seeding began: the chunk is streamed with COPY FROM
  STDIN straight into `items`, its `seq` values taken from the sequence items_seq beforehand (one nextval per
  row, in one query: a block reserved with setval would race other writers). Should a row's id be there after
  all (another writer, an id given twice), the chunk is rolled back and written the other way from then on.
- PostgreSQL, otherwise: the chunk is streamed with COPY into a temporary table (emptied at each commit), then
  moved into `items` by one INSERT ... ON CONFLICT DO UPDATE whose new `seq` values come from items_seq, taken
  in the chunk's order.
- SQLite: executemany of one upsert in a BEGIN IMMEDIATE transaction; a new item's `seq` is the largest of its
  collection plus its place in the chunk, safe because the transaction holds the write lock.

Each chunk is committed without waiting for its commit to reach the disk (synchronous_commit off on
PostgreSQL, synchronous NORMAL under SQLite's WAL): a crash may lose the last chunks, never corrupt the
store, and re-running the command writes them again.

Documents arrive as JSON text (made by whoever generated them, possibly in other processes), so nothing here
encodes them again.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from psycopg2 import errors, extensions
from sqlalchemy import create_engine, pool

from .engine import is_sqlite

# (the item's id as the store keys it, its document as JSON text)
Row = tuple[str, str]

_PG_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS pactmock_seed_rows (
    place integer NOT NULL, id text NOT NULL, document jsonb NOT NULL
) ON COMMIT DELETE ROWS
"""
# nextval in the outer query runs once per row after the ORDER BY: new items take seq in the chunk's order.
_PG_MOVE = """
INSERT INTO items (provider, collection, id, document, version, seq)
SELECT %(provider)s, %(collection)s, staged.id, staged.document, 1, nextval('items_seq')
FROM (SELECT id, document FROM pactmock_seed_rows ORDER BY place) AS staged
ON CONFLICT (provider, collection, id) DO UPDATE SET document = EXCLUDED.document, version = 1
WHERE items.document IS DISTINCT FROM EXCLUDED.document OR items.version <> 1
"""
_SQLITE_UPSERT = """
INSERT INTO items (provider, collection, id, document, version, seq) VALUES (?, ?, ?, ?, 1, ?)
ON CONFLICT (provider, collection, id) DO UPDATE SET document = excluded.document, version = 1
WHERE items.document IS NOT excluded.document OR items.version <> 1
"""
_SQLITE_LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM items WHERE provider = ? AND collection = ?"
_PG_ANY_STORED = "SELECT EXISTS (SELECT 1 FROM items WHERE provider = %(provider)s AND collection = %(collection)s)"
_PG_SEQS = "SELECT nextval('items_seq') FROM generate_series(1, %(count)s)"
_PG_COPY_NEW = "COPY items (provider, collection, id, document, version, seq) FROM STDIN"
# COPY's text format: these characters would end a field or a row, or start an escape.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class BulkItems:
    """One connection to the database at `database_url`, writing chunks of items; use it in a `with` block."""

    def __init__(self, database_url: str) -> None:
        # Its own small engine: one connection, kept for the whole seeding, not the server's pool settings.
        self._engine = create_engine(database_url, poolclass=pool.NullPool)
        self.on_sqlite = is_sqlite(database_url)
        self._connection: Any = None
        self._wait_callback: Any = None
        # (provider, collection) -> whether it held no items when this seeding began (PostgreSQL's COPY path).
        self._fresh: dict[tuple[str, str], bool] = {}

    def __enter__(self) -> BulkItems:
        self._connection = self._engine.raw_connection()
        if self.on_sqlite:
            # The transaction is begun here, explicitly, so that it takes the write lock at once.
            self._connection.driver_connection.isolation_level = None
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
        else:
            # psycopg2 refuses COPY under a wait callback, which bounded_wait.py installs for the whole process
            # once any server engine is made (reading the mock's clock makes one): it is lifted while seeding,
            # a command a person watches and can interrupt, and put back afterwards.
            self._wait_callback = extensions.get_wait_callback()
            extensions.set_wait_callback(None)
            with self._connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
                cursor.execute(_PG_STAGING)
            self._connection.commit()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._connection is not None:
            self._connection.close()
        self._engine.dispose()
        if self._wait_callback is not None:
            extensions.set_wait_callback(self._wait_callback)

    def write(self, provider: str, collection: str, rows: Sequence[Row]) -> None:
        """Store these items of the collection in one transaction, replacing those with the same ids."""
        if not rows:
            return
        if self.on_sqlite:
            self._write_sqlite(provider, collection, rows)
        else:
            self._write_postgresql(provider, collection, rows)

    def _write_postgresql(self, provider: str, collection: str, rows: Sequence[Row]) -> None:
        key = (provider, collection)
        if key not in self._fresh:
            with self._connection.cursor() as cursor:
                cursor.execute(_PG_ANY_STORED, {"provider": provider, "collection": collection})
                self._fresh[key] = not cursor.fetchone()[0]
            self._connection.commit()
        if self._fresh[key]:
            try:
                self._copy_new(provider, collection, rows)
                return
            except errors.UniqueViolation:  # rolled back: the upsert below writes the chunk, and the rest
                self._fresh[key] = False
        self._upsert_postgresql(provider, collection, rows)

    def _copy_new(self, provider: str, collection: str, rows: Sequence[Row]) -> None:
        """Rows none of which is stored yet, COPYed straight into `items`."""
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(_PG_SEQS, {"count": len(rows)})
                # Sorted: new items take seq in the chunk's order whatever order the query returned them in.
                seqs = sorted(found for (found,) in cursor.fetchall())
                fixed = f"{_copy_text(provider)}\t{_copy_text(collection)}\t"
                payload = io.StringIO(
                    "".join(
                        f"{fixed}{_copy_text(item_id)}\t{_copy_text(document)}\t1\t{seq}\n"
                        for seq, (item_id, document) in zip(seqs, rows, strict=True)
                    )
                )
                cursor.copy_expert(_PG_COPY_NEW, payload)
            self._connection.commit()
        except BaseException:
            self._connection.rollback()
            raise

    def _upsert_postgresql(self, provider: str, collection: str, rows: Sequence[Row]) -> None:
        payload = io.StringIO(
            "".join(
                f"{place}\t{_copy_text(item_id)}\t{_copy_text(document)}\n"
                for place, (item_id, document) in enumerate(rows)
            )
        )
        try:
            with self._connection.cursor() as cursor:
                cursor.copy_expert("COPY pactmock_seed_rows (place, id, document) FROM STDIN", payload)
                cursor.execute(_PG_MOVE, {"provider": provider, "collection": collection})
            self._connection.commit()
        except BaseException:
            self._connection.rollback()
            raise

    def _write_sqlite(self, provider: str, collection: str, rows: Sequence[Row]) -> None:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            last = int(connection.execute(_SQLITE_LAST_SEQ, (provider, collection)).fetchone()[0])
            connection.executemany(
                _SQLITE_UPSERT,
                (
                    (provider, collection, item_id, document, last + place)
                    for place, (item_id, document) in enumerate(rows, start=1)
                ),
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def _copy_text(value: str) -> str:
    """`value` as a field of COPY's text format."""
    # Compact JSON has no raw tab or line break (json.dumps writes them as \t, \n inside strings), so most
    # values need only their backslashes doubled: str.replace is several times faster than str.translate.
    if "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value.replace("\\", "\\\\")
