"""task returns_at: when a route is planned to be back at its depot, so it is offered only to a
driver whose shift lasts that long

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 23:58:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gig_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("returns_at", core.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("gig_tasks", schema=None) as batch_op:
        batch_op.drop_column("returns_at")
