"""services: the registry of operators' published conversational services (name, version, the
definition as JSON, the USSD code it answers on, when and by whom it was published)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=True),
        sa.Column("published_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("name", "version"),
    )
    op.create_index("ix_services_service_code", "services", ["service_code"])


def downgrade() -> None:
    op.drop_index("ix_services_service_code", table_name="services")
    op.drop_table("services")
