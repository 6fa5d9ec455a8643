"""SQL tables of the catalogue context."""

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
)

from core.db import metadata

categories = Table(
    "categories",
    metadata,
    Column("region", String(20), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("names", JSON, nullable=False),
    Column("position", Integer, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("region", String(20), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("category_id", String(40), nullable=False),
    Column("name", String(80), nullable=False),
    Column("unit", String(20), nullable=False),
)

# Other words retailers use for a product, per language ("mchele" for Long Grain Rice 25kg):
# a product's name is in one language only, and typed orders are matched against both.
product_aliases = Table(
    "product_aliases",
    metadata,
    Column("region", String(20), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("locale", String(10), primary_key=True),
    Column("alias", String(80), primary_key=True),
    # a product taken out of the catalogue takes its aliases with it
    ForeignKeyConstraint(
        ["region", "sku"], ["products.region", "products.sku"], ondelete="CASCADE"
    ),
)

warehouses = Table(
    "warehouses",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("region", String(20), nullable=False, index=True),
    Column("name", String(80), nullable=False),
    # where it stands: the day's delivery routes start and end there
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
)

stock_levels = Table(
    "stock_levels",
    metadata,
    Column("warehouse_id", String(40), ForeignKey("warehouses.id"), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, default=0),
    CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
)
