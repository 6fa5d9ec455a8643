"""The outbox (events written with the state change) and the inbox (events already handled)."""

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Uuid

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
    # Which relay (`core.ids.worker_id`) claimed it to publish: that relay takes its own claim
    # back at once when it lost the batch (the database went away mid-batch), as it publishes
    # one batch at a time. None on a redelivery's back-off, which must be waited out.
    Column("claimed_by", String(80)),
    # The row's place among its key's (its aggregate's) rows: 1, 2, 3… in commit order, from
    # `outbox_sequences`. The id (UUIDv7) is no such order: each process takes it from its own
    # clock, and a slow clock would put a later event first. None on rows from before 0022.
    Column("seq", BigInteger),
    Index("ix_outbox_unsent", "sent_at", "id"),
)

# Each key's last `outbox.seq`, moved on in the transaction that records its next event: the
# row stays locked till that commits, so a key's events take their numbers in commit order.
# `touched_at` (the last numbered event's time; None before 0027) lets the relay drop the row
# of a key long quiet with nothing unsent: its next event starts again at 1.
outbox_sequences = Table(
    "outbox_sequences",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("touched_at", UTCDateTime),
    Index("ix_outbox_sequences_touched_at", "touched_at"),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(80), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", UTCDateTime, nullable=False),
)
