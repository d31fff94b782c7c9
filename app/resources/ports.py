"""What generic resources need from storage: items as JSON documents, one table for every provider.

The unit of work of the Epistemix domain carries these too (`uow.items`), so a generic write is atomic
with its id counter and can share a transaction with the provider-state bookkeeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# Field equality filters: top-level document fields and the JSON value each must equal
# (a string, an integer, a boolean or None).
Where = Mapping[str, Any]


@dataclass(frozen=True)
class Item:
    """One stored item: its document and the version a conditional write compares."""

    collection: str
    id: str
    document: dict[str, Any]
    version: int
    # Creation order within the provider: lists and claims go oldest first.
    seq: int


class Items(Protocol):
    """The items of every generic provider, keyed by (provider, collection, id)."""

    def add(self, provider: str, collection: str, item_id: str, document: dict[str, Any]) -> Item | None:
        """Store a new item at version 1; None (nothing written) when the id is taken."""

    def put(self, provider: str, collection: str, item_id: str, document: dict[str, Any]) -> Item:
        """Store the item whatever was there (fixtures): a new one, or the old one replaced with version + 1."""

    def get(self, provider: str, collection: str, item_id: str) -> Item | None:
        """The item, or None."""

    def list(
        self, provider: str, collection: str, where: Where, offset: int = 0, limit: int | None = None
    ) -> list[Item]:
        """The items whose fields equal `where`, oldest first."""

    def count(self, provider: str, collection: str, where: Where) -> int:
        """How many items match `where`."""

    def replace(
        self, provider: str, collection: str, item_id: str, document: dict[str, Any], expected_version: int
    ) -> Item | None:
        """Write the document if the item is still at `expected_version` (one conditional UPDATE); else None."""

    def claim(self, provider: str, collection: str, where: Where, changes: dict[str, Any]) -> Item | None:
        """Merge `changes` into the oldest item matching `where` in one conditional UPDATE and return it.

        Two concurrent claims never get the same item; None when no item matches.
        """

    def remove(self, provider: str, collection: str, item_id: str) -> bool:
        """Delete the item; False when there was none."""

    def clear(self, provider: str) -> None:
        """Delete every item and counter of the provider."""

    def next_number(self, provider: str, collection: str, start: int) -> int:
        """The collection's next id number (`start` the first time), gap-free, taken in this transaction."""

    def is_started(self, provider: str) -> bool:
        """Whether the provider's start fixtures were loaded (a marker kept with the counters)."""

    def mark_started(self, provider: str, started: bool) -> None:
        """Set or clear that marker."""


class ItemStore(Protocol):
    """A unit of work that has items (the SQL one does; so does the in-memory one of the tests)."""

    @property
    def items(self) -> Items:
        """Items, in this transaction."""
