"""SQL tables of the notifications context: the deliveries outbox and conversation windows."""

from sqlalchemy import JSON, Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text, Uuid

from core.db import UTCDateTime, metadata

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("provider", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("to", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    # Which worker (`core.ids.worker_id`) holds its send lease (`next_attempt_at` then its end):
    # that worker takes it back at once when its pass was lost (the database went away
    # mid-batch). None when nobody does: queued, or waiting out a retry's back-off.
    Column("leased_by", String(80)),
    Column("provider_message_id", String(120), index=True),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

# When each customer last wrote to us on a channel that limits what a business may send later
# (WhatsApp: free-form messages only within 24 hours of the customer's last message).
conversation_windows = Table(
    "conversation_windows",
    metadata,
    Column("provider", String(40), nullable=False),
    Column("contact", String(16), nullable=False),
    Column("last_inbound_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("provider", "contact"),
)
