"""orders.dispatches: how many times the order left the warehouse (a recalled order dispatched
again counts twice), so that each dispatch's "on its way" text is keyed by the dispatch itself

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dispatches", sa.Integer(), nullable=False, server_default="0")
        )
    # An order that left already left once, as far as anyone knows: its next dispatch (after a
    # recall) is its second.
    op.execute(
        "UPDATE orders SET dispatches = 1 WHERE status IN ('dispatched', 'delivered', 'returned')"
    )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("dispatches")
