"""The Alembic migrations build exactly the engines' tables, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
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
from core.db.migrate import upgrade_async
from tests.support.databases import sqlite_url
from tests.support.servers import PostgresServer


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.real)])
async def migrated_here(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database the migrations run on in this test (the other tests get copies of a
    database migrated once per session: this is what makes those copies right)."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "omniroute.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database("migrated_from_empty")
    await upgrade_async(url)
    return url


async def test_migrated_schema_matches_the_tables_the_code_uses(migrated_here: str) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(migrated_here)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
