"""Generic items (issue 16): JSON documents of every generic provider, their id counters and creation order.

Revision ID: 0003
Revises: 0002
Created: 2026-11-30

Downgrading drops the items, their counters and (on PostgreSQL) the sequence of their creation order:
every generic provider's state is lost; jobs, runs and uploads are kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DOCUMENT = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("items_seq")))
    op.create_table(
        "items",
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("collection", sa.String(100), nullable=False),
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("document", DOCUMENT, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "collection", "id", name="pk_items"),
    )
    op.create_index("ix_items_provider_collection_seq", "items", ["provider", "collection", "seq"])
    op.create_table(
        "item_counters",
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("collection", sa.String(100), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "collection", name="pk_item_counters"),
    )


def downgrade() -> None:
    op.drop_table("item_counters")
    op.drop_index("ix_items_provider_collection_seq", table_name="items")
    op.drop_table("items")
    if op.get_context().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("items_seq")))
