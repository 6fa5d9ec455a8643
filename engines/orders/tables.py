"""SQL tables of the orders context. UUIDv7 keys: no hot tablet on YugabyteDB."""

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Uuid

from core.db import DecimalAmount, UTCDateTime, metadata

orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reference", String(12), nullable=False, unique=True),
    Column("customer", String(16), nullable=False, index=True),
    Column("region", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal", DecimalAmount, nullable=False),
    Column("discount", DecimalAmount, nullable=False),
    Column("tax", DecimalAmount, nullable=False),
    Column("total", DecimalAmount, nullable=False),
    Column("payment_method", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    Column("delivery_fee", DecimalAmount, nullable=False, server_default="0"),
    Column("voucher", String(40)),
    Column("price_lock_id", Uuid),
    Column("reserved_until", UTCDateTime),
    Column("back_order_of", Uuid),
    Column("updated_at", UTCDateTime),
    # how many times it left the warehouse: a recalled order dispatched again counts twice
    Column("dispatches", Integer, nullable=False, server_default="0"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", Uuid, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("sku", String(40), nullable=False),
    Column("name", String(80), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", DecimalAmount, nullable=False),
    Column("discount", DecimalAmount, nullable=False),
    Column("warehouse_id", String(40)),
    Column("delivered_quantity", Integer),
    Column("pricing", JSON),
)

carts = Table(
    "carts",
    metadata,
    Column("customer", String(16), primary_key=True),
    Column("region", String(20), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("voucher", String(40)),
)
