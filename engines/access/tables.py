"""SQL tables of the access context: credentials are stored as hashes only."""

from sqlalchemy import Column, String, Table, Uuid

from core.db import UTCDateTime, metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key_id", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("name", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("client_id", String(40), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("role", String(20), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("name", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)
