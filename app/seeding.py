"""`pactmock seed`: items 0..N-1 of a model's collection written to the store as real rows, deterministically.

Item i is generate.generated_item(model, collection, i, at): the same (seed, collection, index, at) give the
same document in any process, so re-running gives the same rows. What a generated collection's read adds to
an item is added here too (a parent's inherited fields, the timed state's start), so a seeded row reads like
the virtual item it replaces. Generation is most of the CPU per row (bench/RESULTS.md, issue 17), so chunks are made
in worker processes, in order, while this process hands the finished ones to the store's bulk path.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from .contract.read.loader import load_pacts
from .providers import epistemix
from .providers.generic.discovery import generic_models
from .resources.generate import count_of, generated_item
from .resources.model import MAX_GENERATED, Collection, ResourceModel
from .resources.timeline import entered
from .resources.values import key_of
from .resources.virtual import _born as born_at
from .settings import Settings
from .store import migrate
from .store.bulk import BulkItems, Row
from .store.engine import is_sqlite

# Items made and written per transaction: big enough that a commit costs little, small enough to show progress.
CHUNK = 5_000


class SeedRefused(Exception):
    """The command cannot run as asked: one line saying why (exit 2)."""


@dataclass(frozen=True)
class SeedPlan:
    """What to write: the model (its seed possibly overridden), the collection, how many, anchored when."""

    model: ResourceModel
    collection: Collection
    count: int
    at: datetime


@dataclass(frozen=True)
class Seeded:
    """What was written and how fast."""

    count: int
    seconds: float

    @property
    def rate(self) -> float:
        """Rows per second."""
        return self.count / self.seconds if self.seconds > 0 else float("inf")


def plan(settings: Settings, provider: str, collection: str, count: int, seed: int | None, at: datetime) -> SeedPlan:
    """The plan for the pacts in settings.pact_dir; SeedRefused for an unknown provider or collection or a bad N."""
    if not 1 <= count <= MAX_GENERATED:
        raise SeedRefused(f"N must be 1 to {MAX_GENERATED:,}, not {count:,}")
    folder = Path(settings.pact_dir)
    if not folder.exists():
        raise SeedRefused(f"no pacts at {folder}: pass --pact-dir or set PACT_DIR")
    models = {m.provider: m for m in generic_models(settings, load_pacts(folder), frozenset(epistemix.PROVIDERS))}
    model = models.get(provider)
    if model is None:
        known = ", ".join(sorted(models)) or "none"
        raise SeedRefused(f"no model file declares provider {provider!r} in {folder} (providers with one: {known})")
    if collection not in model.collections:
        known = ", ".join(sorted(model.collections))
        raise SeedRefused(f"provider {provider} has no collection {collection!r} (it has: {known})")
    if seed is not None:
        model = replace(model, seed=seed)
    return SeedPlan(model, model.collections[collection], count, at)


def check_database(database_url: str) -> None:
    """The embedded SQLite file is brought to head, as `serve` does; a server database must already be there."""
    try:
        if is_sqlite(database_url):
            migrate.upgrade(database_url)
            return
        current, head = migrate.current_revision(database_url), migrate.head_revision()
    except Exception as error:  # the driver's or Alembic's: either way the database cannot be used
        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or [type(error).__name__])[0]
        raise SeedRefused(f"cannot open the database: {reason}") from None
    if current != head:
        raise SeedRefused(
            f"the database is at revision {current or 'none'}, this pactmock needs {head}: run `pactmock db upgrade` first"
        )


def seed(chosen: SeedPlan, database_url: str, jobs: int, progress: Callable[[int], None] = lambda done: None) -> Seeded:
    """Write the plan's items, chunk by chunk; `progress` hears how many are written after each chunk."""
    started = time.perf_counter()
    done = 0
    with BulkItems(database_url) as store:
        for rows in _chunks(chosen, jobs):
            store.write(chosen.model.provider, chosen.collection.name, rows)
            done += len(rows)
            progress(done)
    return Seeded(done, time.perf_counter() - started)


