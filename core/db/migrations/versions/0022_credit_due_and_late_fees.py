"""credit orders fall due their term after delivery; late fees charged before fees were owed on
the credit are brought into what it owes

Existing credits get their term back (the due date less the order's local day) and their due
date from the day their order was delivered (its last status change), or none while it is not.

A late fee is now part of what its credit owes (`late_fee_owed`, paid before the principal).
Fees charged before that (the code of the first late fees) were booked on the receivable only:
the credit did not owe them, so BAL and repayments never reached them. They are told apart by
the SMS every later fee sends in the same transaction (`credit-late_fee:<order>`): a charged fee
without it is brought into what its credit owes, once (the ledger's late-fee transfer gives the
amount; a credit repaid meanwhile is open again for it). A cancelled credit's fee is left as it
is (nothing was owed on the order).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 02:20:00.000000
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import core.db.types

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
    sa.column("amount", core.db.types.DecimalAmount),
    sa.column("outstanding", core.db.types.DecimalAmount),
    sa.column("status", sa.String),
    sa.column("late_fee_charged", sa.Boolean),
    sa.column("late_fee_owed", core.db.types.DecimalAmount),
    sa.column("repaid_on", sa.Date),
)
deliveries = sa.table("deliveries", sa.column("dedupe_key", sa.String))
ledger_transfers = sa.table(
    "ledger_transfers",
    sa.column("code", sa.String),
    sa.column("reference", sa.String),
    sa.column("amount", core.db.types.DecimalAmount),
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
        batch_op.add_column(
            sa.Column(
                "late_fee_owed",
                core.db.types.DecimalAmount(),
                nullable=False,
                server_default="0",
            )
        )
    _due_from_delivery()
    _late_fees_owed()


def _due_from_delivery() -> None:
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


def _late_fees_owed() -> None:
    bind = op.get_bind()
    charged = bind.execute(
        sa.select(
            credit_orders.c.order_reference,
            credit_orders.c.amount,
            credit_orders.c.outstanding,
            credit_orders.c.status,
        ).where(credit_orders.c.late_fee_charged.is_(True))
    ).all()
    for row in charged:
        texted = bind.execute(
            sa.select(deliveries.c.dedupe_key).where(
                deliveries.c.dedupe_key == f"credit-late_fee:{row.order_reference}"
            )
        ).first()
        values: dict[str, object]
        if texted is not None:  # owed on the credit already: the fee is what is beyond the rest
            if row.status != "open":
                continue
            values = {"late_fee_owed": max(row.outstanding - row.amount, Decimal(0))}
        elif row.status == "cancelled":
            continue
        else:
            fees = bind.execute(
                sa.select(ledger_transfers.c.amount).where(
                    ledger_transfers.c.code == "late_fee",
                    ledger_transfers.c.reference == row.order_reference,
                )
            ).all()
            fee = sum((f.amount for f in fees), Decimal(0))
            if fee <= 0:
                continue
            values = {
                "late_fee_owed": fee,
                "outstanding": row.outstanding + fee,
                "status": "open",
                "repaid_on": None,
            }
        bind.execute(
            sa.update(credit_orders)
            .where(credit_orders.c.order_reference == row.order_reference)
            .values(**values)
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
        batch_op.drop_column("late_fee_owed")
