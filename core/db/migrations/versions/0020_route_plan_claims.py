"""route plan claims: one planning run of a region at a time (two at once crashed, or routed
one order twice)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 23:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "route_plan_claims",
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("holder", sa.Uuid(), nullable=False),
        sa.Column("claimed_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region"),
    )


def downgrade() -> None:
    op.drop_table("route_plan_claims")
