"""My orders, and what placing an order does to the stock the next customer is offered."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from tests.support.phone import UssdPhone

NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
LIFECYCLE = [
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.DISPATCHED,
    OrderStatus.DELIVERED,
]


async def place_orders(
    services: Services,
    clock: SteppedClock,
    customer: Phone,
    region: RegionCode,
    quantities: list[int],
    sku: str = "DRK-WATR-75",
) -> list[Order]:
    """Orders placed a minute apart, oldest first (as if over earlier sessions)."""
    placed = []
    for n, quantity in enumerate(quantities):
        clock.advance(60)
        placed.append(
            await services.orders.place(
                PlaceOrder(
                    customer=customer,
                    region=region,
                    lines=(CartLine(sku, quantity),),
                    payment_method=PaymentMethod.ON_DELIVERY,
                    idempotency_key=f"journey-{customer.e164}-{n}",
                    clear_cart=False,
                )
            )
        )
    return placed


async def test_my_orders_with_none_yet_says_so(ngozi: UssdPhone) -> None:
    await ngozi.dial()
    screen = await ngozi.choose("My orders")
    assert screen.text == "You have no orders yet."
    assert screen.options == [("0", "Back")]


async def test_my_orders_shows_the_last_five_newest_first_with_status(
    ngozi: UssdPhone, services: Services, clock: SteppedClock
) -> None:
    placed = await place_orders(services, clock, NGOZI, RegionCode.LAGOS, [1, 2, 3, 4, 5, 6])
    await services.orders.advance(placed[-1].reference, OrderStatus.CONFIRMED)
    await services.orders.advance(placed[-2].reference, OrderStatus.CANCELLED)

    await ngozi.dial()
    screen = await ngozi.choose("My orders")

    # Water at NGN 3,600 a pack plus 7.5% VAT: 6 packs NGN 23,220 ... 2 packs NGN 7,740.
    newest_first = [order.reference for order in reversed(placed[1:])]
    assert screen.lines[:6] == [
        "Your last orders (NGN):",
        f"{newest_first[0]} Confirmed 23,220",
        f"{newest_first[1]} Cancelled 19,350",
        f"{newest_first[2]} Placed 15,480",
        f"{newest_first[3]} Placed 11,610",
        f"{newest_first[4]} Placed 7,740",
    ]
    assert placed[0].reference not in screen
    assert screen.options == [("0", "Back")]


@pytest.mark.parametrize(
    ("who", "region", "sku", "status", "menu"),
    [
        (JUMA, RegionCode.NAIROBI, "DRK-WATR-75", OrderStatus.CONFIRMED, "Oda zangu"),
        (NGOZI, RegionCode.LAGOS, "NDL-INDO-CHK", OrderStatus.DISPATCHED, "My orders"),
    ],
    ids=["sw-confirmed", "en-on-the-way"],
)
async def test_my_orders_fits_five_orders_with_long_statuses_and_cents(
    client: TestClient[object, object],
    services: Services,
    clock: SteppedClock,
    who: Phone,
    region: RegionCode,
    sku: str,
    status: OrderStatus,
    menu: str,
) -> None:
    placed = await place_orders(services, clock, who, region, [7, 3, 7, 3, 7], sku)
    for order in placed:
        for step in LIFECYCLE[: LIFECYCLE.index(status) + 1]:
            await services.orders.advance(order.reference, step)
    phone = UssdPhone(client, who.e164)
    assert all(order.total.amount % 1 for order in placed)  # amounts with cents: the longest

    await phone.dial()
    screen = await phone.choose(menu)

    assert screen.kind == "CON"
    assert all(order.reference in screen for order in placed)


async def test_placing_an_order_reserves_stock_offered_to_the_next_session(
    ngozi: UssdPhone, services: Services
) -> None:
    await ngozi.dial()
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    prompt = await ngozi.choose("Indomie Chicken")
    before = int(re.findall(r"(\d+) in stock", prompt.body)[0])
    await ngozi.press("3")
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    done = await ngozi.choose("Confirm")
    assert done.kind == "END"

    await ngozi.dial()
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    prompt = await ngozi.choose("Indomie Chicken")

    assert f"{before - 3} in stock" in prompt
    assert await services.catalogue.available(RegionCode.LAGOS, "NDL-INDO-CHK") == before - 3


async def test_a_key_not_on_my_orders_shows_them_again_under_the_reason(
    ngozi: UssdPhone, services: Services, clock: SteppedClock
) -> None:
    """Five orders fill the screen; the line saying why pushes the oldest off, not the screen
    over its 182 characters ('service not available')."""
    placed = await place_orders(
        services, clock, NGOZI, RegionCode.LAGOS, [7, 3, 7, 3, 7], "NDL-INDO-CHK"
    )
    for order in placed:
        for step in LIFECYCLE[: LIFECYCLE.index(OrderStatus.DISPATCHED) + 1]:
            await services.orders.advance(order.reference, step)
    await ngozi.dial()
    await ngozi.choose("My orders")

    again = await ngozi.press("7")

    assert again.kind == "CON"
    assert again.lines[:2] == ["Please choose a number from the list.", "Your last orders (NGN):"]
    assert placed[-1].reference in again
    assert again.options == [("0", "Back")]


async def test_a_confirm_whose_answer_was_lost_places_one_order_when_resent(
    ngozi: UssdPhone, services: Services, clock: SteppedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order is placed, then the session store fails before the turn is saved (a Valkey
    failover; a gateway killed there leaves the same): Ngozi is told to try later and Africa's
    Talking sends the confirm again (same sessionId and text) once the turn's claim has run
    out. The one order placed is the answer; nothing is placed twice."""
    await ngozi.dial()
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await ngozi.choose(label)
    await ngozi.press("3")
    for label in ("Checkout", "Choose payment", "Pay on delivery"):
        await ngozi.choose(label)
    store = services.store
    close_turn = store.close_turn
    failures = ["the store failed over"]

    async def failing_once(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise ConnectionError(failures.pop())
        await close_turn(*args, **kwargs)

    monkeypatch.setattr(store, "close_turn", failing_once)
    lost = await ngozi.choose("Confirm")
    clock.advance(20)  # past the 15 s claim of the turn that failed
    again = await ngozi.resend()

    assert lost.kind == "END"
    assert "not available" in lost
    [order] = await services.orders.recent(NGOZI)
    assert again.kind == "END"
    assert again.body == (
        f"Order {order.reference} placed. Total NGN 26,993.25. Pay NGN 26,993.00 in cash at the"
        " door. Thank you!"
    )
    assert await ngozi.resend() == again
    assert len(await services.orders.recent(NGOZI)) == 1
