"""Jobs, runs, uploads, id counters and provider states.

Revision ID: 0001
Revises:
Created: 2026-11-21

Downgrading drops every table: all jobs, runs and uploads are lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    counters = op.create_table(
        "id_counters",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_id_counters"),
    )
    # The contract's example ids are the first ones a fresh database hands out.
    op.bulk_insert(counters, [{"name": "jobs", "next_value": 123}, {"name": "runs", "next_value": 978}])
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_ts", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_ts", UTC_TIMESTAMP, nullable=False),
        sa.Column("created_ts", UTC_TIMESTAMP, nullable=False),
        sa.Column("user_deleted", sa.Boolean(), nullable=False),
        sa.Column("epx_client_version", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_runs_job_id_jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_job_id", "runs", ["job_id"])
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_ts", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_uploads_job_id_jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_uploads"),
        sa.UniqueConstraint("job_id", "key", name="uq_uploads_job_id_key"),
    )
    op.create_table(
        "provider_states",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("activated_ts", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_provider_states"),
    )


def downgrade() -> None:
    op.drop_table("provider_states")
    op.drop_table("uploads")
    op.drop_index("ix_runs_job_id", table_name="runs")
    op.drop_table("runs")
    op.drop_table("jobs")
    op.drop_table("id_counters")
