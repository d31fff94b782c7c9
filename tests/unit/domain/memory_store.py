"""The Store port of app/domain/ports.py over dicts: the domain's services tested without a database.

It keeps the SQL store's promises, so a test that passes here says something about the real one
(tests/integration/test_store_agreement.py runs one scenario against both):
- `writing()` works on a copy and publishes it only when the block ends normally; an exception (or a
  conflict injected with `fail_next_writes`) rolls everything back, id counters included, so ids are
  gap-free.
- `Runs.submit` commits at once, with whatever the unit of work wrote before it, as the SQLite store does.
- Writers queue on one lock, as SQLite's writers queue on BEGIN IMMEDIATE.
- Repositories hand out copies, so a caller changing a Run it was given changes nothing stored.
"""

from __future__ import annotations

import builtins
import copy
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.domain.errors import Conflict, IdsExhausted, StoreUnavailable
from app.domain.model import MAX_ID, NEW_STATUS, Job, Move, Run, Upload
from app.domain.ports import IdCounters, Jobs, MockSettings, ProviderStates, Runs, Store, Uploads
from app.resources.ports import Item, Items, Where

# Where migrations/versions/0001 starts the counters: the contract's example ids come first.
FIRST_IDS = {"jobs": 123, "runs": 978}


@dataclass
class Tables:
    """Everything the store holds; one copy per writing unit of work."""

    jobs: dict[int, Job] = field(default_factory=dict)
    runs: dict[int, Run] = field(default_factory=dict)
    uploads: dict[tuple[int, str], tuple[Upload, bytes]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=lambda: dict(FIRST_IDS))
    provider_states: dict[str, tuple[dict[str, Any], datetime]] = field(default_factory=dict)
    items: dict[tuple[str, str, str], Item] = field(default_factory=dict)
    # (provider, collection) -> the next id number; a provider in `started` has its start fixtures loaded.
    item_counters: dict[tuple[str, str], int] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Creation order, across providers, as PostgreSQL's items_seq hands it out.
    last_item_order: int = 0


