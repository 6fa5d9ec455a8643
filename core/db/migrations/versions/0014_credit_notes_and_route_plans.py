"""credit notes; stored route plans with a status per stop

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 20:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _money(name: str) -> sa.Column[object]:
    return sa.Column(name, core.db.types.DecimalAmount(precision=20, scale=4), nullable=False)


def upgrade() -> None:
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("invoice_number", sa.String(length=24), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("order_reference", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        _money("subtotal"),
        _money("discount"),
        _money("tax"),
        _money("total"),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("vat", sa.JSON(), nullable=False),
        sa.Column("issued_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number", name=op.f("uq_credit_notes_number")),
        sa.UniqueConstraint("order_reference", "reason", name="uq_credit_notes_order_reason"),
    )
    op.create_index("ix_credit_notes_customer", "credit_notes", ["customer"])
    op.create_index("ix_credit_notes_invoice_number", "credit_notes", ["invoice_number"])
    op.create_table(
        "route_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("region", "day", "revision", name="uq_route_plans_revision"),
    )
    op.create_table(
        "route_plan_stops",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("order_reference", sa.String(length=12), nullable=False),
        sa.Column("route_id", sa.String(length=40), nullable=True),
        sa.Column("task_reference", sa.String(length=12), nullable=True),
        sa.Column("vehicle_id", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["route_plans.id"]),
        sa.PrimaryKeyConstraint("plan_id", "order_reference"),
    )


def downgrade() -> None:
    op.drop_table("route_plan_stops")
    op.drop_table("route_plans")
    op.drop_index("ix_credit_notes_invoice_number", table_name="credit_notes")
    op.drop_index("ix_credit_notes_customer", table_name="credit_notes")
    op.drop_table("credit_notes")
