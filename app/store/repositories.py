"""Repositories: the only code that builds queries. Every value travels as a bound parameter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .models import IdCounter, JobRow, ProviderStateRow, RunRow, UploadRow

MAX_ID = 2**63 - 1


class IdsExhausted(RuntimeError):
    """Every id a 64-bit column can hold has been handed out (reachable only through provider states)."""


class IdAllocator:
    """Ids come from a counter row updated in the inserting transaction.

    The row lock serialises concurrent inserts, and a rolled-back insert rolls back its id too,
    so ids are gap-free (a database sequence would skip the ids of failed transactions).
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def take(self, table: str) -> int:
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


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, job_id: int, user_id: int, tags: list[Any], now: datetime) -> JobRow:
        job = JobRow(id=job_id, user_id=user_id, tags=tags, created_ts=now)
        self.session.add(job)
        self.session.flush()
        return job

    def get(self, job_id: int) -> JobRow | None:
        return self.session.get(JobRow, job_id)

    def get_for_update(self, job_id: int) -> JobRow | None:
        return self.session.execute(select(JobRow).where(JobRow.id == job_id).with_for_update()).scalar_one_or_none()

    def delete(self, job_id: int) -> None:
        # Runs and uploads go with their job; deleted explicitly so SQLite without cascades agrees.
        self.session.execute(delete(UploadRow).where(UploadRow.job_id == job_id))
        self.session.execute(delete(RunRow).where(RunRow.job_id == job_id))
        self.session.execute(delete(JobRow).where(JobRow.id == job_id))


@dataclass(frozen=True)
class UploadFacts:
    size: int
    sha256: str
    content_type: str | None


class UploadRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, upload: UploadRow) -> UploadRow:
        """Store the bytes under (job, key), replacing an earlier upload as S3 does."""
        existing = self.get(upload.job_id, upload.key)
        if existing is None:
            self.session.add(upload)
            self.session.flush()
            return upload
        existing.content_type = upload.content_type
        existing.size = upload.size
        existing.sha256 = upload.sha256
        existing.data = upload.data
        existing.uploaded_ts = upload.uploaded_ts
        self.session.flush()
        return existing

    def get(self, job_id: int, key: str) -> UploadRow | None:
        return self.session.execute(
            select(UploadRow).where(UploadRow.job_id == job_id, UploadRow.key == key)
        ).scalar_one_or_none()

    def facts(self, job_id: int, key: str) -> UploadFacts | None:
        row = self.session.execute(
            select(UploadRow.size, UploadRow.sha256, UploadRow.content_type).where(
                UploadRow.job_id == job_id, UploadRow.key == key
            )
        ).one_or_none()
        return None if row is None else UploadFacts(*row)

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

    def for_job(self, job_id: int) -> Sequence[UploadRow]:
        return (
            self.session.execute(select(UploadRow).where(UploadRow.job_id == job_id).order_by(UploadRow.key))
            .scalars()
            .all()
        )


class ProviderStateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def activate(self, name: str, params: dict[str, Any], now: datetime) -> None:
        row = self.session.get(ProviderStateRow, name)
        if row is None:
            self.session.add(ProviderStateRow(name=name, params=params, activated_ts=now))
        else:
            row.params = params
            row.activated_ts = now

    def deactivate(self, name: str) -> None:
        self.session.execute(delete(ProviderStateRow).where(ProviderStateRow.name == name))

    def active(self) -> frozenset[str]:
        return frozenset(self.session.execute(select(ProviderStateRow.name)).scalars())
