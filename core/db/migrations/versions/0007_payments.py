"""payments: intents, applied callbacks, virtual accounts; orders.paid_at

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-02 17:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_intents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("order_reference", sa.String(length=12), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("provider_reference", sa.String(length=120), nullable=True),
        sa.Column("receipt", sa.String(length=120), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("bank_account", sa.String(length=20), nullable=True),
        sa.Column("bank_code", sa.String(length=12), nullable=True),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_intents")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_intents_idempotency_key")),
    )
    with op.batch_alter_table("payment_intents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_intents_customer"), ["customer"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_intents_order_reference"), ["order_reference"], unique=False
        )
        batch_op.create_index("ix_payment_intents_open", ["status", "updated_at"], unique=False)
        batch_op.create_index(
            "ix_payment_intents_provider_reference",
            ["provider", "provider_reference"],
            unique=False,
        )

    op.create_table(
        "payment_callbacks",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("intent_id", sa.Uuid(), nullable=True),
        sa.Column("received_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "event_id", name=op.f("pk_payment_callbacks")),
    )

    op.create_table(
        "virtual_accounts",
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=False),
        sa.Column("account_name", sa.String(length=120), nullable=False),
        sa.Column("bank_name", sa.String(length=120), nullable=False),
        sa.Column("provider_customer", sa.String(length=60), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer", "provider", name=op.f("pk_virtual_accounts")),
        sa.UniqueConstraint(
            "provider", "account_number", name="uq_virtual_accounts_provider_account"
        ),
    )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paid_at", core.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("paid_at")
    op.drop_table("virtual_accounts")
    op.drop_table("payment_callbacks")
    with op.batch_alter_table("payment_intents", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_intents_provider_reference")
        batch_op.drop_index("ix_payment_intents_open")
        batch_op.drop_index(batch_op.f("ix_payment_intents_order_reference"))
        batch_op.drop_index(batch_op.f("ix_payment_intents_customer"))
    op.drop_table("payment_intents")
