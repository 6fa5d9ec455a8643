"""Orders on SQLite and on PostgreSQL: idempotent, never oversold, money exact to the cent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue import OutOfStockError
from engines.fulfilment.adapters import SqlOrderDesk
from engines.fulfilment.effects import SqlEffectLog
from engines.orders import (
    CartLine,
    InvalidTransitionError,
    Order,
    OrderStatus,
    PaymentMethod,
    PlaceOrder,
)
from engines.orders.repository import SqlOrderRepository
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


def order_of(sku: str, quantity: int, key: str, customer: Phone = NGOZI) -> PlaceOrder:
    return PlaceOrder(
        customer=customer,
        region=RegionCode.LAGOS,
        lines=(CartLine(sku, quantity),),
        payment_method=PaymentMethod.ON_DELIVERY,
        idempotency_key=key,
    )


async def test_the_same_idempotency_key_places_one_order(services: Services) -> None:
    first = await services.orders.place(order_of("NDL-INDO-CHK", 3, "k-1"))
    again = await services.orders.place(order_of("NDL-INDO-CHK", 3, "k-1"))
    assert again.reference == first.reference
    assert len(await services.orders.recent(NGOZI)) == 1
    assert await services.catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == 200 - 3


async def test_order_totals_come_back_exact_to_the_minor_unit(services: Services) -> None:
    placed = await services.orders.place(order_of("NDL-INDO-CHK", 3, "k-exact"))
    loaded = await services.orders.get(placed.reference)
    assert loaded.total.amount == Decimal("26993.25")
    assert loaded.tax.amount == Decimal("1883.25")
    assert loaded.lines[0].discount.amount == Decimal("2790.00")


async def test_concurrent_orders_never_reserve_more_than_is_on_hand(services: Services) -> None:
    async with services.db.transaction() as s:
        await s.execute(text("UPDATE stock_levels SET on_hand = 10 WHERE sku = 'SNK-SWEE-50'"))
    results = await asyncio.gather(
        *(services.orders.place(order_of("SNK-SWEE-50", 1, f"c-{i}")) for i in range(16)),
        return_exceptions=True,
    )
    placed = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(placed) == 10
    assert all(isinstance(r, OutOfStockError) for r in refused)
    assert await services.catalogue.available(RegionCode.LAGOS, "SNK-SWEE-50") == 0


async def test_placing_an_order_writes_its_events_in_the_same_transaction(
    services: Services,
) -> None:
    with pytest.raises(OutOfStockError):
        await services.orders.place(order_of("NDL-INDO-CHK", 5000, "too-many"))
    assert await services.relay.unsent() == 0
    await services.orders.place(order_of("NDL-INDO-CHK", 2, "ok"))
    assert await services.relay.unsent() == 2  # OrderPlaced + StockReserved


async def test_a_double_tapped_cancel_releases_the_stock_once(services: Services) -> None:
    # another retailer's order holds cartons of the same noodles
    await services.orders.place(order_of("NDL-INDO-CHK", 5, "k-other", Phone("+2348030000002")))
    placed = await services.orders.place(order_of("NDL-INDO-CHK", 3, "k-twice"))
    results = await asyncio.gather(
        *(services.orders.advance(placed.reference, OrderStatus.CANCELLED) for _ in range(4)),
        return_exceptions=True,
    )
    moved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(moved) == 1
    assert all(isinstance(r, InvalidTransitionError) for r in refused), refused
    # the 3 reserved cartons came back once: the other order's hold was not freed with them
    assert await services.catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == 200 - 5
    async with services.db.transaction() as s:
        changed = await s.scalar(
            text("SELECT count(*) FROM outbox WHERE event_type = 'OrderStatusChanged'")
        )
    assert changed == 1


async def test_two_replicas_sweeping_lapsed_holds_at_once_cancel_each_order_once(
    services: Services,
) -> None:
    """Every gateway replica runs the reservation sweeper: two passes at once both find the
    same lapsed hold. It is cancelled and its stock released once, and neither pass fails."""
    await services.orders.place(order_of("NDL-INDO-CHK", 5, "k-kept", Phone("+2348030000002")))
    unpaid = await services.orders.place(
        replace(order_of("NDL-INDO-CHK", 3, "k-lapsing"), reservation_ttl=timedelta(minutes=15))
    )
    assert isinstance(services.clock, SteppedClock)
    services.clock.advance(16 * 60)
    passes = await asyncio.gather(
        services.orders.expire_reservations(), services.orders.expire_reservations()
    )
    assert sorted(ref for expired in passes for ref in expired) == [unpaid.reference]
    assert (await services.orders.get(unpaid.reference)).status is OrderStatus.CANCELLED
    assert await services.catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == 200 - 5


async def test_an_order_paid_as_its_lapsed_hold_is_swept_stays_placed_and_paid(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Her M-Pesa money lands between the sweeper reading the lapsed hold and cancelling it:
    the order she paid for stays, its stock held, not cancelled as unpaid (and refunded)."""
    unpaid = await services.orders.place(
        replace(
            order_of("NDL-INDO-CHK", 3, "k-paid-late"),
            payment_method=PaymentMethod.MPESA,
            reservation_ttl=timedelta(minutes=15),
        )
    )
    assert isinstance(services.clock, SteppedClock)
    services.clock.advance(16 * 60)
    read = SqlOrderRepository.lapsed_holds

    async def paid_meanwhile(self: SqlOrderRepository, *args: Any) -> list[Order]:
        found = await read(self, *args)
        async with services.db.transaction() as s:  # the payments engine, as the money lands
            assert await SqlOrderRepository(s).mark_paid(unpaid.reference, services.clock.now())
        return found

    monkeypatch.setattr(SqlOrderRepository, "lapsed_holds", paid_meanwhile)
    assert await services.orders.expire_reservations() == []

    kept = await services.orders.get(unpaid.reference)
    assert (kept.status, kept.paid_at is not None) == (OrderStatus.PLACED, True)
    assert await services.catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == 200 - 3


