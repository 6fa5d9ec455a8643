"""The effects table: what each activity did, under its idempotency key."""

from sqlalchemy import JSON, Column, String, Table

from core.db import UTCDateTime, metadata

workflow_effects = Table(
    "workflow_effects",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("result", JSON, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False, index=True),
)
