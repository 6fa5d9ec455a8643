"""catalogue, pricing, orders, carts and customers

Revision ID: 0001
Revises:
Create Date: 2026-11-25 08:55:04.539085
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "carts",
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("updated_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer", name=op.f("pk_carts")),
    )
    op.create_table(
        "categories",
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region", "id", name=op.f("pk_categories")),
    )
    op.create_table(
        "customers",
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_customers")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("discount", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("tax", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("total", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("payment_method", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_orders_idempotency_key")),
        sa.UniqueConstraint("reference", name=op.f("uq_orders_reference")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_customer"), ["customer"], unique=False)

    op.create_table(
        "prices",
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit_price", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("region", "sku", name=op.f("pk_prices")),
    )
    op.create_table(
        "products",
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("region", "sku", name=op.f("pk_products")),
    )
    op.create_table(
        "promotions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column(
            "percent_off", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False
        ),
        sa.Column("sku", sa.String(length=40), nullable=True),
        sa.Column("category_id", sa.String(length=40), nullable=True),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("starts_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotions_region"), ["region"], unique=False)

    op.create_table(
        "warehouses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
    )
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warehouses_region"), ["region"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("discount", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_order_lines")),
    )
    op.create_table(
        "stock_levels",
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= on_hand",
            name=op.f("ck_stock_levels_reserved_within_on_hand"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_levels_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("warehouse_id", "sku", name=op.f("pk_stock_levels")),
    )


def downgrade() -> None:

    op.drop_table("stock_levels")
    op.drop_table("order_lines")
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warehouses_region"))

    op.drop_table("warehouses")
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_region"))

    op.drop_table("promotions")
    op.drop_table("products")
    op.drop_table("prices")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_customer"))

    op.drop_table("orders")
    op.drop_table("customers")
    op.drop_table("categories")
    op.drop_table("carts")
