"""settlement claims: one settlement run of a distributor at a time (the command line and the
nightly job settling two days of one distributor at once could both take the same carried
shortfall)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settlement_claims",
        sa.Column("distributor", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.Uuid(), nullable=False),
        sa.Column("claimed_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("distributor"),
    )


def downgrade() -> None:
    op.drop_table("settlement_claims")