class MemoryIdCounters:
    """Gap-free counters: they live in the unit of work's copy, so a rollback gives their ids back."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def take(self, table: str) -> int:
        """The next id; IdsExhausted once MAX_ID - 1 has been handed out (the SQL counter's bound)."""
        value = self.tables.next_ids[table]
        if value >= MAX_ID:
            raise IdsExhausted(f"no {table} ids are left: the next one would not fit in a 64-bit column")
        self.tables.next_ids[table] = value + 1
        return value

    def has_room(self, table: str, count: int) -> bool:
        """Whether `count` more ids fit."""
        return self.tables.next_ids[table] <= MAX_ID - count

    def reserve(self, table: str, value: int) -> None:
        """Move the counter past an id a provider state chose."""
        if self.tables.next_ids[table] <= value:
            self.tables.next_ids[table] = value + 1


class MemoryJobs:
    """Jobs by id."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def add(self, job: Job) -> Job:
        """Store a new job; Conflict on a duplicate id, as the primary key would raise."""
        if job.id in self.tables.jobs:
            raise Conflict(f"duplicate job id {job.id}")
        self.tables.jobs[job.id] = copy.deepcopy(job)
        return job

    def get(self, job_id: int) -> Job | None:
        """A copy of the job, or None."""
        return copy.deepcopy(self.tables.jobs.get(job_id))

    def lock(self, job_id: int) -> Job | None:
        """As get: writers already queue on the store's one lock."""
        return self.get(job_id)

    def delete(self, job_id: int) -> None:
        """Remove the job with its runs and uploads (the foreign keys cascade)."""
        self.tables.jobs.pop(job_id, None)
        for run_id in [run.id for run in self.tables.runs.values() if run.job_id == job_id]:
            del self.tables.runs[run_id]
        for where in [where for where in self.tables.uploads if where[0] == job_id]:
            del self.tables.uploads[where]

    def of_user(self, user_id: int, created_from: datetime | None, created_until: datetime | None) -> list[Job]:
        """The user's jobs created in [created_from, created_until), newest first."""
        jobs = [
            copy.deepcopy(job)
            for job in self.tables.jobs.values()
            if job.user_id == user_id
            and (created_from is None or job.created_ts >= created_from)
            and (created_until is None or job.created_ts < created_until)
        ]
        return sorted(jobs, key=lambda job: (job.created_ts, job.id), reverse=True)


class MemoryRuns:
    """Runs by id; `commit` publishes the unit of work's copy (submit commits, as SqlRuns.submit does)."""

    def __init__(self, tables: Tables, commit: Callable[[], None]) -> None:
        self.tables = tables
        self.commit = commit

    def submit(
        self, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
    ) -> list[Run] | None:
        """One run per request, committed; None (nothing written) when a job is missing or ids have no room."""
        if not requests:
            return []
        jobs = self.tables.jobs
        if any(request["jobId"] not in jobs or jobs[request["jobId"]].user_id != user_id for request in requests):
            return None
        first = self.tables.next_ids["runs"]
        if first > MAX_ID - len(requests):
            return None
        self.tables.next_ids["runs"] = first + len(requests)
        runs = [
            Run(
                first + offset,
                request["jobId"],
                user_id,
                copy.deepcopy(request),
                NEW_STATUS,
                now,
                now,
                False,
                client_version,
            )
            for offset, request in enumerate(requests)
        ]
        for run in runs:
            self.tables.runs[run.id] = copy.deepcopy(run)
        self.commit()
        return runs

    def add(self, run: Run) -> None:
        """Store the run under its own id; Conflict on a duplicate id or a missing job, as the keys would raise."""
        if run.id in self.tables.runs or run.job_id not in self.tables.jobs:
            raise Conflict(f"run {run.id} of job {run.job_id} cannot be inserted")
        self.tables.runs[run.id] = copy.deepcopy(run)

    def get(self, run_id: int) -> Run | None:
        """A copy of the run, or None."""
        return copy.deepcopy(self.tables.runs.get(run_id))

    def latest_of_job(self, job_id: int, limit: int) -> list[Run]:
        """The job's `limit` highest-numbered runs, oldest first."""
        ids = sorted(run.id for run in self.tables.runs.values() if run.job_id == job_id)
        return [copy.deepcopy(self.tables.runs[run_id]) for run_id in ids[-limit:]] if limit > 0 else []

    def count_of_job(self, job_id: int) -> int:
        """How many runs the job has."""
        return sum(1 for run in self.tables.runs.values() if run.job_id == job_id)

    def advance(self, moves: Sequence[Move]) -> None:
        """Store each move whose run still has the status it was read with; the others read the stored step."""
        for move in moves:
            stored = self.tables.runs.get(move.run.id)
            if stored is not None and stored.status == move.run.status:
                stored.status, stored.status_ts = move.status, move.since
            # A run deleted meanwhile keeps the move, as the SQL store finds no row to read back.
            source = stored if stored is not None else replace(move.run, status=move.status, status_ts=move.since)
            move.run.status, move.run.status_ts = source.status, source.status_ts

    def delete(self, run_id: int) -> None:
        """Remove the run."""
        self.tables.runs.pop(run_id, None)

    def set_status(self, run_id: int, status: str, since: datetime, user_deleted: bool) -> None:
        """Put the run in `status` from `since`."""
        run = self.tables.runs.get(run_id)
        if run is not None:
            run.status, run.status_ts, run.user_deleted = status, since, user_deleted


class MemoryUploads:
    """Uploads by (job, key), with their bytes."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def put(self, upload: Upload, data: bytes) -> Upload:
        """Store or replace; Conflict when the job is missing, as the foreign key would raise."""
        if upload.job_id not in self.tables.jobs:
            raise Conflict(f"job {upload.job_id} does not exist")
        self.tables.uploads[upload.job_id, upload.key] = (upload, bytes(data))
        return upload

    def get(self, job_id: int, key: str) -> Upload | None:
        """What is stored under (job, key), or None."""
        found = self.tables.uploads.get((job_id, key))
        return None if found is None else found[0]

    def chunk(self, job_id: int, key: str, sha256: str, offset: int, size: int) -> bytes | None:
        """Bytes from offset (empty past the end); None when the upload is gone or has other bytes now."""
        found = self.tables.uploads.get((job_id, key))
        if found is None or found[0].sha256 != sha256:
            return None
        return found[1][offset : offset + size]

    def bytes_held(self, job_id: int, key: str) -> tuple[int, int]:
        """Bytes of uploads other than (job, key): of that job, and in all."""
        others = [upload for where, (upload, _) in self.tables.uploads.items() if where != (job_id, key)]
        return sum(u.size for u in others if u.job_id == job_id), sum(u.size for u in others)

    def of_job(self, job_id: int) -> list[Upload]:
        """The job's uploads, by key."""
        return [upload for (job, _), (upload, _) in sorted(self.tables.uploads.items()) if job == job_id]


class MemoryProviderStates:
    """Active provider states by name."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def activate(self, name: str, params: dict[str, Any], now: datetime) -> None:
        """Record the state (again) with these parameters."""
        self.tables.provider_states[name] = (copy.deepcopy(params), now)

    def deactivate(self, name: str) -> None:
        """Forget the state."""
        self.tables.provider_states.pop(name, None)

    def active(self) -> frozenset[str]:
        """The names of the active states."""
        return frozenset(self.tables.provider_states)


class MemoryItems:
    """Generic items by (provider, collection, id), kept as the SQL store keeps them: documents go through
    JSON on the way in and out, and filters compare typed JSON values ("1" is not 1, true is not 1, None
    matches a stored null only).
    """

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def add(self, provider: str, collection: str, item_id: str, document: dict[str, Any]) -> Item | None:
        """Store at version 1; None when the id is taken."""
        if (provider, collection, item_id) in self.tables.items:
            return None
        self.tables.last_item_order += 1
        return self._store(provider, Item(collection, item_id, document, 1, self.tables.last_item_order))

    def put(self, provider: str, collection: str, item_id: str, document: dict[str, Any]) -> Item:
        """Store a new item, or replace the old one's document with version + 1 (its place kept)."""
        old = self.tables.items.get((provider, collection, item_id))
        if old is None:
            added = self.add(provider, collection, item_id, document)
            assert added is not None
            return added
        return self._store(provider, replace(old, document=document, version=old.version + 1))

    def get(self, provider: str, collection: str, item_id: str) -> Item | None:
        """A copy of the item, or None."""
        item = self.tables.items.get((provider, collection, item_id))
        return None if item is None else _copied(item)

    def list(
        self, provider: str, collection: str, where: Where, offset: int = 0, limit: int | None = None
    ) -> list[Item]:
        """Copies of the matching items, oldest first."""
        found = self._matching(provider, collection, where)[offset:]
        return [_copied(item) for item in (found if limit is None else found[:limit])]

    def count(self, provider: str, collection: str, where: Where) -> int:
        """How many items match."""
        return len(self._matching(provider, collection, where))

    def replace(
        self, provider: str, collection: str, item_id: str, document: dict[str, Any], expected_version: int
    ) -> Item | None:
        """Write the document if the item is at `expected_version`; else None."""
        old = self.tables.items.get((provider, collection, item_id))
        if old is None or old.version != expected_version:
            return None
        return self._store(provider, replace(old, document=document, version=old.version + 1))

    def claim(self, provider: str, collection: str, where: Where, changes: dict[str, Any]) -> Item | None:
        """Merge `changes` into the oldest match (writers already queue on the store's one lock)."""
        found = self._matching(provider, collection, where)
        if not found:
            return None
        old = found[0]
        return self._store(provider, replace(old, document={**old.document, **changes}, version=old.version + 1))

    def remove(self, provider: str, collection: str, item_id: str) -> bool:
        """Delete the item; False when there was none."""
        return self.tables.items.pop((provider, collection, item_id), None) is not None

    def clear(self, provider: str) -> None:
        """Forget the provider's items, counters and start marker."""
        self.tables.items = {key: item for key, item in self.tables.items.items() if key[0] != provider}
        self.tables.item_counters = {key: n for key, n in self.tables.item_counters.items() if key[0] != provider}
        self.tables.started.discard(provider)

    def next_number(self, provider: str, collection: str, start: int) -> int:
        """`start` the first time, then one more each time (a rollback gives numbers back)."""
        taken = self.tables.item_counters.get((provider, collection), start)
        self.tables.item_counters[provider, collection] = taken + 1
        return taken

    def is_started(self, provider: str) -> bool:
        """Whether the start marker is set."""
        return provider in self.tables.started

    def mark_started(self, provider: str, started: bool) -> None:
        """Set or clear the start marker."""
        (self.tables.started.add if started else self.tables.started.discard)(provider)

    def _store(self, provider: str, item: Item) -> Item:
        stored = replace(item, document=json.loads(json.dumps(item.document)))
        self.tables.items[provider, item.collection, item.id] = stored
        return _copied(stored)

    def _matching(self, provider: str, collection: str, where: Where) -> builtins.list[Item]:
        for value in where.values():
            if not (value is None or isinstance(value, str | int | float)):
                raise TypeError(f"a filter compares a field with a string, number, boolean or None, not {value!r}")
        found = [
            item
            for (owner, kind, _), item in self.tables.items.items()
            if owner == provider and kind == collection and all(_holds(item.document, *pair) for pair in where.items())
        ]
        return sorted(found, key=lambda item: (item.seq, item.id))


def _holds(document: dict[str, Any], name: str, value: Any) -> bool:
    """Typed JSON equality of a top-level field: what the SQL store's filters compare."""
    if name not in document:
        return False
    stored = document[name]
    if value is None or isinstance(value, bool) or isinstance(stored, bool):
        return stored is value
    if isinstance(value, str):
        return isinstance(stored, str) and stored == value
    return isinstance(stored, int | float) and stored == value


def _copied(item: Item) -> Item:
    return replace(item, document=copy.deepcopy(item.document))


class MemorySettings:
    """The mock's own settings by name."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def get(self, name: str) -> dict[str, Any] | None:
        """The value, or None."""
        value = self.tables.settings.get(name)
        return copy.deepcopy(value) if value is not None else None

    def put(self, name: str, value: dict[str, Any]) -> None:
        """Set it."""
        self.tables.settings[name] = copy.deepcopy(value)


class MemoryUnitOfWork:
    """The repositories over one copy of the tables."""

    def __init__(self, tables: Tables, commit: Callable[[], None]) -> None:
        # Typed as the ports, not the classes: a Protocol's attributes must match exactly.
        self.jobs: Jobs = MemoryJobs(tables)
        self.runs: Runs = MemoryRuns(tables, commit)
        self.uploads: Uploads = MemoryUploads(tables)
        self.ids: IdCounters = MemoryIdCounters(tables)
        self.provider_states: ProviderStates = MemoryProviderStates(tables)
        self.items: Items = MemoryItems(tables)
        self.settings: MockSettings = MemorySettings(tables)


class MemoryStore:
    """A Store whose units of work are transactions over dicts."""

    backend = "memory"

    def __init__(self) -> None:
        self.committed = Tables()
        self.unavailable = False
        self._writer = threading.Lock()
        self._conflicts_to_raise = 0

    def contents(self) -> Tables:
        """A copy of everything committed: what a test compares to see that nothing was written."""
        return copy.deepcopy(self.committed)

    def fail_next_writes(self, count: int) -> None:
        """The next `count` writing units of work end in Conflict and publish nothing (a lost race)."""
        self._conflicts_to_raise = count

    @contextmanager
    def reading(self) -> Iterator[MemoryUnitOfWork]:
        """A unit of work over a snapshot; it fails the test if anything was written through it."""
        snapshot = copy.deepcopy(self.committed)
        yield MemoryUnitOfWork(snapshot, lambda: None)
        if snapshot != self.committed:
            raise AssertionError("a reading unit of work changed what the store holds")

    @contextmanager
    def writing(self) -> Iterator[MemoryUnitOfWork]:
        """A unit of work over a copy, published when the block ends normally and dropped when it raises."""
        with self._writer:
            working = copy.deepcopy(self.committed)
            yield MemoryUnitOfWork(working, lambda: self._publish(working))
            if self._conflicts_to_raise > 0:
                self._conflicts_to_raise -= 1
                raise Conflict("another transaction got there first (injected by the test)")
            self._publish(working)

    def ping(self) -> None:
        """StoreUnavailable when a test has set `unavailable`."""
        if self.unavailable:
            raise StoreUnavailable("the memory store was switched off by the test")

    def _publish(self, tables: Tables) -> None:
        self.committed = copy.deepcopy(tables)


# mypy checks here that the fake implements the port the services take.
_: Store = MemoryStore()
