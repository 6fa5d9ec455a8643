"""Credentials and order history on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.access import AccessService, Role
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.orders.history import HistoryCursor, OrderHistory
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


async def test_issued_credentials_authenticate_and_near_misses_do_not(
    services: Services,
) -> None:
    access = AccessService(services.db, services.clock, RandomIds())
    key = await access.create_api_key(Role.CUSTOMER, subject=NGOZI.e164)
    found = await access.authenticate_api_key(key.secret)
    assert found is not None
    assert (found.subject, found.role) == (NGOZI.e164, Role.CUSTOMER)
    assert await access.authenticate_api_key(key.secret + "x") is None
    assert await access.authenticate_api_key("omr_nothing_here") is None
    client = await access.create_client(Role.AGENT)
    partner = await access.authenticate_client(client.id, client.secret)
    assert partner is not None
    assert partner.role is Role.AGENT
    assert await access.authenticate_client(client.id, "wrong") is None
    assert await access.authenticate_client("omr-unknown", client.secret) is None


async def test_history_pages_walk_every_order_once_newest_first(services: Services) -> None:
    clock = services.clock
    assert isinstance(clock, SteppedClock)
    shelf = await services.catalogue.shelf(RegionCode.LAGOS)
    sku = sorted(shelf.products)[0]
    placed = []
    for n in range(7):
        order = await services.orders.place(
            PlaceOrder(
                NGOZI,
                RegionCode.LAGOS,
                (CartLine(sku, 1),),
                PaymentMethod.ON_DELIVERY,
                f"history-{n}",
                clear_cart=False,
            )
        )
        placed.append(order.reference)
        if n % 2:
            clock.advance(1)  # pairs share a timestamp: ids break the tie
    history = OrderHistory(services.db)
    seen: list[str] = []
    cursor: HistoryCursor | None = None
    while True:
        page, more = await history.page(NGOZI, 3, cursor)
        seen += [o.reference for o in page]
        if not more:
            break
        cursor = HistoryCursor(page[-1].created_at, page[-1].id)
    assert seen == list(reversed(placed))
