"""SQL tables of the warehouse context (locations and stock per bin; picks)."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Uuid,
)

from core.db import UTCDateTime, metadata

wms_layouts = Table(
    "wms_layouts",
    metadata,
    Column("warehouse_id", String(40), ForeignKey("warehouses.id"), primary_key=True),
    Column("depth", Float, nullable=False),
    Column("dock_x", Float, nullable=False),
)

wms_zones = Table(
    "wms_zones",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("warehouse_id", String(40), ForeignKey("warehouses.id"), nullable=False, index=True),
    Column("name", String(80), nullable=False),
)

wms_locations = Table(
    "wms_locations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("warehouse_id", String(40), ForeignKey("warehouses.id"), nullable=False, index=True),
    Column("zone_id", String(40), ForeignKey("wms_zones.id"), nullable=False),
    Column("aisle", Integer, nullable=False),
    Column("bay", Integer, nullable=False),
    Column("level", Integer, nullable=False),
    Column("bin", Integer, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("capacity", Integer, nullable=False),
)

wms_stock = Table(
    "wms_stock",
    metadata,
    Column("location_id", String(40), ForeignKey("wms_locations.id"), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity >= 0", name="quantity_not_negative"),
)

wms_pick_lists = Table(
    "wms_pick_lists",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("warehouse_id", String(40), ForeignKey("warehouses.id"), nullable=False),
    Column("order_reference", String(12), nullable=False, unique=True),
    Column("wave", String(40), nullable=True),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

wms_pick_lines = Table(
    "wms_pick_lines",
    metadata,
    Column("pick_list_id", Uuid, ForeignKey("wms_pick_lists.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("location_id", String(40), ForeignKey("wms_locations.id"), nullable=False),
    Column("sku", String(40), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("picked", Integer, nullable=False),
    CheckConstraint("picked >= 0 AND picked <= quantity", name="picked_within_quantity"),
)
