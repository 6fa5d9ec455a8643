"""SQL tables of the pricing context."""

from sqlalchemy import JSON, Column, Integer, String, Table

from core.db import DecimalAmount, UTCDateTime, metadata

prices = Table(
    "prices",
    metadata,
    Column("region", String(20), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("unit_price", DecimalAmount, nullable=False),
    Column("tiers", JSON, nullable=False, default=list),
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
)
