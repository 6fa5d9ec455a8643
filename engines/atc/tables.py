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

# Who an agent is and where its commissions are paid (a bank account in Lagos and Cape Town;
# the phone's M-Pesa wallet in Nairobi).
atc_agents = Table(
    "atc_agents",
    metadata,
    Column("phone", String(16), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("region", String(20), nullable=False, index=True),
    Column("bank_code", String(12), nullable=True),
    Column("bank_account", String(20), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
