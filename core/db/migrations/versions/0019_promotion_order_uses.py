"""promotion order uses: what each order took from each promotion (a customer's use, a share of
the budget), so a cancelled order gives it back once and the retailer can use the code again

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "promotion_order_uses",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("promotion_id", sa.String(length=40), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("amount", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("returned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "promotion_id", name=op.f("pk_promotion_order_uses")),
    )


def downgrade() -> None:
    op.drop_table("promotion_order_uses")
