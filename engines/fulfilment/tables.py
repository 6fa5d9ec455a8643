"""The effects table (what each activity did, under its key) and the dispatch requests."""

from sqlalchemy import JSON, Column, String, Table

from core.db import UTCDateTime, metadata

workflow_effects = Table(
    "workflow_effects",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("result", JSON, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False, index=True),
)

# What an order's workflow asked the distribution engines for: released to the warehouse's
# waves, registered for its region's next route plan, a driver wanted. The day planner routes
# and waves only orders released here (an unpaid or refused order never reaches a picker).
dispatch_requests = Table(
    "dispatch_requests",
    metadata,
    Column("order_reference", String(12), primary_key=True),
    Column("step", String(10), primary_key=True),
    Column("region", String(20), nullable=False, index=True),
    Column("requested_at", UTCDateTime, nullable=False),
)
