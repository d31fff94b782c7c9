"""The tables behind jobs, runs, uploads and generic items. Alembic's migrations/ build them; nothing calls create_all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..domain.model import CLIENT_VERSION_LENGTH, CONTENT_TYPE_LENGTH, STATE_NAME_LENGTH
from .types import UtcDateTime

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table, with the naming convention above."""

    metadata = MetaData(naming_convention=NAMING)


class IdCounter(Base):
    """The next id per table. Taken under a row lock in the inserting transaction, so ids have no gaps."""

    __tablename__ = "id_counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


class JobRow(Base):
    """A job (domain.model.Job)."""

    __tablename__ = "jobs"
    # A user's jobs by creation time: the listings /jobs/me and /jobs?latest=true.
    __table_args__ = (Index("ix_jobs_user_id_created_ts", "user_id", "created_ts"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger)
    tags: Mapped[list[Any]] = mapped_column(JSON)
    created_ts: Mapped[datetime] = mapped_column(UtcDateTime)


class RunRow(Base):
    """A run (domain.model.Run)."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    # When the run entered `status`; the lifecycle advances from here.
    status_ts: Mapped[datetime] = mapped_column(UtcDateTime)
    created_ts: Mapped[datetime] = mapped_column(UtcDateTime)
    user_deleted: Mapped[bool] = mapped_column(default=False)
    epx_client_version: Mapped[str | None] = mapped_column(String(CLIENT_VERSION_LENGTH))


class UploadRow(Base):
    """An upload's facts and bytes (domain.model.Upload)."""

    __tablename__ = "uploads"
    __table_args__ = (UniqueConstraint("job_id", "key", name="uq_uploads_job_id_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(CONTENT_TYPE_LENGTH))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_ts: Mapped[datetime] = mapped_column(UtcDateTime)


class ProviderStateRow(Base):
    """Provider states the verifier has set up; kept in the database so every worker process sees them."""

    __tablename__ = "provider_states"
    name: Mapped[str] = mapped_column(String(STATE_NAME_LENGTH), primary_key=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    activated_ts: Mapped[datetime] = mapped_column(UtcDateTime)


# Items' documents: JSONB on PostgreSQL, so filters compare typed JSON values in the database.
DOCUMENT = JSON().with_variant(JSONB(), "postgresql")
# Where PostgreSQL takes an item's creation order from: no lock is held between concurrent creations.
# SQLite has one writer at a time, so an item there takes the largest order in its collection plus one.
ITEM_ORDER = Sequence("items_seq", metadata=Base.metadata)


class ItemRow(Base):
    """One item of a generic provider (app.resources.ports.Item): a JSON document and its version."""

    __tablename__ = "items"
    # A collection's items oldest first: lists and claims.
    __table_args__ = (Index("ix_items_provider_collection_seq", "provider", "collection", "seq"),)
    provider: Mapped[str] = mapped_column(String(200), primary_key=True)
    collection: Mapped[str] = mapped_column(String(100), primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(DOCUMENT)
    version: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)


class ItemCounterRow(Base):
    """A collection's next id number, taken under the row's lock in the creating transaction (gap-free).

    The row of the reserved collection STARTED_MARKER says the provider's start fixtures are loaded.
    """

    __tablename__ = "item_counters"
    provider: Mapped[str] = mapped_column(String(200), primary_key=True)
    collection: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


# No collection has an empty name, so this one is free to mark a provider as started.
STARTED_MARKER = ""


class MockSettingRow(Base):
    """A setting of the mock itself that every worker must see alike (the clock, say): a JSON value by name."""

    __tablename__ = "mock_settings"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
