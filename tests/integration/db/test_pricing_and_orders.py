"""Customer prices, vouchers, price locks, reservations and the order lifecycle, on SQLite and
PostgreSQL: what a retailer is charged, what the warehouse holds, and an event for each change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.app.bootstrap import Services, build_services
from core.bus.tables import outbox
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.adapters import SqlOrderDesk
from engines.fulfilment.effects import SqlEffectLog
from engines.orders import (
    CartLine,
    InvalidFulfilmentError,
    InvalidTransitionError,
    Order,
    OrderStatus,
    PaymentMethod,
    PlaceOrder,
    ReservationExpiredError,
    RestPolicy,
)
from engines.pricing import (
    InvalidVoucherError,
    PriceLockExpiredError,
    PriceLockMismatchError,
    PriceLockUsedError,
    PriceSource,
    PromotionExhaustedError,
    VoucherProblem,
)
from engines.pricing.tables import (
    contract_prices,
    customer_terms,
    delivery_zones,
    price_locks,
    promotions,
    segment_prices,
)
from tests.support.demo_template import seed_demo

NGOZI = Phone("+2348030000001")
BOLA = Phone("+2348030000002")
ADA = Phone("+2348030000003")  # not in the demo: pricing knows nothing of her yet
LAGOS = RegionCode.LAGOS
S = OrderStatus
SOAP = "CAR-SOAP-150"  # NGN 37,500 a carton, no demo promotion
PASTE = "CAR-PAST-100"  # the same category (care)
INDOMIE = "NDL-INDO-CHK"  # NGN 9,300, Noodle week from 3


@pytest.fixture
async def services(any_database_url: str) -> AsyncIterator[Services]:
    clock = SteppedClock()
    settings = Settings(env="test", database_url=any_database_url, _env_file=None)
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    yield built
    await built.close()


def clock_of(services: Services) -> SteppedClock:
    assert isinstance(services.clock, SteppedClock)
    return services.clock


def order_of(
    *lines: tuple[str, int],
    key: str,
    customer: Phone = NGOZI,
    **extra: object,
) -> PlaceOrder:
    return PlaceOrder(
        customer=customer,
        region=LAGOS,
        lines=tuple(CartLine(sku, q) for sku, q in lines),
        payment_method=PaymentMethod.ON_DELIVERY,
        idempotency_key=key,
        **extra,  # type: ignore[arg-type]
    )


async def available(services: Services, sku: str) -> int:
    return await services.catalogue.available(LAGOS, sku)


async def events_of(services: Services, order: Order) -> list[str]:
    async with services.db.transaction() as s:
        rows = await s.execute(select(outbox.c.event_type, outbox.c.envelope).order_by(outbox.c.id))
        return [
            r.event_type
            for r in rows
            if r.envelope["data"].get("reference") == order.reference
            or r.envelope["data"].get("order_reference") == order.reference
        ]


async def insert(services: Services, table: object, *rows: dict[str, object]) -> None:
    async with services.db.transaction() as s:
        await s.execute(table.insert(), list(rows))  # type: ignore[attr-defined]
    services.pricing.forget()


# --- customer prices ------------------------------------------------------------------------


async def test_segment_contract_and_zone_price_a_customer_from_the_database(
    services: Services,
) -> None:
    now = services.clock.now()
    await insert(
        services,
        segment_prices,
        {
            "region": "lagos",
            "segment": "wholesale",
            "sku": SOAP,
            "currency": "NGN",
            "unit_price": Decimal(36_000),
            "tiers": [],
        },
    )
    await insert(
        services,
        contract_prices,
        {
            "id": "C-ADA-1",
            "region": "lagos",
            "customer": ADA.e164,
            "sku": INDOMIE,
            "unit_price": Decimal(8_800),
            "valid_from": now - timedelta(days=1),
            "valid_to": now + timedelta(days=30),
        },
    )
    await insert(
        services,
        delivery_zones,
        {
            "region": "lagos",
            "id": "ikeja",
            "names": {"en": "Ikeja"},
            "fee": Decimal(1_500),
            "free_from": None,
        },
    )
    await insert(
        services,
        customer_terms,
        {"customer": ADA.e164, "segment": "wholesale", "zone_id": "ikeja"},
    )

    bola = await services.pricing.quote(LAGOS, [(SOAP, 1), (INDOMIE, 1)], customer=ADA)
    ngozi = await services.pricing.quote(LAGOS, [(SOAP, 1), (INDOMIE, 1)], customer=NGOZI)

    assert [(ln.price_source, ln.unit_price.amount) for ln in bola.lines] == [
        (PriceSource.SEGMENT, Decimal(36_000)),
        (PriceSource.CONTRACT, Decimal(8_800)),
    ]
    assert bola.lines[1].contract_id == "C-ADA-1"
    assert bola.delivery_fee is not None
    assert bola.delivery_fee.amount == Decimal(1_500)
    assert bola.total.amount == Decimal("49772.50")  # (36,000 + 8,800 + 1,500) x 1.075
    assert [ln.price_source for ln in ngozi.lines] == [PriceSource.LIST, PriceSource.LIST]
    assert ngozi.total.amount == Decimal("50310.00")  # (37,500 + 9,300) x 1.075

    browse = await services.pricing.list_prices(LAGOS, [SOAP, INDOMIE], customer=ADA)
    assert {sku: m.amount for sku, m in browse.items()} == {SOAP: 36_000, INDOMIE: 8_800}
    listed = await services.pricing.list_prices(LAGOS, [SOAP, INDOMIE])
    assert {sku: m.amount for sku, m in listed.items()} == {SOAP: 37_500, INDOMIE: 9_300}

    order = await services.orders.place(order_of((SOAP, 1), (INDOMIE, 1), key="b", customer=ADA))
    assert order.total.amount == Decimal("49772.50")
    assert order.delivery_fee is not None
    assert order.delivery_fee.amount == Decimal(1_500)
    loaded = await services.orders.get(order.reference)
    assert loaded.lines[1].pricing is not None
    assert loaded.lines[1].pricing["source"] == "contract"


# --- vouchers, per-customer limits, budgets ------------------------------------------------


async def add_voucher(services: Services, **extra: object) -> None:
    now = services.clock.now()
    row: dict[str, object] = {
        "id": "WELCOME",
        "region": "lagos",
        "names": {"en": "Welcome"},
        "percent_off": Decimal(10),
        "sku": SOAP,
        "category_id": None,
        "min_quantity": 1,
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=1),
        "code": "WELCOME10",
        "exclusive": False,
    }
    await insert(services, promotions, row | extra)


async def test_a_voucher_limited_to_one_use_per_customer_works_once(services: Services) -> None:
    await add_voucher(services, per_customer_limit=1)

    first = await services.orders.place(order_of((SOAP, 1), key="v1", voucher="welcome10"))

    assert first.discount.amount == Decimal(3_750)
    assert first.voucher == "WELCOME10"
    with pytest.raises(InvalidVoucherError) as refused:
        await services.pricing.quote(LAGOS, [(SOAP, 1)], customer=NGOZI, voucher="WELCOME10")
    assert refused.value.problem is VoucherProblem.USED_UP
    # Another customer still may.
    other = await services.pricing.quote(LAGOS, [(SOAP, 1)], customer=BOLA, voucher="WELCOME10")
    assert other.discount.amount == Decimal(3_750)


async def test_a_budget_runs_out_and_is_never_overspent(services: Services) -> None:
    await add_voucher(services, budget=Decimal(5_000))

    first = await services.orders.place(order_of((SOAP, 1), key="b1", voucher="WELCOME10"))
    second_quote = await services.pricing.quote(
        LAGOS, [(SOAP, 1)], customer=BOLA, voucher="WELCOME10"
    )
    second = await services.orders.place(
        order_of((SOAP, 1), key="b2", customer=BOLA, voucher="WELCOME10")
    )

    assert first.discount.amount == Decimal(3_750)
    assert second_quote.discount.amount == Decimal(1_250)  # what is left of the budget
    assert second.discount.amount == Decimal(1_250)
    with pytest.raises(InvalidVoucherError) as refused:
        await services.pricing.quote(LAGOS, [(SOAP, 1)], customer=NGOZI, voucher="WELCOME10")
    assert refused.value.problem is VoucherProblem.USED_UP


async def test_a_cancelled_order_gives_its_one_use_of_a_promo_code_back(
    services: Services,
) -> None:
    """Credit refused, unpaid and expired or cancelled by the retailer: the code is theirs again."""
    await add_voucher(services, per_customer_limit=1)
    refused_credit = await services.orders.place(order_of((SOAP, 1), key="c1", voucher="WELCOME10"))
    await services.orders.advance(refused_credit.reference, S.CANCELLED, reason="credit")

    unpaid = await services.orders.place(
        order_of((SOAP, 1), key="c2", voucher="WELCOME10", reservation_ttl=timedelta(minutes=5))
    )
    clock_of(services).advance(6 * 60)
    assert await services.orders.expire_reservations() == [unpaid.reference]

    again = await services.orders.place(order_of((SOAP, 1), key="c3", voucher="WELCOME10"))
    assert again.discount.amount == Decimal(3_750)
    with pytest.raises(InvalidVoucherError) as refused:
        await services.pricing.quote(LAGOS, [(SOAP, 1)], customer=NGOZI, voucher="WELCOME10")
    assert refused.value.problem is VoucherProblem.USED_UP


async def test_a_cancellation_processed_twice_gives_the_budget_back_once(
    services: Services,
) -> None:
    await add_voucher(services, budget=Decimal(5_000))
    first = await services.orders.place(order_of((SOAP, 1), key="d1", voucher="WELCOME10"))

    results = await asyncio.gather(
        services.orders.advance(first.reference, S.CANCELLED),
        services.orders.advance(first.reference, S.CANCELLED),
        return_exceptions=True,
    )

    assert any(isinstance(r, Order) for r in results)
    async with services.db.transaction() as s:  # and once more, as a retried cancellation
        await services.pricing.give_back(s, first.id)
    second = await services.orders.place(
        order_of((SOAP, 1), key="d2", customer=BOLA, voucher="WELCOME10")
    )
    assert second.discount.amount == Decimal(3_750)
    # 1,250 of the 5,000 is left, not 5,000 as if 3,750 had come back twice.
    third = await services.pricing.quote(LAGOS, [(SOAP, 1)], customer=ADA, voucher="WELCOME10")
    assert third.discount.amount == Decimal(1_250)


async def test_two_orders_at_once_cannot_use_a_code_more_than_it_allows(
    services: Services,
) -> None:
    """The first two orders of a code, at the same moment: the budget has room for both, and
    Ngozi's one use goes to one of her two orders; the other is told the code is used up."""
    await add_voucher(
        services, per_customer_limit=1, budget=Decimal(10_000), sku=None, category_id="care"
    )

    # Two products, so that the stock's row locks do not take turns for the budget's.
    both = await asyncio.gather(
        services.orders.place(order_of((SOAP, 1), key="r1", voucher="WELCOME10")),
        services.orders.place(order_of((PASTE, 1), key="r2", customer=BOLA, voucher="WELCOME10")),
    )
    assert [o.discount.amount > 0 for o in both] == [True, True]
    again = await asyncio.gather(
        services.orders.place(order_of((SOAP, 1), key="r3", customer=ADA, voucher="WELCOME10")),
        services.orders.place(order_of((SOAP, 1), key="r4", customer=ADA, voucher="WELCOME10")),
        return_exceptions=True,
    )

    assert sorted(type(r).__name__ for r in again) == ["Order", "PromotionExhaustedError"]
    with pytest.raises(InvalidVoucherError) as refused:
        await services.pricing.quote(LAGOS, [(SOAP, 1)], customer=NGOZI, voucher="WELCOME10")
    assert refused.value.problem is VoucherProblem.USED_UP


