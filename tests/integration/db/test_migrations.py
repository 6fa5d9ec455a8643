"""The Alembic migrations build exactly the engines' tables, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

# Imported for their side effect: each registers its tables on the shared metadata.
import core.bus.tables  # noqa: F401
import engines.access.tables
import engines.catalogue.tables
import engines.customers.tables
import engines.invoices.tables
import engines.notifications.tables
import engines.orders.tables
import engines.pricing.tables
import engines.routing.tables  # noqa: F401
from core.db import metadata


async def test_migrated_schema_matches_the_tables_the_code_uses(any_database_url: str) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(any_database_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
