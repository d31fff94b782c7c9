"""Generic items (the Items port of app/resources/ports.py): JSON documents in one table, on SQLite and PostgreSQL.

Every write is one statement, so none can be seen half done, and each runs in the unit of work's
transaction (an item and its id number commit together, or neither does).

Filters (`where`) compare top-level fields with typed JSON values: "1" is not 1, true is not 1, and None
matches a stored null only (not a missing field). A field's name and value are always bound parameters:
- PostgreSQL: `document @> :fragment`, JSONB containment of {name: value}, which for the scalar values a
  filter takes is exactly typed equality (numbers compare as numbers: 1 equals 1.0);
- SQLite: an EXISTS over `json_each(document)`, comparing its key, JSON type and value columns. A JSON path
  cannot name a key holding a double quote on SQLite 3.40 (`$."a\\"b"` finds nothing); json_each's key can.

A claim is one UPDATE of the oldest matching item, which a subquery picks. On PostgreSQL the subquery locks
it FOR UPDATE SKIP LOCKED: concurrent claimers pass over one another's items instead of queueing on the
same one (and a row changed meanwhile is checked against the filter again before it is taken). SQLite
writers hold the database's write lock from BEGIN IMMEDIATE, so no other claim can run in between.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    delete,
    exists,
    func,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from ..resources.numbered import NumberedDocument
from ..resources.ports import Item, Where
from . import group_commit, items_postgresql
from .database import AUTOCOMMIT_ENGINE
from .items_sqlite import ItemCreate
from .tables import ITEM_ORDER, STARTED_MARKER, ItemCounterRow, ItemRow

ITEMS: Table = ItemRow.__table__  # type: ignore[assignment]
COUNTERS: Table = ItemCounterRow.__table__  # type: ignore[assignment]
# What every statement hands back, in the order `_item` reads it.
RETURNED = (ITEMS.c.collection, ITEMS.c.id, ITEMS.c.document, ITEMS.c.version, ITEMS.c.seq)
KEY = ("provider", "collection", "id")
# SQLite's top-level merge for claims (see `_merge_on_sqlite`).
SQLITE_MERGE = "pactmock_merge_top_level"
# The JSON types json_each reports for a number.
SQLITE_NUMBER_TYPES = ("integer", "real")


class SqlItems:
    """Items in the `items` table, id numbers and start markers in `item_counters`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.on_postgresql = session.get_bind().dialect.name == "postgresql"
        # Whether this unit of work wrote items (the engine announces the writes once committed: domain/cached.py).
        self.wrote = False

    def add(self, provider: str, collection: str, item_id: str, document: dict[str, Any]) -> Item | None:
        """Insert at version 1; None (nothing written) when the id is taken (ON CONFLICT DO NOTHING)."""
        self._written()
        statement = (
            self._insert(ITEMS)
            .values(
                provider=provider,
                collection=collection,
                id=item_id,
                document=document,
                version=1,
                seq=self._next_order(provider, collection),
            )
            .on_conflict_do_nothing(index_elements=KEY)
            .returning(*RETURNED)
        )
        return _item(self.session.execute(statement).one_or_none())

    def put(self, provider: str, collection: str, item_id: str, document: dict[str, Any]) -> Item:
        """Insert, or replace the stored document with version + 1 (keeping its place in the order)."""
        self._written()
        statement = self._insert(ITEMS).values(
            provider=provider,
            collection=collection,
            id=item_id,
            document=document,
            version=1,
            seq=self._next_order(provider, collection),
        )
        statement = statement.on_conflict_do_update(
            index_elements=KEY,
            set_={"document": statement.excluded.document, "version": ITEMS.c.version + 1},
        ).returning(*RETURNED)
        item = _item(self.session.execute(statement).one())
        assert item is not None
        return item

    def get(self, provider: str, collection: str, item_id: str) -> Item | None:
        """The item, or None."""
        statement = select(*RETURNED).where(*_key(provider, collection, item_id))
        autocommit = self.session.info.get(AUTOCOMMIT_ENGINE) if self.on_postgresql else None
        if autocommit is not None and not self.session.in_transaction():
            # Nothing of this unit of work is written yet, so the item as committed is what its transaction's first
            # statement would see (READ COMMITTED: each statement its own snapshot). Asked outside it, the read is
            # one round trip instead of BEGIN, SELECT and COMMIT: a plain read of an item does nothing else.
            with autocommit.connect() as connection:
                return _item(connection.execute(statement).one_or_none())
        return _item(self.session.execute(statement).one_or_none())

    def list(
        self, provider: str, collection: str, where: Where, offset: int = 0, limit: int | None = None
    ) -> list[Item]:
        """The items whose fields equal `where`, oldest first (ix_items_provider_collection_seq)."""
        statement = (
            select(*RETURNED)
            .where(ITEMS.c.provider == provider, ITEMS.c.collection == collection, *self._filters(ITEMS, where))
            .order_by(ITEMS.c.seq, ITEMS.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [item for row in self.session.execute(statement) if (item := _item(row)) is not None]

    def count(self, provider: str, collection: str, where: Where) -> int:
        """How many items match `where`."""
        statement = (
            select(func.count())
            .select_from(ITEMS)
            .where(ITEMS.c.provider == provider, ITEMS.c.collection == collection, *self._filters(ITEMS, where))
        )
        return int(self.session.execute(statement).scalar_one())

    def replace(
        self, provider: str, collection: str, item_id: str, document: dict[str, Any], expected_version: int
    ) -> Item | None:
        """Write the document if the item is still at `expected_version`; None (nothing written) otherwise."""
        self._written()
        statement = (
            update(ITEMS)
            .where(*_key(provider, collection, item_id), ITEMS.c.version == expected_version)
            .values(document=document, version=ITEMS.c.version + 1)
            .returning(*RETURNED)
        )
        return _item(self.session.execute(statement).one_or_none())

    def claim(self, provider: str, collection: str, where: Where, changes: dict[str, Any]) -> Item | None:
        """Merge `changes` into the oldest item matching `where` (top-level keys), version + 1; None when none does."""
        self._written()
        candidate = ITEMS.alias("candidate")
        chosen = (
            select(candidate.c.id)
            .where(
                candidate.c.provider == provider,
                candidate.c.collection == collection,
                *self._filters(candidate, where),
            )
            .order_by(candidate.c.seq, candidate.c.id)
            .limit(1)
        )
        merged: ColumnElement[Any]
        if self.on_postgresql:
            chosen = chosen.with_for_update(skip_locked=True)
            # JSONB's || replaces the top-level keys the right side has and keeps the others.
            merged = type_coerce(ITEMS.c.document, JSONB).op("||")(literal(changes, JSONB))
        else:
            merged = self._merge_on_sqlite(changes)
        statement = (
            update(ITEMS)
            .where(
                ITEMS.c.provider == provider,
                ITEMS.c.collection == collection,
                ITEMS.c.id == chosen.scalar_subquery(),
            )
            .values(document=merged, version=ITEMS.c.version + 1)
            .returning(*RETURNED)
        )
        return _item(self.session.execute(statement).one_or_none())

    def remove(self, provider: str, collection: str, item_id: str) -> bool:
        """Delete the item; False when there was none."""
        self._written()
        statement = delete(ITEMS).where(*_key(provider, collection, item_id)).returning(ITEMS.c.id)
        return self.session.execute(statement).first() is not None

    def clear(self, provider: str) -> None:
        """Delete every item and counter of the provider, its start marker too."""
        self._written()
        self.session.execute(delete(ITEMS).where(ITEMS.c.provider == provider))
        self.session.execute(delete(COUNTERS).where(COUNTERS.c.provider == provider))

    def next_number(self, provider: str, collection: str, start: int) -> int:
        """The next id number (`start` the first time): the counter row is made or moved on in one upsert,
        which keeps it locked to the end of the transaction, so numbers are gap-free and never handed out twice.
        """
        self._written()
        if collection == STARTED_MARKER:
            raise ValueError("a collection needs a name: the empty one marks a started provider")
        statement = self._insert(COUNTERS).values(provider=provider, collection=collection, next_value=start + 1)
        statement = statement.on_conflict_do_update(
            index_elements=("provider", "collection"), set_={"next_value": COUNTERS.c.next_value + 1}
        ).returning(COUNTERS.c.next_value)
        return int(self.session.execute(statement).scalar_one()) - 1

    @property
    def creates_numbered(self) -> bool:
        """Whether `create_numbered` can run: on PostgreSQL, which has an autocommitting engine for it, and on an
        SQLite file while this unit of work holds no transaction (the create joins a group: group_commit.py)."""
        if self.on_postgresql:
            return self.session.info.get(AUTOCOMMIT_ENGINE) is not None
        return self._group_engine() is not None

    def create_numbered(self, provider: str, collection: str, start: int, item: NumberedDocument) -> int | None:
        """Take the next id number and store the item with the id made from it, in one statement committed on its
        own (items_postgresql.py); the number, or None when that id was taken (the counter moved past it)."""
        if collection == STARTED_MARKER:
            raise ValueError("a collection needs a name: the empty one marks a started provider")
        if self.on_postgresql:
            self._written()
            return items_postgresql.create(self.session.info[AUTOCOMMIT_ENGINE], provider, collection, start, item)
        engine = self._group_engine()
        if engine is None:
            raise RuntimeError("a numbered create on SQLite needs a file and no open transaction (creates_numbered)")
        self._written()
        create = ItemCreate(provider, collection, start, item)
        group_commit.writer_for(engine).submit(create)
        return create.number

    def is_started(self, provider: str) -> bool:
        """Whether the provider's start marker is set."""
        statement = select(COUNTERS.c.next_value).where(
            COUNTERS.c.provider == provider, COUNTERS.c.collection == STARTED_MARKER
        )
        return self.session.execute(statement).first() is not None

    def mark_started(self, provider: str, started: bool) -> None:
        """Set or clear the start marker (a counter row of the reserved collection)."""
        self._written()
        if started:
            marker = self._insert(COUNTERS).values(provider=provider, collection=STARTED_MARKER, next_value=0)
            self.session.execute(marker.on_conflict_do_nothing(index_elements=("provider", "collection")))
        else:
            self.session.execute(
                delete(COUNTERS).where(COUNTERS.c.provider == provider, COUNTERS.c.collection == STARTED_MARKER)
            )

    def _group_engine(self) -> Engine | None:
        return group_commit.group_engine(self.session.get_bind(), self.session.in_transaction())

    def _written(self) -> None:
        self.wrote = True

    # --- the dialects' differences ---

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which has ON CONFLICT on both."""
        return (postgresql.insert if self.on_postgresql else sqlite.insert)(table)

    def _next_order(self, provider: str, collection: str) -> ColumnElement[int]:
        """A new item's place in the creation order (`seq`)."""
        if self.on_postgresql:
            return ITEM_ORDER.next_value()
        # The write lock SQLite writers hold makes the largest value so far safe to count on.
        return (
            select(func.coalesce(func.max(ITEMS.c.seq), 0) + 1)
            .where(ITEMS.c.provider == provider, ITEMS.c.collection == collection)
            .scalar_subquery()
        )

    def _filters(self, table: Any, where: Where) -> tuple[ColumnElement[bool], ...]:
        """The conditions that `where` holds for the rows of `table` (the items table or an alias of it)."""
        for name, value in where.items():
            if not isinstance(name, str) or not (value is None or isinstance(value, str | int | float)):
                raise TypeError(f"a filter compares a field with a string, number, boolean or None, not {value!r}")
        if not where:
            return ()
        if self.on_postgresql:
            return (type_coerce(table.c.document, JSONB).contains(dict(where)),)
        return tuple(_sqlite_field_equals(table, name, value) for name, value in where.items())

    def _merge_on_sqlite(self, changes: dict[str, Any]) -> ColumnElement[Any]:
        """The document with `changes` merged in, by a function registered on this connection.

        SQLite's own functions fall short: json_patch deletes the keys a change sets to null and merges
        nested objects, and json_set needs a path, which cannot name every key (see the module's note).
        The function runs inside the UPDATE, on the one row the subquery picked.
        """
        connection = self.session.connection().connection.dbapi_connection
        assert connection is not None
        connection.create_function(SQLITE_MERGE, 2, _merge_top_level, deterministic=True)
        return getattr(func, SQLITE_MERGE)(ITEMS.c.document, json.dumps(changes))


def _merge_top_level(document: str, changes: str) -> str:
    merged = json.loads(document)
    merged.update(json.loads(changes))
    return json.dumps(merged)


def _sqlite_field_equals(table: Any, name: str, value: Any) -> ColumnElement[bool]:
    """The document has a top-level field `name` of the JSON type of `value`, equal to it."""
    field = func.json_each(table.c.document).table_valued("key", "type", "atom").alias("field")
    conditions: list[ColumnElement[bool]] = [field.c.key == name]
    if value is None:
        conditions.append(field.c.type == "null")
    elif isinstance(value, bool):
        conditions.append(field.c.type == ("true" if value else "false"))
    elif isinstance(value, str):
        conditions += [field.c.type == "text", field.c.atom == value]
    else:
        conditions += [field.c.type.in_(SQLITE_NUMBER_TYPES), field.c.atom == value]
    return exists(select(field.c.key).where(*conditions))


def _key(provider: str, collection: str, item_id: str) -> Sequence[ColumnElement[bool]]:
    return (ITEMS.c.provider == provider, ITEMS.c.collection == collection, ITEMS.c.id == item_id)


def _item(row: Sequence[Any] | None) -> Item | None:
    if row is None:
        return None
    collection, item_id, document, version, seq = row
    return Item(collection, item_id, document, int(version), int(seq))
