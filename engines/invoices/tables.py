"""SQL tables of the invoices context: the invoices and one gapless counter per country-year."""

from sqlalchemy import JSON, Column, Date, Integer, String, Table, UniqueConstraint, Uuid

from core.db import DecimalAmount, UTCDateTime, metadata

invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("prefix", String(12), primary_key=True),
    Column("last_number", Integer, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(24), nullable=False, unique=True),
    Column("region", String(20), nullable=False),
    Column("customer", String(16), nullable=False, index=True),
    Column("order_reference", String(12), nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("subtotal", DecimalAmount, nullable=False),
    Column("discount", DecimalAmount, nullable=False),
    Column("tax", DecimalAmount, nullable=False),
    Column("total", DecimalAmount, nullable=False),
    Column("payment_method", String(20), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("vat", JSON, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("due_on", Date, nullable=True),
)

# Credit notes number from the same counters table, in their own series ('NG-CN-2026').
credit_notes = Table(
    "credit_notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(24), nullable=False, unique=True),
    Column("invoice_number", String(24), nullable=False, index=True),
    Column("region", String(20), nullable=False),
    Column("customer", String(16), nullable=False, index=True),
    Column("order_reference", String(12), nullable=False),
    Column("reason", String(12), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal", DecimalAmount, nullable=False),
    Column("discount", DecimalAmount, nullable=False),
    Column("tax", DecimalAmount, nullable=False),
    Column("total", DecimalAmount, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("vat", JSON, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    # exactly once: one credit note per order and reason, however often the event comes
    UniqueConstraint("order_reference", "reason", name="uq_credit_notes_order_reason"),
)