async def test_a_locked_quote_cannot_overspend_a_budget_spent_meanwhile(
    services: Services,
) -> None:
    await add_voucher(services, budget=Decimal(4_000))
    lock = await services.pricing.lock(LAGOS, [(SOAP, 1)], customer=NGOZI, voucher="WELCOME10")
    await services.orders.place(order_of((SOAP, 1), key="x", customer=BOLA, voucher="WELCOME10"))

    with pytest.raises(PromotionExhaustedError):
        await services.orders.place(order_of((SOAP, 1), key="y", price_lock_id=lock.id))
    assert await available(services, SOAP) == 200 + 37 * 6 - 1  # only Bola's carton is held


# --- price locks ----------------------------------------------------------------------------


async def test_an_order_from_a_locked_quote_gets_the_locked_price(services: Services) -> None:
    lock = await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=NGOZI, minutes=10)
    # The promotion ends and prices go up after the lock was given.
    async with services.db.transaction() as s:
        await s.execute(promotions.delete())
    services.pricing.forget()
    clock_of(services).advance(9 * 60)
    fresh = await services.pricing.quote(LAGOS, [(INDOMIE, 3)], customer=NGOZI)

    order = await services.orders.place(order_of((INDOMIE, 3), key="lk", price_lock_id=lock.id))

    assert fresh.total.amount == Decimal("29992.50")  # no promotion any more
    assert order.total.amount == Decimal("26993.25") == lock.quote.total.amount
    assert order.price_lock_id == lock.id
    assert order.lines[0].discount.amount == Decimal(2_790)
    # The same order again is the same order; another order needs a fresh quote.
    again = await services.orders.place(order_of((INDOMIE, 3), key="lk", price_lock_id=lock.id))
    assert again.reference == order.reference
    with pytest.raises(PriceLockUsedError):
        await services.orders.place(order_of((INDOMIE, 3), key="lk-2", price_lock_id=lock.id))
    assert len(await services.orders.recent(NGOZI)) == 1


