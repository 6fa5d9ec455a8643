"""SQL tables of the pricing context."""

from sqlalchemy import JSON, Boolean, Column, Integer, String, Table, Uuid, false, true

from core.db import DecimalAmount, UTCDateTime, metadata

prices = Table(
    "prices",
    metadata,
    Column("region", String(20), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("unit_price", DecimalAmount, nullable=False),
    Column("tiers", JSON, nullable=False, default=list),
    Column("tax_class", String(10), nullable=False, server_default="standard"),
)

promotions = Table(
    "promotions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("region", String(20), nullable=False, index=True),
    Column("names", JSON, nullable=False),
    Column("percent_off", DecimalAmount, nullable=False),
    Column("sku", String(40)),
    Column("category_id", String(40)),
    Column("min_quantity", Integer, nullable=False, default=1),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("kind", String(20), nullable=False, server_default="percent"),
    Column("amount_off", DecimalAmount),
    Column("buy_quantity", Integer),
    Column("get_quantity", Integer),
    Column("bundle", JSON),
    Column("bundle_price", DecimalAmount),
    Column("min_order", DecimalAmount),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("exclusive", Boolean, nullable=False, server_default=true()),
    Column("per_customer_limit", Integer),
    Column("budget", DecimalAmount),
    Column("code", String(40), index=True),
    Column("segments", JSON),
)

segment_prices = Table(
    "segment_prices",
    metadata,
    Column("region", String(20), primary_key=True),
    Column("segment", String(40), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("unit_price", DecimalAmount, nullable=False),
    Column("tiers", JSON, nullable=False, default=list),
)

contract_prices = Table(
    "contract_prices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("region", String(20), nullable=False),
    Column("customer", String(16), nullable=False, index=True),
    Column("sku", String(40), nullable=False),
    Column("unit_price", DecimalAmount, nullable=False),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, nullable=False),
)

delivery_zones = Table(
    "delivery_zones",
    metadata,
    Column("region", String(20), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("names", JSON, nullable=False),
    Column("fee", DecimalAmount, nullable=False),
    Column("free_from", DecimalAmount),
)

# Pricing's view of a customer: the segment price list and the delivery zone they get.
customer_terms = Table(
    "customer_terms",
    metadata,
    Column("customer", String(16), primary_key=True),
    Column("segment", String(40)),
    Column("zone_id", String(40)),
)

# How often each customer used a promotion (per-customer limits); one row per pair.
promotion_uses = Table(
    "promotion_uses",
    metadata,
    Column("promotion_id", String(40), primary_key=True),
    Column("customer", String(16), primary_key=True),
    Column("uses", Integer, nullable=False),
)

# What a promotion has given away so far (budgets); updated conditionally, never over budget.
promotion_spend = Table(
    "promotion_spend",
    metadata,
    Column("promotion_id", String(40), primary_key=True),
    Column("spent", DecimalAmount, nullable=False),
)

# What each order took from each promotion: a cancelled order gives it back, once (`returned`).
promotion_order_uses = Table(
    "promotion_order_uses",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("promotion_id", String(40), primary_key=True),
    Column("customer", String(16), nullable=False),
    Column("amount", DecimalAmount, nullable=False),
    Column("returned", Boolean, nullable=False, default=False),
)

price_locks = Table(
    "price_locks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer", String(16), nullable=False, index=True),
    Column("region", String(20), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("voucher", String(40)),
    Column("quote", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("order_id", Uuid),  # the one order placed at this price
    # Made by a reusing quote (GraphQL), so the same quote asked again may be handed it; a
    # checkout's lock is its own.
    Column("reusable", Boolean, nullable=False, server_default=false()),
)
