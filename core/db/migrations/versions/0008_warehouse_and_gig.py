"""warehouse (bins, stock per bin, pick lists) and gig platform (workers, tasks, offers, pay)

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wms_layouts",
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("depth", sa.Float(), nullable=False),
        sa.Column("dock_x", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_wms_layouts_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("warehouse_id", name=op.f("pk_wms_layouts")),
    )
    op.create_table(
        "wms_zones",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_wms_zones_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_zones")),
    )
    op.create_index(op.f("ix_wms_zones_warehouse_id"), "wms_zones", ["warehouse_id"], unique=False)
    op.create_table(
        "wms_locations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("zone_id", sa.String(length=40), nullable=False),
        sa.Column("aisle", sa.Integer(), nullable=False),
        sa.Column("bay", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_wms_locations_warehouse_id_warehouses"),
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["wms_zones.id"], name=op.f("fk_wms_locations_zone_id_wms_zones")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_locations")),
    )
    op.create_index(
        op.f("ix_wms_locations_warehouse_id"), "wms_locations", ["warehouse_id"], unique=False
    )
    op.create_table(
        "wms_stock",
        sa.Column("location_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_wms_stock_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["wms_locations.id"],
            name=op.f("fk_wms_stock_location_id_wms_locations"),
        ),
        sa.PrimaryKeyConstraint("location_id", "sku", name=op.f("pk_wms_stock")),
    )
    op.create_table(
        "wms_pick_lists",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("order_reference", sa.String(length=12), nullable=False),
        sa.Column("wave", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_wms_pick_lists_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_pick_lists")),
        sa.UniqueConstraint("order_reference", name=op.f("uq_wms_pick_lists_order_reference")),
    )
    op.create_table(
        "wms_pick_lines",
        sa.Column("pick_list_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("picked", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "picked >= 0 AND picked <= quantity",
            name=op.f("ck_wms_pick_lines_picked_within_quantity"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["wms_locations.id"],
            name=op.f("fk_wms_pick_lines_location_id_wms_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["pick_list_id"],
            ["wms_pick_lists.id"],
            name=op.f("fk_wms_pick_lines_pick_list_id_wms_pick_lists"),
        ),
        sa.PrimaryKeyConstraint("pick_list_id", "position", name=op.f("pk_wms_pick_lines")),
    )
    # @@GIG_UPGRADE@@


def downgrade() -> None:
    # @@GIG_DOWNGRADE@@
    op.drop_table("wms_pick_lines")
    op.drop_table("wms_pick_lists")
    op.drop_table("wms_stock")
    op.drop_index(op.f("ix_wms_locations_warehouse_id"), table_name="wms_locations")
    op.drop_table("wms_locations")
    op.drop_index(op.f("ix_wms_zones_warehouse_id"), table_name="wms_zones")
    op.drop_table("wms_zones")
    op.drop_table("wms_layouts")
