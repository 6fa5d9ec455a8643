"""price_locks.reusable: true for a lock a reusing quote made (the GraphQL quote), which the
same quote asked again may be handed; a checkout's lock is never handed to anyone else, so an
order placed with it cannot leave another screen holding a used lock

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("price_locks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reusable", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("price_locks", schema=None) as batch_op:
        batch_op.drop_column("reusable")
