"""A warehouse day on SQLite and PostgreSQL: receive, pick by the shortest walk, pack the order."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue import OutOfStockError
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.wms import (
    Departure,
    InsufficientStockError,
    OverPickError,
    PathPolicy,
    PickListStatus,
    WavePolicy,
)
from tests.support.warehouse import WH, lagos_with_racks

NGOZI = Phone("+2348030000001")
RICE = "RCE-LONG-25K"
OIL = "OIL-VEG-5L"


@pytest.fixture
async def services(any_database_url: str) -> AsyncIterator[Services]:
    built = await lagos_with_racks(any_database_url, aisles=3, bays=8, capacity=40)
    yield built
    await built.close()


async def place(services: Services, key: str, *lines: tuple[str, int]) -> str:
    order = await services.orders.place(
        PlaceOrder(
            customer=NGOZI,
            region=RegionCode.LAGOS,
            lines=tuple(CartLine(sku, qty) for sku, qty in lines),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key=key,
        )
    )
    return order.reference


async def test_received_goods_are_picked_and_the_order_is_packed(services: Services) -> None:
    wms = services.warehouse
    first = await wms.put_away(WH, RICE, 30)
    again = await wms.put_away(WH, RICE, 10)  # consolidated into the same bin
    assert again.location_id == first.location_id
    assert again.quantity == 40
    await wms.put_away(WH, RICE, 25)  # the bin is full: the next empty one
    await wms.put_away(WH, OIL, 12)
    reference = await place(services, "k-pick", (RICE, 45), (OIL, 2))

    pick = await wms.pick_list(WH, reference)
    assert (await services.orders.get(reference)).status is OrderStatus.PICKING
    assert sum(line.quantity for line in pick.lines if line.sku == RICE) == 45
    assert await wms.pick_list(WH, reference) == pick  # made once

    path, ordered = await wms.path(pick.id, PathPolicy.OPTIMAL)
    s_shape, _ = await wms.path(pick.id, PathPolicy.S_SHAPE)
    assert path.distance <= s_shape.distance
    assert sorted(line.position for line in ordered) == [line.position for line in pick.lines]

    for line in ordered:
        with pytest.raises(OverPickError):
            await wms.confirm_pick(pick.id, line.position, line.quantity + 1)
        done = await wms.confirm_pick(pick.id, line.position, line.quantity)
    assert done.status is PickListStatus.PICKED
    assert (await services.orders.get(reference)).status is OrderStatus.PACKED
    assert sum(s.quantity for s in await wms.stock(WH, RICE)) == 65 - 45
    assert sum(s.quantity for s in await wms.stock(WH, OIL)) == 10


async def test_a_second_order_cannot_be_promised_the_same_bin(services: Services) -> None:
    await services.warehouse.put_away(WH, OIL, 5)
    first = await place(services, "k-1", (OIL, 4))
    second = await place(services, "k-2", (OIL, 4))
    await services.warehouse.pick_list(WH, first)
    with pytest.raises(InsufficientStockError) as caught:
        await services.warehouse.pick_list(WH, second)
    assert caught.value.available == 1


async def test_waves_are_planned_by_departure_and_released_as_pick_lists(
    services: Services,
) -> None:
    await services.warehouse.put_away(WH, RICE, 40)
    await services.warehouse.put_away(WH, OIL, 40)
    now = services.clock.now()
    early = await place(services, "k-early", (RICE, 1), (OIL, 1))
    late = await place(services, "k-late", (RICE, 1))
    plan = await services.warehouse.plan_waves(
        {
            early: Departure("R-1", now + timedelta(hours=3)),
            late: Departure("R-2", now + timedelta(hours=6)),
        },
        WavePolicy(cutoff_minutes=60, pickers=1, lines_per_picker=2),
    )
    assert [w.orders for w in plan.waves] == [(early,), (late,)]
    picks = await services.warehouse.release_wave(WH, plan, 1)
    assert [p.order_reference for p in picks] == [early]
    assert picks[0].wave is not None
    second = await services.warehouse.release_wave(WH, plan, 2)
    path, lines = await services.warehouse.batch_path([picks[0].id, second[0].id])
    assert sorted((pick_id, line.sku) for pick_id, line in lines) == sorted(
        [(picks[0].id, RICE), (picks[0].id, OIL), (second[0].id, RICE)]
    )
    assert path.distance > 0


_keys = iter(range(1_000_000))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["receive", "order"]), st.integers(1, 9), st.integers(0, 10)),
        min_size=1,
        max_size=6,
    )
)
async def test_bin_stock_never_goes_negative_however_picks_are_confirmed(
    services: Services, steps: list[tuple[str, int, int]]
) -> None:
    """Goods arrive and orders are picked in any mix, pickers confirming any quantity: every
    bin stays at zero or more, and the bins hold exactly what came in less what was picked."""
    wms = services.warehouse
    before = sum(s.quantity for s in await wms.stock(WH, OIL))
    moved = 0
    for kind, quantity, confirm in steps:
        if kind == "receive":
            await wms.put_away(WH, OIL, quantity)
            moved += quantity
            continue
        try:
            reference = await place(services, f"k-prop-{next(_keys)}", (OIL, quantity))
        except OutOfStockError:  # the catalogue's reservations ran out: nothing to pick
            continue
        try:
            pick = await wms.pick_list(WH, reference)
        except InsufficientStockError:
            continue
        for line in pick.lines:
            try:
                await wms.confirm_pick(pick.id, line.position, confirm)
                moved -= confirm
            except (OverPickError, ValueError):
                pass
    async with services.db.transaction() as s:
        lowest = await s.scalar(text("SELECT MIN(quantity) FROM wms_stock"))
    assert lowest is None or lowest >= 0
    assert sum(s.quantity for s in await wms.stock(WH, OIL)) == before + moved


async def test_the_last_pick_confirmed_as_the_connection_drops_still_packs_the_order(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The picker confirms the last line: the bins and the pick list commit, and the connection
    drops before the order's own write (a failover; a gateway killed there leaves the same).
    Confirmed again, the line is refused as picked: the order must not stay in picking for good,
    never routed, never sent."""
    wms = services.warehouse
    await wms.put_away(WH, RICE, 30)
    reference = await place(services, "k-pick-drop", (RICE, 5))
    pick = await wms.pick_list(WH, reference)
    [line] = pick.lines

    async def connection_dropped(*args: Any, **kwargs: Any) -> None:
        raise ConnectionResetError("connection to the database lost")

    monkeypatch.setattr(services.orders, "advance", connection_dropped)
    with contextlib.suppress(ConnectionResetError):
        await wms.confirm_pick(pick.id, line.position, line.quantity)
    monkeypatch.undo()
    with pytest.raises(OverPickError):
        await wms.confirm_pick(pick.id, line.position, line.quantity)  # the scanner's retry

    assert (await services.orders.get(reference)).status is OrderStatus.PACKED
    assert sum(s.quantity for s in await wms.stock(WH, RICE)) == 30 - 5


async def test_a_pick_list_made_as_the_connection_drops_still_puts_the_order_in_picking(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wave makes the order's pick list and the connection drops before the order's own
    write. Asked again the pick list is the same one, and once its lines are picked the order
    is packed: not left confirmed for good, never routed."""
    wms = services.warehouse
    await wms.put_away(WH, RICE, 30)
    reference = await place(services, "k-list-drop", (RICE, 5))

    async def connection_dropped(*args: Any, **kwargs: Any) -> None:
        raise ConnectionResetError("connection to the database lost")

    monkeypatch.setattr(services.orders, "advance", connection_dropped)
    with contextlib.suppress(ConnectionResetError):
        await wms.pick_list(WH, reference)
    monkeypatch.undo()
    pick = await wms.pick_list(WH, reference)  # the wave's retry
    for line in pick.lines:
        await wms.confirm_pick(pick.id, line.position, line.quantity)

    assert (await services.orders.get(reference)).status is OrderStatus.PACKED
