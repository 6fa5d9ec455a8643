"""SQL tables of the credit context. The money itself is on the ledger; these are the terms."""

from sqlalchemy import Boolean, Column, Date, Integer, String, Table, Uuid

from core.db import DecimalAmount, UTCDateTime, metadata

credit_accounts = Table(
    "credit_accounts",
    metadata,
    Column("customer", String(16), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("credit_limit", DecimalAmount, nullable=False),
    Column("term_days", Integer, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
)

credit_orders = Table(
    "credit_orders",
    metadata,
    Column("order_reference", String(12), primary_key=True),
    Column("customer", String(16), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", DecimalAmount, nullable=False),
    Column("outstanding", DecimalAmount, nullable=False),
    Column("due_on", Date, nullable=True),  # set at delivery: the term runs from then
    Column("term_days", Integer, nullable=False, server_default="0"),
    Column("status", String(10), nullable=False),
    Column("late_fee_charged", Boolean, nullable=False),
    # what is still owed of the late fee: part of `outstanding`, paid first
    Column("late_fee_owed", DecimalAmount, nullable=False, server_default="0"),
    Column("reminded_due_soon", Boolean, nullable=False),
    Column("reminded_overdue", Boolean, nullable=False),
    Column("repaid_on", Date, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

credit_repayments = Table(
    "credit_repayments",
    metadata,
    Column("transfer_id", Uuid, primary_key=True),
    Column("customer", String(16), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", DecimalAmount, nullable=False),
    Column("rail", String(20), nullable=False),
    Column("external_ref", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
