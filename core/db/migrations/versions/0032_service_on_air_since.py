"""service_claims.on_air_since: when the service was last put on the air (its first publish, or
a publish after it was retired), so that each time it goes live its operator is texted once

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 10:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_claims", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_air_since", core.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    # A service on the air now went on it with its newest version, as far as anyone knows.
    op.execute(
        "UPDATE service_claims SET on_air_since = (SELECT max(published_at) FROM services "
        "WHERE services.name = service_claims.name) WHERE retired_at IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("service_claims", schema=None) as batch_op:
        batch_op.drop_column("on_air_since")
