"""customers.opted_out_by: the provider that blocked messages to her when she opted out
(Twilio's Advanced Opt-Out), None when she opted out only with us (ACHA), so that provider's
opt-in tag on a later YES opts her back in only when it had blocked her

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 07:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opted_out_by", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("opted_out_by")
