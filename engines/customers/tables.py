"""SQL tables of the customers context."""

from sqlalchemy import Boolean, Column, Float, String, Table, false

from core.db import UTCDateTime, metadata

customers = Table(
    "customers",
    metadata,
    Column("phone", String(16), primary_key=True),
    Column("region", String(20), nullable=False),
    Column("name", String(80)),
    Column("locale", String(10)),
    Column("opted_out", Boolean, nullable=False, server_default=false()),
    # The provider that blocked messages to her too when she opted out (Twilio's Advanced
    # Opt-Out); None when she opted out only with us.
    Column("opted_out_by", String(40)),
    Column("created_at", UTCDateTime, nullable=False),
    # Where deliveries go (none yet: the customer's orders cannot be routed).
    Column("address", String(200)),
    Column("lat", Float),
    Column("lon", Float),
)
