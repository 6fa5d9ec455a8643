"""settlement refunds: a day's batch nets out the refunds given back and carries what it owes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("settlement_batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refunds", core.db.types.DecimalAmount(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("carried", core.db.types.DecimalAmount(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("settlement_batches", schema=None) as batch_op:
        batch_op.drop_column("carried")
        batch_op.drop_column("refunds")
