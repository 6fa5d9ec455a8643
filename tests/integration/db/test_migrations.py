"""The Alembic migrations build exactly the engines' tables, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError
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
import engines.registry.tables
import engines.routing.tables  # noqa: F401
from core.db import metadata
from core.db.migrate import alembic_config, upgrade_async
from engines.registry.tables import services
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.real)])
def at_0025(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database migrated up to 0025, before products had aliases."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "omniroute.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database("products_before_0026")
    command.upgrade(alembic_config(url), "0025")
    return url


async def test_product_aliases_are_added_to_a_catalogue_and_taken_away_again(
    at_0025: str,
) -> None:
    """0026 adds the aliases typed orders read to an existing catalogue (its products kept);
    an alias must name a product there, and going back to 0025 drops them, products kept."""
    engine = create_async_engine(at_0025)
    product = text(
        "INSERT INTO products (region, sku, category_id, name, unit) "
        "VALUES ('nairobi', 'RCE-LONG-25K', 'rice', 'Long Grain Rice 25kg', 'bag')"
    )
    alias = text(
        "INSERT INTO product_aliases (region, sku, locale, alias) "
        "VALUES ('nairobi', :sku, 'sw', 'mchele')"
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(product)
        await upgrade_async(at_0025)
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                await conn.execute(text("PRAGMA foreign_keys = ON"))
            await conn.execute(alias, {"sku": "RCE-LONG-25K"})
            await conn.commit()
            with pytest.raises(IntegrityError):
                await conn.execute(alias, {"sku": "NO-SUCH-SKU"})
            await conn.rollback()
        async with engine.connect() as conn:
            aliases = (await conn.execute(text("SELECT sku, alias FROM product_aliases"))).all()
        await engine.dispose()
        # Alembic's env runs its own event loop: from a thread, as upgrade_async does.
        await asyncio.to_thread(command.downgrade, alembic_config(at_0025), "0025")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            names = (await conn.execute(text("SELECT name FROM products"))).scalars().all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in aliases] == [("RCE-LONG-25K", "mchele")]
    assert "product_aliases" not in tables
    assert names == ["Long Grain Rice 25kg"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.real)])
def at_0029(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database migrated up to 0029, before service codes were claimed."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "omniroute.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database("services_before_0030")
    command.upgrade(alembic_config(url), "0029")
    return url


async def test_published_services_keep_answering_their_codes_once_claimed(at_0029: str) -> None:
    """0030 claims each service's newest code: what answered before answers after, and of two
    that published one code at once before it, the first keeps it."""
    engine = create_async_engine(at_0029)
    published = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    rows = [
        ("airtime", 1, "*384*77#", 0),
        ("airtime", 2, "*384*78#", 5),
        ("data", 1, "*384*78#", 6),  # the race 0030 closes: the same code, a moment later
        ("quiz", 1, None, 7),
    ]
    try:
        async with engine.begin() as conn:
            await conn.execute(
                services.insert(),
                [
                    {
                        "name": name,
                        "version": version,
                        "definition": {},
                        "service_code": code,
                        "published_at": published + timedelta(minutes=minutes),
                    }
                    for name, version, code, minutes in rows
                ],
            )
        await upgrade_async(at_0029)
        async with engine.connect() as conn:
            claims = (
                await conn.execute(
                    text("SELECT name, service_code, retired_at FROM service_claims ORDER BY name")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in claims] == [
        ("airtime", "*384*78#", None),
        ("data", None, None),
        ("quiz", None, None),
    ]
