"""Repositories for ids, jobs, uploads and provider states: the only code that builds their queries.

Each implements a port of domain/ports.py and hands back domain values, never rows. Every value travels
as a bound parameter. Runs have their own module (runs.py): theirs is the hot write path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..domain.errors import IdsExhausted
from ..domain.model import MAX_ID, Job, Upload
from .tables import IdCounter, JobRow, MockSettingRow, ProviderStateRow, RunRow, UploadRow


class SqlIdCounters:
    """Ids come from a counter row updated in the inserting transaction.

    The row lock serialises concurrent inserts, and a rolled-back insert rolls back its id too,
    so ids are gap-free (a database sequence would skip the ids of failed transactions).
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def take(self, table: str) -> int:
        """The next id of `table`; IdsExhausted when the next one would not fit."""
        statement = (
            update(IdCounter)
            .where(IdCounter.name == table)
            .values(next_value=IdCounter.next_value + 1)
            .returning(IdCounter.next_value)
        )
        taken = self.session.execute(statement.where(IdCounter.next_value < MAX_ID)).scalar_one_or_none()
        if taken is None:
            raise IdsExhausted(f"no {table} ids are left: the next one would not fit in a 64-bit column")
        return int(taken) - 1

    def has_room(self, table: str, count: int) -> bool:
        """Whether `count` more ids fit in a 64-bit column."""
        next_value = self.session.execute(select(IdCounter.next_value).where(IdCounter.name == table)).scalar_one()
        return bool(next_value <= MAX_ID - count)

    def reserve(self, table: str, value: int) -> None:
        """An id chosen by a provider state is never handed out again."""
        self.session.execute(
            update(IdCounter).where(IdCounter.name == table, IdCounter.next_value <= value).values(next_value=value + 1)
        )


def _job(row: JobRow) -> Job:
    return Job(row.id, row.user_id, row.tags, row.created_ts)


class SqlJobs:
    """Jobs in the `jobs` table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, job: Job) -> Job:
        """Insert the job (flushed at once, so a duplicate id raises here)."""
        self.session.add(JobRow(id=job.id, user_id=job.user_id, tags=job.tags, created_ts=job.created_ts))
        self.session.flush()
        return job

    def get(self, job_id: int) -> Job | None:
        """The job, or None."""
        row = self.session.get(JobRow, job_id)
        return None if row is None else _job(row)

    def lock(self, job_id: int) -> Job | None:
        """The job, its row locked to the end of the transaction, or None."""
        row = self.session.execute(select(JobRow).where(JobRow.id == job_id).with_for_update()).scalar_one_or_none()
        return None if row is None else _job(row)

    def delete(self, job_id: int) -> None:
        """Remove the job, its runs and its uploads."""
        # Runs and uploads go with their job; deleted explicitly so SQLite without cascades agrees.
        self.session.execute(delete(UploadRow).where(UploadRow.job_id == job_id))
        self.session.execute(delete(RunRow).where(RunRow.job_id == job_id))
        self.session.execute(delete(JobRow).where(JobRow.id == job_id))

    def of_user(self, user_id: int, created_from: datetime | None, created_until: datetime | None) -> list[Job]:
        """The user's jobs created in [created_from, created_until), newest first (ix_jobs_user_id_created_ts)."""
        query = select(JobRow).where(JobRow.user_id == user_id)
        if created_from is not None:
            query = query.where(JobRow.created_ts >= created_from)
        if created_until is not None:
            query = query.where(JobRow.created_ts < created_until)
        rows = self.session.execute(query.order_by(JobRow.created_ts.desc(), JobRow.id.desc())).scalars()
        return [_job(row) for row in rows]


# The columns of an upload other than its bytes, in the order of domain.model.Upload.
UPLOAD_FACTS = (
    UploadRow.job_id,
    UploadRow.key,
    UploadRow.content_type,
    UploadRow.size,
    UploadRow.sha256,
    UploadRow.uploaded_ts,
)


class SqlUploads:
    """Uploads in the `uploads` table; the bytes are read back a chunk at a time, in the database."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, upload: Upload, data: bytes) -> Upload:
        """Store the bytes under (job, key), replacing an earlier upload as S3 does."""
        values = {
            "content_type": upload.content_type,
            "size": upload.size,
            "sha256": upload.sha256,
            "data": data,
            "uploaded_ts": upload.uploaded_ts,
        }
        existing = self.session.execute(
            select(UploadRow).where(UploadRow.job_id == upload.job_id, UploadRow.key == upload.key)
        ).scalar_one_or_none()
        if existing is None:
            self.session.add(UploadRow(job_id=upload.job_id, key=upload.key, **values))
        else:
            for name, value in values.items():
                setattr(existing, name, value)
        self.session.flush()
        return upload

    def get(self, job_id: int, key: str) -> Upload | None:
        """What is stored under (job, key), without its bytes."""
        row = self.session.execute(
            select(*UPLOAD_FACTS).where(UploadRow.job_id == job_id, UploadRow.key == key)
        ).one_or_none()
        return None if row is None else Upload(*row)

    def chunk(self, job_id: int, key: str, sha256: str, offset: int, size: int) -> bytes | None:
        """Part of the bytes, read in the database: a large upload is never held whole to be sent."""
        found = self.session.execute(
            select(func.substr(UploadRow.data, offset + 1, size)).where(
                UploadRow.job_id == job_id, UploadRow.key == key, UploadRow.sha256 == sha256
            )
        ).scalar_one_or_none()
        return None if found is None else bytes(found)

    def bytes_held(self, job_id: int, key: str) -> tuple[int, int]:
        """Bytes of uploads other than (job, key): of that job, and in all."""
        other = ~((UploadRow.job_id == job_id) & (UploadRow.key == key))
        job_bytes, total = self.session.execute(
            select(
                func.coalesce(func.sum(UploadRow.size).filter(UploadRow.job_id == job_id), 0),
                func.coalesce(func.sum(UploadRow.size), 0),
            ).where(other)
        ).one()
        return int(job_bytes), int(total)

    def of_job(self, job_id: int) -> list[Upload]:
        """The job's uploads, by key."""
        rows = self.session.execute(select(*UPLOAD_FACTS).where(UploadRow.job_id == job_id).order_by(UploadRow.key))
        return [Upload(*row) for row in rows]


class SqlProviderStates:
    """Active provider states in the `provider_states` table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def activate(self, name: str, params: dict[str, Any], now: datetime) -> None:
        """Record the state as active (again) with these parameters."""
        row = self.session.get(ProviderStateRow, name)
        if row is None:
            self.session.add(ProviderStateRow(name=name, params=params, activated_ts=now))
        else:
            row.params = params
            row.activated_ts = now

    def deactivate(self, name: str) -> None:
        """Forget the state."""
        self.session.execute(delete(ProviderStateRow).where(ProviderStateRow.name == name))

    def active(self) -> frozenset[str]:
        """The names of the active states."""
        return frozenset(self.session.execute(select(ProviderStateRow.name)).scalars())


class SqlMockSettings:
    """The mock's own settings in the `mock_settings` table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, name: str) -> dict[str, Any] | None:
        """The setting's value, or None when it was never set."""
        row = self.session.get(MockSettingRow, name)
        return dict(row.value) if row is not None else None

    def put(self, name: str, value: dict[str, Any]) -> None:
        """Set it (replacing what was there)."""
        self.session.merge(MockSettingRow(name=name, value=value))
