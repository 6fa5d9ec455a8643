"""SQL tables of the payments context. UUIDv7 keys: no hot tablet on YugabyteDB."""

from sqlalchemy import JSON, Column, Index, String, Table, Text, UniqueConstraint, Uuid

from core.db import DecimalAmount, UTCDateTime, metadata

payment_intents = Table(
    "payment_intents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("fingerprint", String(64), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("method", String(20), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("customer", String(16), nullable=False, index=True),
    Column("order_reference", String(12), index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", DecimalAmount, nullable=False),
    Column("description", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("provider_reference", String(120)),
    Column("receipt", String(120)),
    Column("failure_reason", Text),
    Column("details", JSON, nullable=False),
    Column("bank_account", String(20)),
    Column("bank_code", String(12)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_payment_intents_open", "status", "updated_at"),
    Index("ix_payment_intents_provider_reference", "provider", "provider_reference"),
)

# One row per provider callback applied: the same delivery twice finds its row and does nothing.
payment_callbacks = Table(
    "payment_callbacks",
    metadata,
    Column("provider", String(20), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("intent_id", Uuid),
    Column("received_at", UTCDateTime, nullable=False),
)

virtual_accounts = Table(
    "virtual_accounts",
    metadata,
    Column("customer", String(16), primary_key=True),
    Column("provider", String(20), primary_key=True),
    Column("account_number", String(20), nullable=False),
    Column("account_name", String(120), nullable=False),
    Column("bank_name", String(120), nullable=False),
    Column("provider_customer", String(60), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("provider", "account_number", name="uq_virtual_accounts_provider_account"),
)
