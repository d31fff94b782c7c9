"""A generic create on an SQLite file, as a kind of grouped write (group_commit.py).

The same create PostgreSQL does in one statement (items_postgresql.py): take the collection's next id number,
put the id where the document's marks stand, store the item. Here the creates waiting at once share one
transaction, so they queue on a lock instead of SQLite's busy handler, and a group pays one COMMIT. The number
is handed out only after that COMMIT. An id a fixture already holds is not overwritten: the counter stays moved
past it and the create gets no number (the caller tries again), as on PostgreSQL. The statements go to the
driver's cursor as fixed SQL, as run submissions' do (run_submissions.py says why).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from sqlalchemy import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor

from ..resources.numbered import NumberedDocument
from .group_commit import Submission

TAKE_NUMBER = (
    "INSERT INTO item_counters (provider, collection, next_value) VALUES (?, ?, ? + 1) "
    "ON CONFLICT (provider, collection) DO UPDATE SET next_value = item_counters.next_value + 1 "
    "RETURNING next_value - 1"
)
# The document is JSON text already (the column's JSON type would encode it again). SQLite's one writer makes
# the largest order so far plus one safe to take.
STORE = (
    "INSERT INTO items (provider, collection, id, document, version, seq) "
    "VALUES (?1, ?2, ?3, ?4, 1, (SELECT coalesce(max(seq), 0) + 1 FROM items WHERE provider = ?1 AND collection = ?2)) "
    "ON CONFLICT (provider, collection, id) DO NOTHING RETURNING id"
)


class ItemCreate(Submission):
    """One numbered create and, once committed, the number its id was made from (None: that id was taken)."""

    __slots__ = ("collection", "item", "number", "provider", "start")

    def __init__(self, provider: str, collection: str, start: int, item: NumberedDocument) -> None:
        super().__init__()
        self.provider = provider
        self.collection = collection
        self.start = start
        self.item = item
        self.number: int | None = None

    def forget(self) -> None:
        """Drop the number of a try that was rolled back."""
        self.number = None

    @classmethod
    def write_together(cls, cursor: DBAPICursor, dialect: Dialect, batch: Sequence[Submission]) -> Callable[[], None]:
        """Store each create in turn; their numbers are handed out after the COMMIT."""
        numbers = [(create, create.store(cursor)) for create in batch if isinstance(create, ItemCreate)]

        def hand_out() -> None:
            for create, number in numbers:
                create.number = number

        return hand_out

    def store(self, cursor: DBAPICursor) -> int | None:
        """Take the next number and store the item with its id; the number, or None when that id was taken."""
        cursor.execute(TAKE_NUMBER, (self.provider, self.collection, self.start))
        taken = cursor.fetchone()
        assert taken is not None  # an upsert with RETURNING always returns its row
        number = int(taken[0])
        digits = str(number).zfill(self.item.width)
        id_text = f"{self.item.prefix}{digits}"
        in_text = json.dumps(id_text)[1:-1]
        field = f'"{in_text}"' if self.item.quoted else digits
        document = self.item.document.replace(self.item.field_mark, field).replace(self.item.text_mark, in_text)
        cursor.execute(STORE, (self.provider, self.collection, id_text, document))
        return number if cursor.fetchone() is not None else None
