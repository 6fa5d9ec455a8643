"""The outbox (events written with the state change) and the inbox (events already handled)."""

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Uuid

from core.db import UTCDateTime, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("topic", String(120), nullable=False),
    Column("key", String(120), nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("version", Integer, nullable=False),
    Column("envelope", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    # A relay publishing the row (outside any transaction) until then; after it, another may.
    Column("claimed_until", UTCDateTime),
    Index("ix_outbox_unsent", "sent_at", "id"),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(80), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", UTCDateTime, nullable=False),
)
