"""Cycle counts: an operator finds the SKUs whose bins drifted from the catalogue's on hand (stock
loaded outside the WMS, goods lost or found) and records what a bin was counted to hold. On SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue import BelowReservedError
from engines.catalogue.tables import stock_levels
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.wms import (
    BinHoldsOtherSkuError,
    CountError,
    StockDrift,
    UnknownLocationError,
)
from tests.support.warehouse import WH, lagos_with_racks

RICE = "RCE-LONG-25K"
OIL = "OIL-VEG-5L"
A1 = f"{WH}:A01-B01-L1-1"


@pytest.fixture
async def services(any_database_url: str) -> AsyncIterator[Services]:
    """Lagos with the demo catalogue's stock (loaded outside the WMS) and empty racks."""
    built = await lagos_with_racks(any_database_url, aisles=2, bays=6, capacity=500)
    yield built
    await built.close()


async def on_hand(services: Services, sku: str) -> tuple[int, int]:
    async with services.db.transaction() as s:
        row = (
            await s.execute(
                select(stock_levels.c.on_hand, stock_levels.c.reserved).where(
                    stock_levels.c.warehouse_id == WH, stock_levels.c.sku == sku
                )
            )
        ).one()
    return int(row.on_hand), int(row.reserved)


async def in_bin(services: Services, location: str, sku: str) -> int:
    held = await services.warehouse.stock(WH, sku, dock=True)
    return sum(a.quantity for a in held if a.location_id == location)


async def start_empty(services: Services, *skus: str) -> None:
    async with services.db.transaction() as s:
        await s.execute(
            update(stock_levels)
            .where(stock_levels.c.warehouse_id == WH, stock_levels.c.sku.in_(skus))
            .values(on_hand=0, reserved=0)
        )


async def test_stock_loaded_outside_the_wms_is_listed_and_a_count_puts_it_in_its_bin(
    services: Services,
) -> None:
    rice_on_hand, _ = await on_hand(services, RICE)
    drift = {d.sku: d for d in await services.warehouse.drift(WH)}
    assert drift[RICE] == StockDrift(RICE, rice_on_hand, 0)
    assert drift[RICE].difference == -rice_on_hand

    counted = await services.warehouse.count(WH, A1, RICE, rice_on_hand)

    assert (counted.recorded, counted.counted, counted.on_hand) == (0, rice_on_hand, rice_on_hand)
    assert await in_bin(services, A1, RICE) == rice_on_hand
    assert await on_hand(services, RICE) == (rice_on_hand, 0)
    assert RICE not in {d.sku for d in await services.warehouse.drift(WH)}
    assert OIL in {d.sku for d in await services.warehouse.drift(WH)}  # not counted yet


async def test_a_count_finding_fewer_lowers_on_hand_and_one_finding_more_raises_it(
    services: Services,
) -> None:
    await start_empty(services, RICE)
    shelf = (await services.warehouse.put_away(WH, RICE, 50)).location_id

    fewer = await services.warehouse.count(WH, shelf, RICE, 47)
    assert (fewer.recorded, fewer.on_hand) == (50, 47)
    assert await on_hand(services, RICE) == (47, 0)

    more = await services.warehouse.count(WH, shelf, RICE, 52)
    assert (more.recorded, more.on_hand) == (47, 52)
    assert await in_bin(services, shelf, RICE) == 52
    assert RICE not in {d.sku for d in await services.warehouse.drift(WH)}


async def test_a_count_below_what_orders_reserved_is_refused_and_changes_nothing(
    services: Services,
) -> None:
    await start_empty(services, RICE)
    shelf = (await services.warehouse.put_away(WH, RICE, 10)).location_id
    await services.orders.place(
        PlaceOrder(
            Phone("+2348030000001"),
            RegionCode.LAGOS,
            (CartLine(RICE, 8),),
            PaymentMethod.ON_DELIVERY,
            "count-reserved",
        )
    )

    with pytest.raises(BelowReservedError) as refused:
        await services.warehouse.count(WH, shelf, RICE, 5)

    assert (refused.value.on_hand, refused.value.reserved) == (5, 8)
    assert await in_bin(services, shelf, RICE) == 10
    assert await on_hand(services, RICE) == (10, 8)
    assert (await services.warehouse.count(WH, shelf, RICE, 8)).on_hand == 8  # 8 is enough


async def test_a_bin_holds_one_sku_and_a_count_must_name_a_bin_of_the_warehouse(
    services: Services,
) -> None:
    await start_empty(services, RICE, OIL)
    shelf = (await services.warehouse.put_away(WH, RICE, 10)).location_id

    with pytest.raises(BinHoldsOtherSkuError):
        await services.warehouse.count(WH, shelf, OIL, 3)
    with pytest.raises(UnknownLocationError):
        await services.warehouse.count(WH, f"{WH}:A99-B01-L1-1", RICE, 3)
    with pytest.raises(CountError):
        await services.warehouse.count(WH, shelf, RICE, -1)

    with pytest.raises(CountError):
        await services.warehouse.count(WH, f"{WH}:A02-B06-L2-1", "RCE-LONG-25", 3)  # no such SKU

    assert await services.warehouse.count(WH, shelf, OIL, 0)  # nothing of it there: fine
    assert await in_bin(services, shelf, RICE) == 10
    assert await on_hand(services, OIL) == (0, 0)


async def test_the_dock_is_not_counted_below_what_picked_orders_hold_there(
    services: Services,
) -> None:
    """Rice picked for an order waits on the dock; a dock count missing it would leave the
    truck's cartons off the books, and its delivery would take them from the shelves again."""
    await start_empty(services, RICE)
    shelf = (await services.warehouse.put_away(WH, RICE, 100)).location_id
    placed = await services.orders.place(
        PlaceOrder(
            Phone("+2348030000001"),
            RegionCode.LAGOS,
            (CartLine(RICE, 8),),
            PaymentMethod.ON_DELIVERY,
            "count-dock",
        )
    )
    pick = await services.warehouse.pick_list(WH, placed.reference)
    for line in pick.lines:
        await services.warehouse.confirm_pick(pick.id, line.position, line.quantity)
    dock = f"{WH}:dock"
    assert await in_bin(services, dock, RICE) == 8

    with pytest.raises(CountError) as refused:
        await services.warehouse.count(WH, dock, RICE, 3)

    assert str(refused.value) == (
        f"dock: 3 x {RICE} is less than the 8 picked for orders {placed.reference} (8) and not"
        " delivered yet (on the dock, or on their truck): count again, or cancel those orders"
        " first"
    )
    assert await in_bin(services, dock, RICE) == 8
    assert await in_bin(services, shelf, RICE) == 92
    assert await on_hand(services, RICE) == (100, 8)
    assert (await services.warehouse.count(WH, dock, RICE, 9)).on_hand == 101  # one found
