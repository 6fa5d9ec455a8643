"""SQL tables of settlement: one batch per distributor and local day (money: on the ledger)."""

from sqlalchemy import Column, Date, Index, Integer, String, Table, Text, UniqueConstraint, Uuid

from core.db import DecimalAmount, UTCDateTime, metadata

settlement_batches = Table(
    "settlement_batches",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("distributor", String(40), nullable=False),
    Column("day", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gross", DecimalAmount, nullable=False),
    Column("refunds", DecimalAmount, nullable=False, server_default="0"),
    Column("fees", DecimalAmount, nullable=False),
    Column("commission", DecimalAmount, nullable=False),
    Column("net", DecimalAmount, nullable=False),
    Column("carried", DecimalAmount, nullable=False, server_default="0"),
    Column("payments", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("distributor", "day"),
)

# One row while a settlement run of a distributor is under way (its claim, until `expires_at`):
# the database lets one run at a time settle a distributor, so no two take the same shortfall.
settlement_claims = Table(
    "settlement_claims",
    metadata,
    Column("distributor", String(40), primary_key=True),
    Column("holder", Uuid, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# One row per payout to a driver or an agent, whatever rail carries it: which attempt is with
# the rail (its payment intent), and why a payout waits (held for a person, retrying later).
payout_orders = Table(
    "payout_orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source", String(120), nullable=False, unique=True),
    Column("role", String(10), nullable=False),
    Column("person", String(16), nullable=False, index=True),
    Column("region", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", DecimalAmount, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("intent_id", Uuid, nullable=True, unique=True),
    Column("reason", Text, nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_payout_orders_status", "status", "next_attempt_at"),
)
