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
down_revision: str | None = "0010"
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
    op.create_table(
        "gig_workers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("national_id", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("vehicle_kind", sa.String(length=20), nullable=False),
        sa.Column("vehicle_plate", sa.String(length=12), nullable=True),
        sa.Column("capacity_units", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("rating_total", sa.Integer(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gig_workers")),
        sa.UniqueConstraint("phone", name=op.f("uq_gig_workers_phone")),
    )
    op.create_table(
        "gig_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["gig_workers.id"], name=op.f("fk_gig_documents_worker_id_gig_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gig_documents")),
    )
    op.create_index(
        op.f("ix_gig_documents_worker_id"), "gig_documents", ["worker_id"], unique=False
    )
    op.create_table(
        "gig_payouts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("amount", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("earned_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["gig_workers.id"], name=op.f("fk_gig_payouts_worker_id_gig_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gig_payouts")),
    )
    op.create_index(op.f("ix_gig_payouts_worker_id"), "gig_payouts", ["worker_id"], unique=False)
    op.create_table(
        "gig_shifts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_gig_shifts_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["gig_workers.id"], name=op.f("fk_gig_shifts_worker_id_gig_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gig_shifts")),
    )
    op.create_index(op.f("ix_gig_shifts_worker_id"), "gig_shifts", ["worker_id"], unique=False)
    op.create_table(
        "gig_tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("route_id", sa.String(length=60), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("depot", sa.JSON(), nullable=False),
        sa.Column("departure", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["gig_workers.id"], name=op.f("fk_gig_tasks_worker_id_gig_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gig_tasks")),
        sa.UniqueConstraint("reference", name=op.f("uq_gig_tasks_reference")),
        sa.UniqueConstraint("route_id", name=op.f("uq_gig_tasks_route_id")),
    )
    op.create_index(op.f("ix_gig_tasks_status"), "gig_tasks", ["status"], unique=False)
    op.create_index(op.f("ix_gig_tasks_worker_id"), "gig_tasks", ["worker_id"], unique=False)
    op.create_table(
        "gig_earnings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("earned_on", sa.Date(), nullable=False),
        sa.Column("payout_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["gig_payouts.id"], name=op.f("fk_gig_earnings_payout_id_gig_payouts")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["gig_tasks.id"], name=op.f("fk_gig_earnings_task_id_gig_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["gig_workers.id"], name=op.f("fk_gig_earnings_worker_id_gig_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gig_earnings")),
    )
    op.create_index(op.f("ix_gig_earnings_worker_id"), "gig_earnings", ["worker_id"], unique=False)
    op.create_table(
        "gig_incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("reported_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["gig_tasks.id"], name=op.f("fk_gig_incidents_task_id_gig_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["gig_workers.id"], name=op.f("fk_gig_incidents_worker_id_gig_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gig_incidents")),
    )
    op.create_index(op.f("ix_gig_incidents_task_id"), "gig_incidents", ["task_id"], unique=False)
    op.create_table(
        "gig_offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("offered_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["gig_tasks.id"], name=op.f("fk_gig_offers_task_id_gig_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["gig_workers.id"], name=op.f("fk_gig_offers_worker_id_gig_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gig_offers")),
    )
    op.create_index(op.f("ix_gig_offers_task_id"), "gig_offers", ["task_id"], unique=False)
    op.create_index(op.f("ix_gig_offers_worker_id"), "gig_offers", ["worker_id"], unique=False)
    op.create_table(
        "gig_ratings",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("rated_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stars >= 1 AND stars <= 5", name=op.f("ck_gig_ratings_stars_1_to_5")),
        sa.ForeignKeyConstraint(
            ["task_id"], ["gig_tasks.id"], name=op.f("fk_gig_ratings_task_id_gig_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["gig_workers.id"], name=op.f("fk_gig_ratings_worker_id_gig_workers")
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_gig_ratings")),
    )
    op.create_table(
        "gig_task_stops",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("order_reference", sa.String(length=12), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("leg_km", core.db.types.DecimalAmount(precision=20, scale=4), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("photo_ref", sa.String(length=200), nullable=True),
        sa.Column("proof_lat", sa.Float(), nullable=True),
        sa.Column("proof_lon", sa.Float(), nullable=True),
        sa.Column("delivered_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "code_attempts >= 0 AND code_attempts <= 3",
            name=op.f("ck_gig_task_stops_code_attempts_at_most_3"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["gig_tasks.id"], name=op.f("fk_gig_task_stops_task_id_gig_tasks")
        ),
        sa.PrimaryKeyConstraint("task_id", "position", name=op.f("pk_gig_task_stops")),
    )


def downgrade() -> None:
    op.drop_table("gig_task_stops")
    op.drop_table("gig_ratings")
    op.drop_index(op.f("ix_gig_offers_worker_id"), table_name="gig_offers")
    op.drop_index(op.f("ix_gig_offers_task_id"), table_name="gig_offers")
    op.drop_table("gig_offers")
    op.drop_index(op.f("ix_gig_incidents_task_id"), table_name="gig_incidents")
    op.drop_table("gig_incidents")
    op.drop_index(op.f("ix_gig_earnings_worker_id"), table_name="gig_earnings")
    op.drop_table("gig_earnings")
    op.drop_index(op.f("ix_gig_tasks_worker_id"), table_name="gig_tasks")
    op.drop_index(op.f("ix_gig_tasks_status"), table_name="gig_tasks")
    op.drop_table("gig_tasks")
    op.drop_index(op.f("ix_gig_shifts_worker_id"), table_name="gig_shifts")
    op.drop_table("gig_shifts")
    op.drop_index(op.f("ix_gig_payouts_worker_id"), table_name="gig_payouts")
    op.drop_table("gig_payouts")
    op.drop_index(op.f("ix_gig_documents_worker_id"), table_name="gig_documents")
    op.drop_table("gig_documents")
    op.drop_table("gig_workers")
    op.drop_table("wms_pick_lines")
    op.drop_table("wms_pick_lists")
    op.drop_table("wms_stock")
    op.drop_index(op.f("ix_wms_locations_warehouse_id"), table_name="wms_locations")
    op.drop_table("wms_locations")
    op.drop_index(op.f("ix_wms_zones_warehouse_id"), table_name="wms_zones")
    op.drop_table("wms_zones")
    op.drop_table("wms_layouts")