async def test_the_same_quote_locked_again_is_the_same_lock_until_used_or_changed(
    services: Services,
) -> None:
    lock = await services.pricing.lock(LAGOS, [(INDOMIE, 3), (SOAP, 1)], customer=NGOZI, reuse=True)
    again = await services.pricing.lock(
        LAGOS, [(INDOMIE, 3), (SOAP, 1)], customer=NGOZI, reuse=True
    )
    other = await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=NGOZI, reuse=True)
    hers = await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=BOLA, reuse=True)
    assert again.id == lock.id
    assert again.expires_at == lock.expires_at
    assert len({lock.id, other.id, hers.id}) == 3

    await services.orders.place(
        order_of((INDOMIE, 3), (SOAP, 1), key="reused", price_lock_id=again.id)
    )
    fresh = await services.pricing.lock(
        LAGOS, [(INDOMIE, 3), (SOAP, 1)], customer=NGOZI, reuse=True
    )
    clock_of(services).advance(15 * 60)
    later = await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=NGOZI, reuse=True)
    assert fresh.id != lock.id  # a lock serves one order
    assert later.id != other.id  # nor outlives its time
    async with services.db.transaction() as s:
        assert len((await s.execute(select(price_locks.c.id))).all()) == 5


async def test_a_checkouts_lock_is_never_handed_to_an_app_quote(services: Services) -> None:
    """Ngozi's USSD checkout locked her cart; her app, quoting the same cart, was handed that
    very lock, so when the USSD order was placed with it the app's placeOrder was told the lock
    was used. Only a lock a reusing quote made is reused: both orders are placed."""
    checkout = await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=NGOZI)
    app = await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=NGOZI, reuse=True)
    assert app.id != checkout.id
    assert (
        await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=NGOZI, reuse=True)
    ).id == app.id

    ussd = await services.orders.place(
        order_of((INDOMIE, 3), key="ussd", price_lock_id=checkout.id)
    )
    placed = await services.orders.place(order_of((INDOMIE, 3), key="app", price_lock_id=app.id))

    assert ussd.reference != placed.reference
    assert placed.total == ussd.total == app.quote.total
    assert len(await services.orders.recent(NGOZI)) == 2


