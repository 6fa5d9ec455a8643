"""The published services: one row per name and version, never changed once written."""

from sqlalchemy import JSON, Column, Integer, String, Table

from core.db import UTCDateTime, metadata

services = Table(
    "services",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", JSON, nullable=False),
    # The USSD code the service answers on (`*384*77#`), None when it answers on none.
    Column("service_code", String(64), index=True),
    Column("published_at", UTCDateTime, nullable=False),
    Column("published_by", String(40)),
)

# One row per service: the USSD code its newest version answers on. The code is unique here, so
# two services publishing one code at the same moment cannot both have it: the database refuses
# the second claim, whatever each publish read before. A retired service answers on none.
service_claims = Table(
    "service_claims",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("service_code", String(64), unique=True),
    Column("retired_at", UTCDateTime),
    # When it was last put on the air: its first publish, or the first publish after retiring.
    Column("on_air_since", UTCDateTime),
)
