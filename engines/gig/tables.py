"""SQL tables of the gig context."""

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Uuid,
)

from core.db import DecimalAmount, UTCDateTime, metadata

gig_workers = Table(
    "gig_workers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("phone", String(16), nullable=False, unique=True),
    Column("name", String(80), nullable=False),
    Column("national_id", String(20), nullable=False),
    Column("region", String(20), nullable=False),
    Column("locale", String(10), nullable=True),
    Column("vehicle_kind", String(20), nullable=False),
    Column("vehicle_plate", String(12), nullable=True),
    Column("capacity_units", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("available", Boolean, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("rating_total", Integer, nullable=False),
    Column("rating_count", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("bank_code", String(12), nullable=True),
    Column("bank_account", String(20), nullable=True),
)

gig_documents = Table(
    "gig_documents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("worker_id", Uuid, ForeignKey("gig_workers.id"), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("object_key", String(200), nullable=False),
    Column("content_type", String(60), nullable=False),
    Column("size", Integer, nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
)

gig_shifts = Table(
    "gig_shifts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("worker_id", Uuid, ForeignKey("gig_workers.id"), nullable=False, index=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
)

gig_tasks = Table(
    "gig_tasks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reference", String(12), nullable=False, unique=True),
    Column("route_id", String(60), nullable=False, unique=True),
    Column("region", String(20), nullable=False),
    Column("depot", JSON, nullable=False),
    Column("departure", UTCDateTime, nullable=False),
    Column("returns_at", UTCDateTime, nullable=True),  # back at the depot, as planned
    Column("status", String(20), nullable=False, index=True),
    Column("worker_id", Uuid, ForeignKey("gig_workers.id"), nullable=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

gig_task_stops = Table(
    "gig_task_stops",
    metadata,
    Column("task_id", Uuid, ForeignKey("gig_tasks.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("order_reference", String(12), nullable=False),
    Column("customer", String(16), nullable=False),
    Column("address", String(200), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("units", Integer, nullable=False),
    Column("leg_km", DecimalAmount, nullable=False),
    Column("status", String(20), nullable=False),
    Column("code_digest", String(64), nullable=True),
    Column("code_attempts", Integer, nullable=False),
    Column("photo_ref", String(200), nullable=True),
    Column("proof_lat", Float, nullable=True),
    Column("proof_lon", Float, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    CheckConstraint("code_attempts >= 0 AND code_attempts <= 3", name="code_attempts_at_most_3"),
)

gig_offers = Table(
    "gig_offers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("task_id", Uuid, ForeignKey("gig_tasks.id"), nullable=False, index=True),
    Column("worker_id", Uuid, ForeignKey("gig_workers.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("offered_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

gig_incidents = Table(
    "gig_incidents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("task_id", Uuid, ForeignKey("gig_tasks.id"), nullable=False, index=True),
    Column("worker_id", Uuid, ForeignKey("gig_workers.id"), nullable=False),
    Column("position", Integer, nullable=True),
    Column("kind", String(30), nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
)

gig_payouts = Table(
    "gig_payouts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("worker_id", Uuid, ForeignKey("gig_workers.id"), nullable=False, index=True),
    Column("amount", DecimalAmount, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("earned_on", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

gig_earnings = Table(
    "gig_earnings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("worker_id", Uuid, ForeignKey("gig_workers.id"), nullable=False, index=True),
    Column("task_id", Uuid, ForeignKey("gig_tasks.id"), nullable=False),
    Column("position", Integer, nullable=True),
    Column("kind", String(20), nullable=False),
    Column("amount", DecimalAmount, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("earned_on", Date, nullable=False),
    Column("payout_id", Uuid, ForeignKey("gig_payouts.id"), nullable=True),
)

gig_ratings = Table(
    "gig_ratings",
    metadata,
    Column("task_id", Uuid, ForeignKey("gig_tasks.id"), primary_key=True),
    Column("worker_id", Uuid, ForeignKey("gig_workers.id"), nullable=False),
    Column("stars", Integer, nullable=False),
    Column("rated_at", UTCDateTime, nullable=False),
    CheckConstraint("stars >= 1 AND stars <= 5", name="stars_1_to_5"),
)
