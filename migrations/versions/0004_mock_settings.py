"""The mock's own settings every worker must see alike (the clock): a JSON value by name.

Revision ID: 0004
Revises: 0003
Created: 2026-11-30

Downgrading drops the table: a frozen or moved clock goes back to the system's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mock_settings",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_mock_settings")),
    )


def downgrade() -> None:
    op.drop_table("mock_settings")
