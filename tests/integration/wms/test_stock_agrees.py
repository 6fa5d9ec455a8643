"""Bins and catalogue agree: whatever happens to stock (cycle counts included), the bins (the
dock, where picked goods wait for their truck, included) hold exactly the catalogue's on_hand for
every SKU, and neither goes negative. On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue import BelowReservedError, OutOfStockError
from engines.catalogue.tables import stock_levels
from engines.orders import (
    CartLine,
    InvalidTransitionError,
    OrderStatus,
    PaymentMethod,
    PlaceOrder,
    RestPolicy,
)
from engines.wms import (
    CountError,
    InsufficientStockError,
    PickListStatus,
    WarehouseError,
)
from tests.support.warehouse import WH, lagos_with_racks

NGOZI = Phone("+2348030000001")
RICE = "RCE-LONG-25K"
OIL = "OIL-VEG-5L"
SKUS = (RICE, OIL)
_keys = itertools.count(1)


@pytest.fixture
async def services(any_database_url: str) -> AsyncIterator[Services]:
    """Lagos run by the WMS from an empty warehouse: nothing on hand until it is put away."""
    built = await lagos_with_racks(any_database_url, aisles=2, bays=6, capacity=500)
    async with built.db.transaction() as s:
        await s.execute(
            update(stock_levels)
            .where(stock_levels.c.warehouse_id == WH, stock_levels.c.sku.in_(SKUS))
            .values(on_hand=0, reserved=0)
        )
    yield built
    await built.close()


async def assert_agree(services: Services) -> None:
    held = dict.fromkeys(SKUS, 0)
    for at in await services.warehouse.stock(WH, dock=True):
        assert at.quantity >= 0
        if at.sku in held:
            held[at.sku] += at.quantity
    async with services.db.transaction() as s:
        rows = (
            await s.execute(
                select(stock_levels.c.sku, stock_levels.c.on_hand, stock_levels.c.reserved).where(
                    stock_levels.c.warehouse_id == WH, stock_levels.c.sku.in_(SKUS)
                )
            )
        ).all()
    for sku, on_hand, reserved in rows:
        assert 0 <= reserved <= on_hand
        assert held[sku] == on_hand, f"{sku}: bins {held[sku]} != on_hand {on_hand}"


async def place(services: Services, rice: int, oil: int) -> str | None:
    lines = tuple(CartLine(sku, n) for sku, n in ((RICE, rice), (OIL, oil)) if n)
    if not lines:
        return None
    with contextlib.suppress(OutOfStockError):
        placed = await services.orders.place(
            PlaceOrder(
                NGOZI, RegionCode.LAGOS, lines, PaymentMethod.ON_DELIVERY, f"s-{next(_keys)}"
            )
        )
        return placed.reference
    return None


async def pick(services: Services, reference: str, whole: bool) -> None:
    """Make the order's pick list and pick it (all of it, or just the first line's first unit)."""
    wms = services.warehouse
    try:
        pick_list = await wms.pick_list(WH, reference)
    except (InsufficientStockError, InvalidTransitionError):
        return
    for line in pick_list.lines:
        if line.remaining and pick_list.status is PickListStatus.OPEN:
            with contextlib.suppress(WarehouseError):
                await wms.confirm_pick(pick_list.id, line.position, line.remaining if whole else 1)
        if not whole:
            return


async def deliver(services: Services, reference: str, part: bool, back: bool) -> None:
    orders = services.orders
    if (await orders.get(reference)).status in (OrderStatus.PLACED, OrderStatus.PICKING):
        await pick(services, reference, whole=True)  # the night shift picks it first
    order = await orders.get(reference)
    if order.status is OrderStatus.PACKED:
        await orders.advance(reference, OrderStatus.DISPATCHED)
        delivered = {ln.sku: ln.quantity // 2 for ln in order.lines} if part else None
        rest = RestPolicy.BACKORDER if back else RestPolicy.RELEASE
        await orders.deliver(reference, delivered, rest=rest)


step = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 1), st.integers(1, 40)),
    st.tuples(st.just("order"), st.integers(0, 12), st.integers(0, 6)),
    st.tuples(st.just("pick"), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("cancel"), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("deliver"), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("partial"), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("return"), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("count"), st.integers(0, 1), st.integers(0, 40)),
)


async def count(services: Services, sku: str, found: int) -> None:
    """A cycle count of the first place (a shelf, or the dock) holding the SKU."""
    held = await services.warehouse.stock(WH, sku, dock=True)
    if held:
        # refused (below what orders reserved, or what open pick lists take): nothing changes
        with contextlib.suppress(BelowReservedError, CountError):
            await services.warehouse.count(WH, held[0].location_id, sku, found)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(step, min_size=1, max_size=14))
async def test_bins_and_catalogue_agree_after_any_sequence(
    services: Services, steps: list[tuple[str, int, int]]
) -> None:
    orders: list[str] = []
    for kind, a, b in [("put", 0, 30), ("put", 1, 10), *steps]:
        target = orders[a % len(orders)] if orders else None
        match kind:
            case "put":
                await services.warehouse.put_away(WH, SKUS[a], b)
            case "order":
                made = await place(services, a, b)
                if made:
                    orders.append(made)
            case "pick" if target:
                await pick(services, target, bool(b))
            case "cancel" if target:
                with contextlib.suppress(InvalidTransitionError):
                    await services.orders.advance(target, OrderStatus.CANCELLED)
            case "deliver" | "partial" if target:
                await deliver(services, target, kind == "partial", bool(b))
            case "return" if target:
                with contextlib.suppress(InvalidTransitionError):
                    await services.orders.advance(target, OrderStatus.RETURNED)
            case "count":
                await count(services, SKUS[a], b)
            case _:
                pass
        await assert_agree(services)


async def test_a_picked_then_cancelled_order_goes_back_to_the_shelves(services: Services) -> None:
    wms = services.warehouse
    await wms.put_away(WH, RICE, 20)
    reference = await place(services, 5, 0)
    assert reference is not None
    await pick(services, reference, whole=True)
    at_dock = [s for s in await wms.stock(WH, RICE, dock=True) if s.location_id == f"{WH}:dock"]
    assert [s.quantity for s in at_dock] == [5]
    assert sum(s.quantity for s in await wms.stock(WH, RICE)) == 15  # the shelves

    await services.orders.advance(reference, OrderStatus.CANCELLED)

    assert sum(s.quantity for s in await wms.stock(WH, RICE)) == 20
    assert sum(s.quantity for s in await wms.stock(WH, RICE, dock=True)) == 20
    await assert_agree(services)


async def test_a_partial_delivery_ships_what_arrived_and_shelves_the_rest(
    services: Services,
) -> None:
    wms = services.warehouse
    await wms.put_away(WH, RICE, 20)
    reference = await place(services, 6, 0)
    assert reference is not None
    await pick(services, reference, whole=True)
    await services.orders.advance(reference, OrderStatus.DISPATCHED)
    await services.orders.deliver(reference, {RICE: 4})  # two bags came back on the truck

    assert sum(s.quantity for s in await wms.stock(WH, RICE, dock=True)) == 16
    assert sum(s.quantity for s in await wms.stock(WH, RICE)) == 16  # nothing left at the dock
    await assert_agree(services)


async def test_a_cancelled_order_bigger_than_a_bin_goes_back_to_the_shelves(
    services: Services,
) -> None:
    """700 bags picked from two full bins of 500 could not be cancelled: no one bin had room
    for all of them on the way back, so the cancel failed and the stock stayed reserved."""
    wms = services.warehouse
    await wms.put_away(WH, RICE, 500)
    await wms.put_away(WH, RICE, 500)
    reference = await place(services, 700, 0)
    assert reference is not None
    await pick(services, reference, whole=True)

    cancelled = await services.orders.advance(reference, OrderStatus.CANCELLED)

    assert cancelled.status is OrderStatus.CANCELLED
    shelves = await wms.stock(WH, RICE)
    assert sum(s.quantity for s in shelves) == 1000
    assert sum(s.quantity for s in await wms.stock(WH, RICE, dock=True)) == 1000
    assert {s.location_id for s in shelves} != {f"{WH}:dock"}
    await assert_agree(services)


async def test_an_order_brought_back_on_the_truck_is_shelved_once(services: Services) -> None:
    """Refused at the door, a dispatched order's goods come back: on the shelves once, not
    released and taken back both (the stock would count them twice)."""
    wms = services.warehouse
    await wms.put_away(WH, RICE, 20)
    reference = await place(services, 5, 0)
    assert reference is not None
    await pick(services, reference, whole=True)
    await services.orders.advance(reference, OrderStatus.DISPATCHED)

    await services.orders.advance(reference, OrderStatus.RETURNED)

    assert sum(s.quantity for s in await wms.stock(WH, RICE, dock=True)) == 20
    await assert_agree(services)
