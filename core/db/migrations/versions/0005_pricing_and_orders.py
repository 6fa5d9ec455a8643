"""pricing and orders: segment and contract prices, promotion rules, vouchers, zones, locks;
order delivery fee, reservation expiry, partial fulfilment

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 17:42:25.725896
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0005"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contract_prices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("unit_price", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("valid_from", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_prices")),
    )
    with op.batch_alter_table("contract_prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_prices_customer"), ["customer"], unique=False)

    op.create_table(
        "customer_terms",
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=True),
        sa.Column("zone_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("customer", name=op.f("pk_customer_terms")),
    )
    op.create_table(
        "delivery_zones",
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("fee", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("free_from", core.db.types.DecimalAmount(precision=20, scale=4), nullable=True),
        sa.PrimaryKeyConstraint("region", "id", name=op.f("pk_delivery_zones")),
    )
    op.create_table(
        "price_locks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("voucher", sa.String(length=40), nullable=True),
        sa.Column("quote", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_locks")),
    )
    with op.batch_alter_table("price_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_locks_customer"), ["customer"], unique=False)

    op.create_table(
        "promotion_spend",
        sa.Column("promotion_id", sa.String(length=40), nullable=False),
        sa.Column("spent", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", name=op.f("pk_promotion_spend")),
    )
    op.create_table(
        "promotion_uses",
        sa.Column("promotion_id", sa.String(length=40), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", "customer", name=op.f("pk_promotion_uses")),
    )
    op.create_table(
        "segment_prices",
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit_price", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("region", "segment", "sku", name=op.f("pk_segment_prices")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warehouse_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("delivered_quantity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pricing", sa.JSON(), nullable=True))

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "delivery_fee",
                core.db.types.DecimalAmount(precision=20, scale=4),
                server_default="0",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("voucher", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("price_lock_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("reserved_until", core.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("back_order_of", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", core.db.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tax_class", sa.String(length=10), server_default="standard", nullable=False)
        )

    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="percent", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "amount_off", core.db.types.DecimalAmount(precision=20, scale=4), nullable=True
            )
        )
        batch_op.add_column(sa.Column("buy_quantity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("get_quantity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("bundle", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "bundle_price", core.db.types.DecimalAmount(precision=20, scale=4), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "min_order", core.db.types.DecimalAmount(precision=20, scale=4), nullable=True
            )
        )
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("exclusive", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("per_customer_limit", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("budget", core.db.types.DecimalAmount(precision=20, scale=4), nullable=True)
        )
        batch_op.add_column(sa.Column("code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_promotions_code"), ["code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_code"))
        batch_op.drop_column("segments")
        batch_op.drop_column("code")
        batch_op.drop_column("budget")
        batch_op.drop_column("per_customer_limit")
        batch_op.drop_column("exclusive")
        batch_op.drop_column("priority")
        batch_op.drop_column("min_order")
        batch_op.drop_column("bundle_price")
        batch_op.drop_column("bundle")
        batch_op.drop_column("get_quantity")
        batch_op.drop_column("buy_quantity")
        batch_op.drop_column("amount_off")
        batch_op.drop_column("kind")

    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.drop_column("tax_class")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("back_order_of")
        batch_op.drop_column("reserved_until")
        batch_op.drop_column("price_lock_id")
        batch_op.drop_column("voucher")
        batch_op.drop_column("delivery_fee")

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("pricing")
        batch_op.drop_column("delivered_quantity")
        batch_op.drop_column("warehouse_id")

    op.drop_table("segment_prices")
    op.drop_table("promotion_uses")
    op.drop_table("promotion_spend")
    with op.batch_alter_table("price_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_locks_customer"))

    op.drop_table("price_locks")
    op.drop_table("delivery_zones")
    op.drop_table("customer_terms")
    with op.batch_alter_table("contract_prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_prices_customer"))

    op.drop_table("contract_prices")
