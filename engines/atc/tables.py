"""SQL table of ATC: which agent onboarded which retailer (the money is on the ledger)."""

from sqlalchemy import Column, String, Table

from core.db import UTCDateTime, metadata

atc_retailers = Table(
    "atc_retailers",
    metadata,
    Column("retailer", String(16), primary_key=True),
    Column("agent", String(16), nullable=False, index=True),
    Column("onboarded_at", UTCDateTime, nullable=False),
)