async def test_an_expired_price_lock_is_refused_with_its_expiry(services: Services) -> None:
    lock = await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=NGOZI, minutes=10)
    clock_of(services).advance(10 * 60)

    with pytest.raises(PriceLockExpiredError) as refused:
        await services.orders.place(order_of((INDOMIE, 3), key="late", price_lock_id=lock.id))

    assert refused.value.expired_at == lock.expires_at
    assert "expired" in str(refused.value)
    assert await available(services, INDOMIE) == 200
    assert await services.orders.recent(NGOZI) == []


async def test_a_price_lock_is_only_for_its_cart_and_customer(services: Services) -> None:
    lock = await services.pricing.lock(LAGOS, [(INDOMIE, 3)], customer=NGOZI)

    with pytest.raises(PriceLockMismatchError):
        await services.orders.place(order_of((INDOMIE, 4), key="m1", price_lock_id=lock.id))
    with pytest.raises(PriceLockMismatchError):
        await services.orders.place(
            order_of((INDOMIE, 3), key="m2", customer=BOLA, price_lock_id=lock.id)
        )


# --- reservations and the lifecycle ---------------------------------------------------------


async def test_an_unpaid_reservation_expires_and_releases_its_stock(services: Services) -> None:
    order = await services.orders.place(
        order_of((INDOMIE, 5), key="r1", reservation_ttl=timedelta(minutes=30))
    )
    kept = await services.orders.place(order_of((INDOMIE, 2), key="r2"))  # no expiry
    assert await available(services, INDOMIE) == 193

    clock_of(services).advance(29 * 60)
    assert await services.orders.expire_reservations() == []
    clock_of(services).advance(60)
    assert services.reservations is not None  # what the running gateway does every 30 s
    assert await services.reservations.sweep() == [order.reference]
    assert await services.orders.expire_reservations() == []  # once

    assert (await services.orders.get(order.reference)).status is OrderStatus.CANCELLED
    assert (await services.orders.get(kept.reference)).status is OrderStatus.PLACED
    assert await available(services, INDOMIE) == 198
    assert await events_of(services, order) == [
        "OrderPlaced",
        "StockReserved",
        "StockReleased",
        "OrderReservationExpired",
        "OrderStatusChanged",
    ]


