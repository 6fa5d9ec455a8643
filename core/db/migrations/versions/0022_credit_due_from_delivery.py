"""credit orders fall due their term after delivery: term_days kept, due_on empty until delivered

Existing credits get their term back (the due date less the order's local day) and their due
date from the day their order was delivered (its last status change), or none while it is not.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 02:20:00.000000
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The region's time zone by the phone's country code, as core.region has them today (a migration
# keeps the rule it was written with).
TIMEZONES = {"+234": "Africa/Lagos", "+254": "Africa/Nairobi", "+27": "Africa/Johannesburg"}

credit_orders = sa.table(
    "credit_orders",
    sa.column("order_reference", sa.String),
    sa.column("customer", sa.String),
    sa.column("due_on", sa.Date),
    sa.column("term_days", sa.Integer),
    sa.column("created_at", sa.DateTime),
)
orders = sa.table(
    "orders",
    sa.column("reference", sa.String),
    sa.column("status", sa.String),
    sa.column("updated_at", sa.DateTime),
)


def _local_day(at: datetime | str, customer: str) -> date:
    if isinstance(at, str):  # SQLite hands back text
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo("UTC"))
    zone = next((z for prefix, z in TIMEZONES.items() if customer.startswith(prefix)), "UTC")
    return at.astimezone(ZoneInfo(zone)).date()


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def upgrade() -> None:
    with op.batch_alter_table("credit_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("term_days", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.alter_column("due_on", existing_type=sa.Date(), nullable=True)

    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            credit_orders.c.order_reference,
            credit_orders.c.customer,
            credit_orders.c.due_on,
            credit_orders.c.created_at,
            orders.c.status,
            orders.c.updated_at,
        ).select_from(
            credit_orders.outerjoin(orders, orders.c.reference == credit_orders.c.order_reference)
        )
    ).all()
    for row in rows:
        term = (_day(row.due_on) - _local_day(row.created_at, row.customer)).days
        due = None
        if row.status == "delivered" and row.updated_at is not None:
            due = _local_day(row.updated_at, row.customer) + timedelta(days=term)
        bind.execute(
            sa.update(credit_orders)
            .where(credit_orders.c.order_reference == row.order_reference)
            .values(term_days=term, due_on=due)
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            credit_orders.c.order_reference,
            credit_orders.c.customer,
            credit_orders.c.term_days,
            credit_orders.c.created_at,
        ).where(credit_orders.c.due_on.is_(None))
    ).all()
    for row in rows:  # the old rule: the order's day plus the term
        due = _local_day(row.created_at, row.customer) + timedelta(days=row.term_days)
        bind.execute(
            sa.update(credit_orders)
            .where(credit_orders.c.order_reference == row.order_reference)
            .values(due_on=due)
        )
    with op.batch_alter_table("credit_orders", schema=None) as batch_op:
        batch_op.alter_column("due_on", existing_type=sa.Date(), nullable=False)
        batch_op.drop_column("term_days")
