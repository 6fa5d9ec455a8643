"""outbox sequences touched: when each aggregate's counter last numbered an event, so the
relay's housekeeping can drop the counters of aggregates long quiet (one row per aggregate
forever otherwise)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # None on the counters already there: quiet since before this release, as far as we know.
    with op.batch_alter_table("outbox_sequences", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("touched_at", core.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_outbox_sequences_touched_at", ["touched_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_sequences", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_sequences_touched_at")
        batch_op.drop_column("touched_at")
