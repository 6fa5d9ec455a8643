"""workflow effects (idempotent Temporal activities)

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-02 17:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workflow_effects",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("recorded_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_workflow_effects")),
    )
    with op.batch_alter_table("workflow_effects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_effects_recorded_at"), ["recorded_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("workflow_effects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_effects_recorded_at"))
    op.drop_table("workflow_effects")
