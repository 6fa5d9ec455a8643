"""payout bank accounts (gig workers, ATC agents) and payout orders

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gig_workers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_code", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("bank_account", sa.String(length=20), nullable=True))
    op.create_table(
        "atc_agents",
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("bank_code", sa.String(length=12), nullable=True),
        sa.Column("bank_account", sa.String(length=20), nullable=True),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_atc_agents")),
    )
    op.create_index(op.f("ix_atc_agents_region"), "atc_agents", ["region"], unique=False)
    op.create_table(
        "payout_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("person", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_orders")),
        sa.UniqueConstraint("source", name=op.f("uq_payout_orders_source")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_payout_orders_intent_id")),
    )
    op.create_index(op.f("ix_payout_orders_person"), "payout_orders", ["person"], unique=False)
    op.create_index(
        op.f("ix_payout_orders_status"),
        "payout_orders",
        ["status", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payout_orders_status"), table_name="payout_orders")
    op.drop_index(op.f("ix_payout_orders_person"), table_name="payout_orders")
    op.drop_table("payout_orders")
    op.drop_index(op.f("ix_atc_agents_region"), table_name="atc_agents")
    op.drop_table("atc_agents")
    with op.batch_alter_table("gig_workers", schema=None) as batch_op:
        batch_op.drop_column("bank_account")
        batch_op.drop_column("bank_code")
