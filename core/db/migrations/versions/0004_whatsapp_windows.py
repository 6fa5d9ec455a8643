"""conversation windows (WhatsApp's 24-hour rule)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:02:41.318207
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "conversation_windows",
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("contact", sa.String(length=16), nullable=False),
        sa.Column("last_inbound_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "contact", name=op.f("pk_conversation_windows")),
    )


def downgrade() -> None:

    op.drop_table("conversation_windows")