async def test_the_workflows_unwind_and_a_cancel_at_the_same_moment_both_end_cancelled(
    services: Services,
) -> None:
    """The order workflow's compensation cancels the order while the checkout cancels it too
    (the credit line refused it): the stock comes back once, and the compensation, which must
    finish for the customer to be told, does not fail."""
    await services.orders.place(order_of("NDL-INDO-CHK", 5, "k-held", Phone("+2348030000002")))
    order = await services.orders.place(order_of("NDL-INDO-CHK", 3, "k-unwound"))
    desk = SqlOrderDesk(services.orders, SqlEffectLog(services.db, services.clock))
    read = services.orders.advance_in

    async def cancelled_meanwhile(*args: Any, **kwargs: Any) -> Order:
        # The checkout's cancel commits between the unwind reading the order and moving it.
        await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="credit")
        return await read(*args, **kwargs)

    services.orders.advance_in = cancelled_meanwhile  # type: ignore[method-assign]
    unwound = await desk.cancel_and_release(
        order.reference, reason="payment_failed", key=f"order-{order.reference}:cancel_order"
    )
    assert unwound.status == "cancelled"
    assert await services.catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == 200 - 5


async def test_a_workflow_step_someone_else_took_at_the_same_moment_is_done_not_failed(
    services: Services,
) -> None:
    """The workflow moves the order to a status another engine set at that very moment: the
    step is done (one move, one event), not a failure that would unwind the order."""
    order = await services.orders.place(order_of("NDL-INDO-CHK", 3, "k-stepped"))
    desk = SqlOrderDesk(services.orders, SqlEffectLog(services.db, services.clock))
    read = services.orders.advance_in

    async def confirmed_meanwhile(*args: Any, **kwargs: Any) -> Order:
        await services.orders.advance(order.reference, OrderStatus.CONFIRMED)
        return await read(*args, **kwargs)

    services.orders.advance_in = confirmed_meanwhile  # type: ignore[method-assign]
    moved = await desk.advance(
        order.reference, "confirmed", key=f"order-{order.reference}:advance_order:confirmed"
    )
    assert moved.status == "confirmed"
    async with services.db.transaction() as s:
        changed = await s.scalar(
            text("SELECT count(*) FROM outbox WHERE event_type = 'OrderStatusChanged'")
        )
    assert changed == 1
