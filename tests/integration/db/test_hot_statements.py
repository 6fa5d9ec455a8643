"""The USSD turn's prepared statements (stock level, cart save) on SQLite and on PostgreSQL.

They skip the ORM session for speed; what they write must read back through the ORM exactly as
before, and what they read must be as fresh as a transaction's read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from core.app.bootstrap import Services, build_services
from core.cache import NoCache
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.orders import Cart, OrderService
from engines.orders.repository import SqlCartRepository
from tests.support.demo_template import seed_demo

NGOZI = Phone("+2348030000001")


@pytest.fixture
async def services(any_database_url: str) -> AsyncIterator[Services]:
    clock = SteppedClock()
    settings = Settings(env="test", database_url=any_database_url, _env_file=None)
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    yield built
    await built.close()


async def test_a_saved_cart_reads_back_through_the_orm_unchanged(services: Services) -> None:
    orders = OrderService(services.db, services.pricing, services.clock, RandomIds())
    cart = Cart(NGOZI, RegionCode.LAGOS).with_quantity("NDL-INDO-CHK", 3)
    await orders.save_cart(cart.with_quantity("RCE-BASM-10", 2))
    await orders.save_cart(cart)  # the upsert replaces the lines
    async with services.db.transaction() as s:
        found = await SqlCartRepository(s).get(NGOZI)
    assert found is not None
    saved, updated_at = found
    assert saved == cart
    assert updated_at == services.clock.now()
    assert updated_at.tzinfo is not None

    await orders.save_cart(cart.cleared())
    async with services.db.transaction() as s:
        assert await SqlCartRepository(s).get(NGOZI) is None


async def test_a_cart_is_kept_for_a_day_and_read_without_a_cache(services: Services) -> None:
    orders = OrderService(
        services.db, services.pricing, services.clock, RandomIds(), cache=NoCache()
    )
    cart = Cart(NGOZI, RegionCode.LAGOS).with_quantity("NDL-INDO-CHK", 3)
    await orders.save_cart(cart)
    assert await orders.cart(NGOZI, RegionCode.LAGOS) == cart
    assert isinstance(services.clock, SteppedClock)
    services.clock.advance(timedelta(days=1, seconds=1).total_seconds())
    assert (await orders.cart(NGOZI, RegionCode.LAGOS)).is_empty


async def test_stock_is_read_fresh(services: Services) -> None:
    catalogue = services.catalogue
    assert await catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == 200
    async with services.db.transaction() as s:
        await s.execute(text("UPDATE stock_levels SET reserved = 150 WHERE sku = 'NDL-INDO-CHK'"))
    assert await catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == 50
    async with services.db.transaction() as s:
        await s.execute(text("UPDATE stock_levels SET on_hand = 150 WHERE sku = 'NDL-INDO-CHK'"))
    assert await catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == 0
    assert await catalogue.available(RegionCode.LAGOS, "NO-SUCH-SKU") == 0


async def test_a_saved_cart_is_stored_exactly_as_the_orm_stores_it(services: Services) -> None:
    """Same text for the datetime on SQLite, so comparisons in SQL see one format."""
    cart = Cart(NGOZI, RegionCode.LAGOS).with_quantity("NDL-INDO-CHK", 3)
    async with services.db.transaction() as s:
        await SqlCartRepository(s).put(cart, services.clock.now())
        orm = (await s.execute(text("SELECT lines, updated_at FROM carts"))).one()
    await services.orders.save_cart(cart.with_quantity("NDL-INDO-CHK", 3))
    async with services.db.transaction() as s:
        prepared = (await s.execute(text("SELECT lines, updated_at FROM carts"))).one()
    assert tuple(prepared) == tuple(orm)
