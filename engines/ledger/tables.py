"""SQL tables of the ledger. Running sums live on the account row, updated under its row lock."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Uuid

from core.db import DecimalAmount, UTCDateTime, metadata

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("code", String(160), nullable=False, unique=True),
    Column("type", String(10), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("flags", Integer, nullable=False),
    Column("balance_limit", DecimalAmount, nullable=False),
    Column("debits_pending", DecimalAmount, nullable=False),
    Column("debits_posted", DecimalAmount, nullable=False),
    Column("credits_pending", DecimalAmount, nullable=False),
    Column("credits_posted", DecimalAmount, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

ledger_transfers = Table(
    "ledger_transfers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("debit_account_id", Uuid, ForeignKey("ledger_accounts.id"), nullable=False, index=True),
    Column("credit_account_id", Uuid, ForeignKey("ledger_accounts.id"), nullable=False, index=True),
    Column("amount", DecimalAmount, nullable=False),
    Column("currency", String(3), nullable=False),
    # One post or void per pending transfer: the unique key makes a second one impossible.
    Column("pending_id", Uuid, nullable=True, unique=True),
    Column("status", String(8), nullable=False),
    Column("code", String(40), nullable=False),
    Column("reference", String(160), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

Index("ix_ledger_transfers_reference", ledger_transfers.c.reference)