async def test_confirming_in_time_keeps_the_stock_and_late_is_refused(
    services: Services,
) -> None:
    paid = await services.orders.place(
        order_of((INDOMIE, 5), key="p1", reservation_ttl=timedelta(minutes=30))
    )
    late = await services.orders.place(
        order_of((INDOMIE, 4), key="p2", reservation_ttl=timedelta(minutes=30))
    )
    confirmed = await services.orders.advance(paid.reference, OrderStatus.CONFIRMED)
    clock_of(services).advance(31 * 60)

    with pytest.raises(ReservationExpiredError):
        await services.orders.advance(late.reference, OrderStatus.CONFIRMED)

    assert confirmed.reserved_until is None
    assert await services.orders.expire_reservations() == []
    assert (await services.orders.get(paid.reference)).status is OrderStatus.CONFIRMED
    assert (await services.orders.get(late.reference)).status is OrderStatus.CANCELLED
    assert await available(services, INDOMIE) == 195


async def walk(services: Services, order: Order, *steps: OrderStatus) -> Order:
    for step in steps:
        order = await services.orders.advance(order.reference, step)
    return order


TO_DISPATCH = (S.CONFIRMED, S.PICKING, S.PACKED, S.DISPATCHED)


async def test_a_full_delivery_ships_the_stock_and_a_return_brings_it_back(
    services: Services,
) -> None:
    order = await services.orders.place(order_of((INDOMIE, 3), (SOAP, 2), key="f"))
    await walk(services, order, *TO_DISPATCH)

    delivered = await services.orders.advance(order.reference, S.DELIVERED)

    assert [ln.delivered_quantity for ln in delivered.lines] == [3, 2]
    assert delivered.total == order.total
    assert await available(services, INDOMIE) == 197  # shipped: off the shelf for good
    with pytest.raises(InvalidTransitionError):
        await services.orders.advance(order.reference, S.CANCELLED)

    returned = await services.orders.advance(order.reference, S.RETURNED)

    assert returned.status is S.RETURNED
    assert await available(services, INDOMIE) == 200
    assert await available(services, SOAP) == 200 + 37 * 6
    assert await events_of(services, order) == [
        "OrderPlaced",
        "StockReserved",
        "StockReserved",
        *["OrderStatusChanged"] * 4,
        "OrderStatusChanged",
        "OrderDelivered",
        "StockShipped",
        "StockShipped",
        "OrderStatusChanged",
    ]


async def test_cancelling_releases_the_stock_and_illegal_moves_are_refused(
    services: Services,
) -> None:
    order = await services.orders.place(order_of((INDOMIE, 4), key="c"))
    with pytest.raises(InvalidTransitionError):
        await services.orders.advance(order.reference, S.PACKED)
    with pytest.raises(InvalidTransitionError):
        await services.orders.deliver(order.reference)
    await walk(services, order, S.CONFIRMED, S.PICKING)

    cancelled = await services.orders.advance(order.reference, S.CANCELLED)

    assert cancelled.status is S.CANCELLED
    assert await available(services, INDOMIE) == 200
    with pytest.raises(InvalidTransitionError):
        await services.orders.advance(order.reference, S.CONFIRMED)
    assert await available(services, INDOMIE) == 200