def _chunks(chosen: SeedPlan, jobs: int) -> Iterator[list[Row]]:
    """The rows chunk by chunk, in index order; made by `jobs` worker processes when there is more than one."""
    # A tenth of a small N per chunk, so that its progress still moves in tenths.
    size = min(CHUNK, max(1, -(-chosen.count // 10)))
    starts = range(0, chosen.count, size)
    if jobs <= 1 or chosen.count <= CHUNK:
        for start in starts:
            yield rows_of(chosen, start, min(start + size, chosen.count))
        return
    with ProcessPoolExecutor(jobs, initializer=_remember, initargs=(chosen,)) as pool:
        # A window of chunks in flight: the workers stay busy, and 10 million items are never all in memory.
        pending: list[Future[list[Row]]] = []
        upcoming = iter(starts)
        for start in upcoming:
            pending.append(pool.submit(_rows_in_worker, start, min(start + size, chosen.count)))
            if len(pending) >= 2 * jobs:
                break
        while pending:
            rows = pending.pop(0).result()
            following = next(upcoming, None)
            if following is not None:
                pending.append(pool.submit(_rows_in_worker, following, min(following + size, chosen.count)))
            yield rows


# The plan a worker process makes rows for, sent once when it starts rather than with every chunk.
_WORKER_PLAN: list[SeedPlan] = []


def _remember(chosen: SeedPlan) -> None:
    _WORKER_PLAN[:] = [chosen]


def _rows_in_worker(start: int, stop: int) -> list[Row]:
    return rows_of(_WORKER_PLAN[0], start, stop)


def rows_of(chosen: SeedPlan, start: int, stop: int) -> list[Row]:
    """Items start..stop-1 as (key, JSON text) rows."""
    parent = _parent(chosen)
    # msgspec writes compact JSON (UTF-8, keys in the document's order) about 8 times as fast as json.
    encode = msgspec.json.Encoder().encode
    id_field = chosen.collection.ids.field
    rows = []
    for index in range(start, stop):
        document = item_document(chosen, index, parent)
        rows.append((key_of(document[id_field]), encode(document).decode()))
    return rows


def item_document(chosen: SeedPlan, index: int, parent: tuple[Collection, int] | None = None) -> dict[str, Any]:
    """Item `index` as it is stored: generated, given its parent's inherited fields and its timed state's start."""
    model, collection = chosen.model, chosen.collection
    document = generated_item(model, collection, index, chosen.at)
    generated = collection.generated
    if parent is not None and generated is not None:
        source = generated_item(model, parent[0], index % parent[1], chosen.at)
        document.update({own: source.get(theirs) for own, theirs in generated.inherit.items()})
    machine = collection.machine
    if machine is not None and machine.timed:
        # As a generated read does: born in the drawn (or initial) state when its earliest time says; the
        # served mock moves it on from there as the clock has it.
        document.setdefault(machine.field, machine.initial)
        if document[machine.field] not in machine.states:
            document[machine.field] = machine.initial
        entered(document, machine, born_at(document, collection, chosen.at))
    return document


def _parent(chosen: SeedPlan) -> tuple[Collection, int] | None:
    """The parent collection items inherit from, and its count (the model file's: a run-time change is not seen)."""
    generated = chosen.collection.generated
    if generated is None or not generated.parent or not generated.inherit:
        return None
    parent = chosen.model.collections[generated.parent]
    return parent, max(1, count_of(parent, None))


def default_jobs() -> int:
    """Worker processes that make items: one per core this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def mock_now(settings: Settings) -> datetime:
    """The mock's clock now: its frozen instant, else the system's time plus the clock's offset."""
    from .domain.clock import MockClock
    from .store.unit_of_work import SqlStore

    store = SqlStore.connect(settings)
    try:
        return MockClock(store)()
    finally:
        store.database.engine.dispose()


def parse_at(text: str) -> datetime:
    """--at as an aware datetime; SeedRefused when it is not RFC 3339 / ISO 8601 with a zone."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SeedRefused(
            f"--at must be an ISO 8601 date-time with a zone (2030-01-01T00:00:00Z), not {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise SeedRefused(f"--at needs a zone (Z or +00:00): {text!r}")
    return moment
