"""A create the store may do in one statement: the id number taken, the id and document finished, the item stored.

A counter id is known only once the number is taken, inside the store. The maker sends the document with marks
where the id goes (`NumberedDocument`); a store that can (`CreatesNumbered`) puts the id in and stores the item at
once: PostgreSQL in one round trip, so the counter's lock is never held while the client waits on the network; an
SQLite file in a group of creates sharing one transaction, so writers queue on a lock, not on SQLite's busy handler.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# Per process, so no client can send them: where the id field's value goes, and where `{id}` stood in a default.
FIELD_MARK = f"~pactmock-id-field-{secrets.token_hex(8)}"
TEXT_MARK = f"~pactmock-id-text-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class NumberedDocument:
    """A new item's document as JSON text with marks where its id goes, and how the id is written."""

    document: str
    prefix: str  # before the digits (prefixed ids; "" for a counter's)
    width: int  # the digits zero-padded to this many (0: as they are)
    quoted: bool  # the id is a JSON string (prefixed), not a number (counter)

    # The id field's value as the JSON text holds it, and the mark inside text.
    field_mark: str = f'"{FIELD_MARK}"'
    text_mark: str = TEXT_MARK


@runtime_checkable
class CreatesNumbered(Protocol):
    """Items that can store a numbered new item in one statement."""

    @property
    def creates_numbered(self) -> bool:
        """Whether this store can now (PostgreSQL; an SQLite file outside a transaction)."""

    def create_numbered(self, provider: str, collection: str, start: int, item: NumberedDocument) -> int | None:
        """Take the collection's next number (`start` the first time), store the item with the id made from it;
        the number, or None when that id was taken (the counter has moved past it: try again)."""
