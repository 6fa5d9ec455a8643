"""dispatch requests: orders their workflow released to the warehouse, routes and drivers

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatch_requests",
        sa.Column("order_reference", sa.String(length=12), nullable=False),
        sa.Column("step", sa.String(length=10), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("requested_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_reference", "step", name=op.f("pk_dispatch_requests")),
    )
    with op.batch_alter_table("dispatch_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_requests_region"), ["region"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dispatch_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatch_requests_region"))
    op.drop_table("dispatch_requests")
