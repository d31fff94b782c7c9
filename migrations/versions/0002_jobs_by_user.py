"""An index on a user's jobs by creation time, for the job listings (/jobs/me, /jobs?latest=true).

Revision ID: 0002
Revises: 0001
Created: 2026-11-30

Downgrading drops the index only: no data is lost.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_user_id_created_ts", "jobs", ["user_id", "created_ts"])


def downgrade() -> None:
    op.drop_index("ix_jobs_user_id_created_ts", table_name="jobs")
