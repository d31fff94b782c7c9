"""What the domain needs from storage, as Protocols: the store implements them over SQL, tests with dicts.

A service opens a unit of work from the `Store` (`reading()` or `writing()`), works through its
repositories, and the unit of work commits when the block ends normally and rolls back when it raises.
Storage errors come out as the domain's `Conflict` (try again) or `StoreUnavailable` (come back later).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .model import Job, Move, Run, Upload

if TYPE_CHECKING:
    # Only for the type: the resources package builds on the domain, not the other way round.
    from ..resources.ports import Items


class IdCounters(Protocol):
    """Gap-free ids per table, taken in the inserting transaction."""

    def take(self, table: str) -> int:
        """The next id; IdsExhausted when none is left."""

    def has_room(self, table: str, count: int) -> bool:
        """Whether `count` more ids fit in a 64-bit column."""

    def reserve(self, table: str, value: int) -> None:
        """An id chosen by a provider state is never handed out again."""


class Jobs(Protocol):
    """The jobs repository."""

    def add(self, job: Job) -> Job:
        """Store a new job."""

    def get(self, job_id: int) -> Job | None:
        """The job, or None."""

    def lock(self, job_id: int) -> Job | None:
        """The job, locked until the unit of work ends (writers on one job queue), or None."""

    def delete(self, job_id: int) -> None:
        """Remove the job with its runs and uploads."""

    def of_user(self, user_id: int, created_from: datetime | None, created_until: datetime | None) -> list[Job]:
        """The user's jobs created in [created_from, created_until), newest first."""


class Runs(Protocol):
    """The runs repository."""

    def submit(
        self, requests: Sequence[dict[str, Any]], user_id: int, client_version: str | None, now: datetime
    ) -> list[Run] | None:
        """One new run per request (each names its job as "jobId"), of `user_id`, committed when this returns.

        None when nothing was written: a named job does not exist or is another user's, or no ids are left;
        the caller finds out which.
        """

    def add(self, run: Run) -> None:
        """Store a run with the id it carries (provider states choose ids)."""

    def get(self, run_id: int) -> Run | None:
        """The run, or None."""

    def latest_of_job(self, job_id: int, limit: int) -> list[Run]:
        """The job's `limit` most recent runs, oldest first."""

    def count_of_job(self, job_id: int) -> int:
        """How many runs the job has."""

    def advance(self, moves: Sequence[Move]) -> None:
        """Store each move made from the status its run was read with, and bring the runs up to date.

        A run another request has moved meanwhile keeps that request's step: it is read back instead.
        """

    def delete(self, run_id: int) -> None:
        """Remove the run."""

    def set_status(self, run_id: int, status: str, since: datetime, user_deleted: bool) -> None:
        """Put the run in `status` from `since` (a stop or a retry: not a step of the lifecycle)."""


class Uploads(Protocol):
    """The uploads repository: bytes stored under (job, key)."""

    def put(self, upload: Upload, data: bytes) -> Upload:
        """Store the bytes under (job, key), replacing an earlier upload as S3 does."""

    def get(self, job_id: int, key: str) -> Upload | None:
        """What is stored under (job, key), without its bytes."""

    def chunk(self, job_id: int, key: str, sha256: str, offset: int, size: int) -> bytes | None:
        """Bytes from offset; None when the upload under (job, key) no longer has this sha256."""

    def bytes_held(self, job_id: int, key: str) -> tuple[int, int]:
        """Bytes of uploads other than (job, key): of that job, and in all."""

    def of_job(self, job_id: int) -> list[Upload]:
        """The job's uploads, by key."""


class ProviderStates(Protocol):
    """Provider states set up by the verifier or a test; every worker process routes by the same ones."""

    def activate(self, name: str, params: dict[str, Any], now: datetime) -> None:
        """Record the state as active with its parameters."""

    def deactivate(self, name: str) -> None:
        """Forget the state."""

    def active(self) -> frozenset[str]:
        """The names of the active states."""


class MockSettings(Protocol):
    """The mock's own settings every worker sees alike (the clock), as JSON objects by name."""

    def get(self, name: str) -> dict[str, Any] | None:
        """The setting's value, or None when it was never set."""

    def put(self, name: str, value: dict[str, Any]) -> None:
        """Set it, replacing what was there."""


class Snapshots(Protocol):
    """The state of a scope (None: everything; "Epistemix"; or a generic provider's name) as plain table rows."""

    def clear(self, scope: str | None) -> None:
        """Every row of the scope gone, id counters back at the contract's first ids."""

    def export(self, scope: str | None) -> dict[str, list[dict[str, Any]]]:
        """Each table's rows, ordered by primary key, as JSON values."""

    def restore(self, tables: Any, scope: str | None) -> int:
        """Replace the scope's rows with these after checking them (Invalid says where); the rows restored."""


class UnitOfWork(Protocol):
    """One transaction and the repositories that work in it."""

    @property
    def jobs(self) -> Jobs:
        """Jobs, in this transaction."""

    @property
    def runs(self) -> Runs:
        """Runs, in this transaction."""

    @property
    def uploads(self) -> Uploads:
        """Uploads, in this transaction."""

    @property
    def ids(self) -> IdCounters:
        """Id counters, in this transaction."""

    @property
    def provider_states(self) -> ProviderStates:
        """Provider states, in this transaction."""

    @property
    def settings(self) -> MockSettings:
        """The mock's own settings, in this transaction."""

    @property
    def snapshots(self) -> Snapshots:
        """The state as table rows, in this transaction (reset, export, import)."""

    @property
    def items(self) -> Items:
        """Generic items (app/resources/ports.py), in this transaction."""


class Store(Protocol):
    """Opens units of work; the one way the domain reaches storage."""

    @property
    def backend(self) -> str:
        """Which database holds the data (sqlite, postgresql; memory in tests)."""

    def reading(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that only reads."""

    def writing(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that writes (on SQLite it takes the write lock at once, so writers queue)."""

    def ping(self) -> None:
        """Raise StoreUnavailable when storage cannot be reached."""
