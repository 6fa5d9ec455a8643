"""SQL tables of the customers context."""

from sqlalchemy import Column, String, Table

from core.db import UTCDateTime, metadata

customers = Table(
    "customers",
    metadata,
    Column("phone", String(16), primary_key=True),
    Column("region", String(20), nullable=False),
    Column("name", String(80)),
    Column("locale", String(10)),
    Column("created_at", UTCDateTime, nullable=False),
)
