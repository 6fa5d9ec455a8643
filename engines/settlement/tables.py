"""SQL tables of settlement: one batch per distributor and local day (money: on the ledger)."""

from sqlalchemy import Column, Date, Integer, String, Table, UniqueConstraint, Uuid

from core.db import DecimalAmount, UTCDateTime, metadata

settlement_batches = Table(
    "settlement_batches",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("distributor", String(40), nullable=False),
    Column("day", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gross", DecimalAmount, nullable=False),
    Column("fees", DecimalAmount, nullable=False),
    Column("commission", DecimalAmount, nullable=False),
    Column("net", DecimalAmount, nullable=False),
    Column("payments", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("distributor", "day"),
)
