"""SQL tables of stored route plans: one row per planning run of a region's day, and every
order of it with its route, position and status (what re-planning starts from)."""

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from core.db import UTCDateTime, metadata

route_plans = Table(
    "route_plans",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("region", String(20), nullable=False),
    Column("day", Date, nullable=False),
    Column("revision", Integer, nullable=False),  # 1 for the first plan of the day, then 2, ...
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("region", "day", "revision", name="uq_route_plans_revision"),
)

route_plan_stops = Table(
    "route_plan_stops",
    metadata,
    Column("plan_id", Uuid, ForeignKey("route_plans.id"), primary_key=True),
    Column("order_reference", String(12), primary_key=True),
    Column("route_id", String(40), nullable=True),  # None: left unassigned (see `reason`)
    Column("task_reference", String(12), nullable=True),
    Column("vehicle_id", String(64), nullable=True),
    Column("position", Integer, nullable=True),
    Column("status", String(12), nullable=False),
    Column("reason", String(24), nullable=True),
)

# One row while a planning run of a region is under way (its claim, until `expires_at`): the
# database lets one run at a time plan a region, so no order is routed by two runs at once.
route_plan_claims = Table(
    "route_plan_claims",
    metadata,
    Column("region", String(20), primary_key=True),
    Column("day", Date, nullable=False),
    Column("holder", Uuid, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
