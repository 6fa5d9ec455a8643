"""The Alembic migrations build exactly the engines' tables, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
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
from core.db.migrate import alembic_config, upgrade_async
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.real)])
def at_0021(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database migrated up to 0021, before warehouses had a location."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "omniroute.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database("warehouses_before_0025")
    command.upgrade(alembic_config(url), "0021")
    return url


async def test_warehouses_keep_the_depot_their_routes_started_from(at_0021: str) -> None:
    """0025 gives each warehouse a location: the ones there already get the point routes
    started from until then, so a day's plan does not move under an operator."""
    engine = create_async_engine(at_0021)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO warehouses (id, region, name) VALUES (:id, :region, :name)"),
                [
                    {"id": "WH-LAGOS", "region": "lagos", "name": "Lagos DC"},
                    {"id": "WH-NAIROBI", "region": "nairobi", "name": "Nairobi DC"},
                ],
            )
        await upgrade_async(at_0021)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT id, lat, lon FROM warehouses ORDER BY id"))
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("WH-LAGOS", 6.4550, 3.3841),
        ("WH-NAIROBI", -1.2864, 36.8172),
    ]