async def test_a_partial_delivery_releases_the_rest_and_charges_only_what_arrived(
    services: Services,
) -> None:
    order = await services.orders.place(order_of((INDOMIE, 4), (SOAP, 2), key="pd"))
    await walk(services, order, *TO_DISPATCH)

    done = await services.orders.deliver(order.reference, {INDOMIE: 3, SOAP: 0})

    assert [(ln.sku, ln.delivered_quantity) for ln in done.lines] == [(INDOMIE, 3), (SOAP, 0)]
    # 3 of 4 noodles at 9,300 with their share of the 10 % (3,720 x 3/4 = 2,790), VAT 7.5 %.
    assert done.subtotal.amount == Decimal(27_900)
    assert done.discount.amount == Decimal(2_790)
    assert done.total.amount == Decimal("26993.25")
    assert await available(services, INDOMIE) == 200 - 3
    assert await available(services, SOAP) == 200 + 37 * 6
    again = await services.orders.get(order.reference)
    assert again.total.amount == Decimal("26993.25")
    assert [ln.delivered_quantity for ln in again.lines] == [3, 0]
    with pytest.raises(InvalidTransitionError):
        await services.orders.deliver(order.reference)


async def test_a_partial_delivery_can_back_order_the_rest_at_the_same_prices(
    services: Services,
) -> None:
    order = await services.orders.place(order_of((INDOMIE, 4), (SOAP, 2), key="bo"))
    await walk(services, order, *TO_DISPATCH)

    await services.orders.deliver(order.reference, {INDOMIE: 1}, rest=RestPolicy.BACKORDER)

    recent = await services.orders.recent(NGOZI)
    back = next(o for o in recent if o.back_order_of == order.id)
    assert back.status is S.PLACED
    assert [
        (ln.sku, ln.quantity, ln.unit_price.amount, ln.discount.amount) for ln in back.lines
    ] == [(INDOMIE, 3, Decimal(9_300), Decimal(2_790))]
    assert back.total.amount == Decimal("26993.25")
    # The rest stays reserved for the back-order; only one carton left the shelf.
    assert await available(services, INDOMIE) == 200 - 4
    assert await available(services, SOAP) == 200 + 37 * 6 - 2
    cancelled = await services.orders.advance(back.reference, S.CANCELLED)
    assert cancelled.status is S.CANCELLED
    assert await available(services, INDOMIE) == 200 - 1


async def test_a_delivery_of_more_than_was_ordered_is_refused(services: Services) -> None:
    order = await services.orders.place(order_of((INDOMIE, 2), key="over"))
    await walk(services, order, *TO_DISPATCH)

    with pytest.raises(InvalidFulfilmentError):
        await services.orders.deliver(order.reference, {INDOMIE: 3})
    with pytest.raises(InvalidFulfilmentError):
        await services.orders.deliver(order.reference, {SOAP: 1})

    assert (await services.orders.get(order.reference)).status is S.DISPATCHED
    assert await available(services, INDOMIE) == 198


async def test_the_workflows_unpaid_cancel_releases_the_orders_stock_once(
    services: Services,
) -> None:
    """Cancelling releases the hold (OrderService); the workflow's desk must not release again,
    or it frees stock other orders hold. An order someone else cancelled has nothing left."""
    desk = SqlOrderDesk(services.orders, SqlEffectLog(services.db, services.clock))
    unpaid = await services.orders.place(order_of((INDOMIE, 5), key="w1"))
    other = await services.orders.place(order_of((INDOMIE, 7), key="w2", customer=BOLA))
    cancelled_by_operator = await services.orders.place(order_of((INDOMIE, 3), key="w3"))
    await services.orders.advance(cancelled_by_operator.reference, S.CANCELLED)
    assert await available(services, INDOMIE) == 200 - 5 - 7

    await desk.cancel_and_release(unpaid.reference, reason="payment_expired", key="cancel-w1")
    await desk.cancel_and_release(
        cancelled_by_operator.reference, reason="payment_expired", key="cancel-w3"
    )

    assert (await services.orders.get(unpaid.reference)).status is S.CANCELLED
    assert (await services.orders.get(other.reference)).status is S.PLACED
    assert await available(services, INDOMIE) == 200 - 7  # the other order still holds 7
