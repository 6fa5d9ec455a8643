"""With workflows off (`OMNIROUTE_TEMPORAL=off`) no order workflow carries an order: the gateway
still holds an unpaid prepaid order back from the warehouse and lapses it when its payment window
ends, and tells a customer her order is cancelled, as the workflow would, once and in her
language."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from core.app.bootstrap import Services
from core.app.dispatch_plan import operators_planner, tomorrow
from core.bus import EventEnvelope
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.orders.events import OrderStatusChanged
from engines.orders.tables import orders
from engines.payments import CreatePayment, Method
from tests.journeys.test_refunds import JSON, JUMA, NGOZI, paid_by_mpesa, place
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal="off")


def texts_to(fakes: PaymentFakes, who: Phone, order: Order) -> list[str]:
    return [sms.message for sms in fakes.sms.sent_to(who.e164) if order.reference in sms.message]


def heard(services: Services) -> list[OrderStatusChanged]:
    """The order status changes published from now on."""
    changes: list[OrderStatusChanged] = []

    async def hear(envelope: EventEnvelope) -> None:
        changes.append(OrderStatusChanged.model_validate(envelope.data))

    services.bus.subscribe(OrderStatusChanged.topic, "test-status-changes", hear)
    return changes


async def on_delivery(services: Services, who: Phone, region: RegionCode, key: str) -> Order:
    return await services.orders.place(
        PlaceOrder(
            who,
            region,
            (CartLine("NDL-INDO-CHK", 3),),
            PaymentMethod.ON_DELIVERY,
            key,
            clear_cart=False,
        )
    )


async def test_a_cancelled_order_is_told_once_in_her_language_with_why(
    services: Services, fakes: PaymentFakes
) -> None:
    """Juma asked for his order to be cancelled (an app's `cancelOrder`), our team stopped
    Ngozi's (no reason given): each gets the text the order's workflow sends, once."""
    his = await on_delivery(services, JUMA, RegionCode.NAIROBI, "juma-1")
    hers = await on_delivery(services, NGOZI, RegionCode.LAGOS, "ngozi-1")
    await flush_outbox(services)
    fakes.sms.sent.clear()  # the order confirmations

    await services.orders.advance(his.reference, OrderStatus.CANCELLED, reason="customer")
    await services.orders.advance(hers.reference, OrderStatus.CANCELLED)
    for _ in range(2):
        await flush_outbox(services)

    assert texts_to(fakes, JUMA, his) == [
        f"OmniRoute: oda {his.reference} imeghairiwa: kama ulivyoomba."
    ]  # paid at the door, never reached: nothing paid, nothing said to be refunded
    assert texts_to(fakes, NGOZI, hers) == [
        f"OmniRoute: order {hers.reference} is cancelled: our team stopped it."
    ]


async def test_her_order_on_its_way_delivered_or_brought_back_is_told_once_each(
    services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma's order goes out, is recalled (its route expired at the dock), goes out again and
    arrives; Ngozi's goes out and comes back to the warehouse: each is told what the order's
    workflow tells, in his or her language, once each, under the workflow's own notice keys (so
    workflows turned on never tell it again)."""
    his = await on_delivery(services, JUMA, RegionCode.NAIROBI, "juma-1")
    hers = await on_delivery(services, NGOZI, RegionCode.LAGOS, "ngozi-1")
    for order in (his, hers):
        for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
            await services.orders.advance(order.reference, status)
    await flush_outbox(services)
    fakes.sms.sent.clear()  # the order confirmations

    for order in (his, hers):
        await services.orders.advance(order.reference, OrderStatus.DISPATCHED)
    await flush_outbox(services)
    clock.advance(timedelta(hours=2).total_seconds())
    async with services.db.transaction() as s:  # as the gig platform recalls it
        assert await services.orders.recall_in(s, his.reference, "task expired: not_started")
    await services.orders.advance(his.reference, OrderStatus.DISPATCHED)
    await flush_outbox(services)
    await services.orders.advance(his.reference, OrderStatus.DELIVERED)
    await services.orders.advance(hers.reference, OrderStatus.RETURNED)
    for _ in range(2):
        await flush_outbox(services)

    assert texts_to(fakes, JUMA, his) == [
        f"OmniRoute: oda {his.reference} iko njiani kukufikia.",
        f"OmniRoute: oda {his.reference} iko njiani kukufikia.",
        f"OmniRoute: oda {his.reference} imefikishwa. Asante!",
    ]
    assert texts_to(fakes, NGOZI, hers) == [
        f"OmniRoute: order {hers.reference} is on its way to you.",
        f"OmniRoute: order {hers.reference} came back to our warehouse and is closed.",
    ]  # to be paid at the door, never reached her: nothing paid, nothing said to be refunded
    keys = {d.dedupe_key for d in await services.notifications.for_recipient(JUMA)}
    workflow = f"order-{his.reference}:notify_customer"
    told = {f"{workflow}:out_for_delivery", f"{workflow}:out_for_delivery:2"}
    assert told | {f"{workflow}:delivered"} <= keys


async def test_each_dispatch_is_told_once_though_both_are_handled_after_both_happened(
    services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma's order went out, was recalled at the dock and went out again before the notices
    were handled (their subscriber lagging): he is told it is on its way twice, once for each
    dispatch, not once, under the keys its workflow would use."""
    his = await on_delivery(services, JUMA, RegionCode.NAIROBI, "juma-lagging")
    for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
        await services.orders.advance(his.reference, status)
    await flush_outbox(services)
    fakes.sms.sent.clear()  # the order confirmation

    await services.orders.advance(his.reference, OrderStatus.DISPATCHED)
    clock.advance(timedelta(hours=2).total_seconds())
    async with services.db.transaction() as s:  # as the gig platform recalls it
        assert await services.orders.recall_in(s, his.reference, "task expired: not_started")
    await services.orders.advance(his.reference, OrderStatus.DISPATCHED)
    clock.advance(timedelta(minutes=5).total_seconds())
    for _ in range(2):
        await flush_outbox(services)

    assert (
        texts_to(fakes, JUMA, his) == [f"OmniRoute: oda {his.reference} iko njiani kukufikia."] * 2
    )
    keys = {d.dedupe_key for d in await services.notifications.for_recipient(JUMA)}
    told = f"order-{his.reference}:notify_customer:out_for_delivery"
    assert {told, f"{told}:2"} <= keys


async def test_an_order_whose_payment_failed_may_be_paid_till_its_window_ends_then_lapses_so(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma declined the M-Pesa prompt. As with the order's workflow, his order waits out its
    payment window (he may pay it again meanwhile); at its end it is cancelled because the
    payment did not go through, not because none arrived in time."""
    assert services.payments is not None
    assert services.reservations is not None
    await services.reservations.stop()  # the test sweeps
    order = await place(services, JUMA, RegionCode.NAIROBI, "declined-mpesa")
    await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",  # as the checkout asks
            method=Method.MPESA,
            amount=order.total,
            customer=JUMA,
            order_reference=order.reference,
        )
    )
    target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    fakes.sms.sent.clear()  # the confirmation, and that his payment did not go through
    changes = heard(services)

    clock.advance(timedelta(minutes=14).total_seconds())
    assert await services.reservations.sweep() == []
    clock.advance(timedelta(minutes=2).total_seconds())
    assert await services.reservations.sweep() == [order.reference]
    for _ in range(2):
        await flush_outbox(services)

    assert texts_to(fakes, JUMA, order) == [
        f"OmniRoute: oda {order.reference} imeghairiwa: malipo hayakufaulu."
    ]
    assert [(c.reference, c.reason) for c in changes if c.status == "cancelled"] == [
        (order.reference, "payment_failed")
    ]


async def test_an_unpaid_order_placed_before_holds_were_kept_lapses_once_at_its_window_end(
    services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma's M-Pesa order was placed by a gateway from before the lapse sweep (no hold on its
    row) and never paid: it showed "awaiting payment" until an operator cancelled it. It now
    lapses 15 minutes after he placed it, as any unpaid order does: cancelled once, his text
    once; his order paid at the door is left alone."""
    assert services.reservations is not None
    await services.reservations.stop()  # the test sweeps
    unpaid = await place(services, JUMA, RegionCode.NAIROBI, "unheld-mpesa")
    at_door = await on_delivery(services, JUMA, RegionCode.NAIROBI, "unheld-door")
    async with services.db.transaction() as s:  # as rows placed before holds were kept
        await s.execute(update(orders).values(reserved_until=None))
    await flush_outbox(services)
    fakes.sms.sent.clear()  # the order confirmations

    clock.advance(timedelta(minutes=14).total_seconds())
    assert await services.reservations.sweep() == []
    clock.advance(timedelta(minutes=2).total_seconds())
    assert await services.reservations.sweep() == [unpaid.reference]
    assert await services.reservations.sweep() == []
    for _ in range(2):
        await flush_outbox(services)

    assert (await services.orders.get(unpaid.reference)).status is OrderStatus.CANCELLED
    assert (await services.orders.get(at_door.reference)).status is OrderStatus.PLACED
    assert texts_to(fakes, JUMA, unpaid) == [
        f"OmniRoute: oda {unpaid.reference} imeghairiwa: malipo hayakufika kwa wakati."
    ]


class TestUnpaidPrepaidOrder:
    @pytest.fixture
    def database_url(self, any_database_url: str) -> str:
        return any_database_url

    async def test_is_never_planned_and_lapses_once_at_its_payment_windows_end(
        self, gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
    ) -> None:
        """Juma's M-Pesa order left unpaid is not routed nor picked while it waits for its
        money; when the 15-minute window ends it is cancelled as its workflow cancels it: stock
        back, "no payment arrived in time" in Swahili, once, though two gateway replicas sweep
        at the same moment. His order paid in time stays and is planned."""
        assert services.reservations is not None
        await services.reservations.stop()  # the test sweeps, as two replicas do
        paid = await paid_by_mpesa(gateway, services, fakes, checkout=True)
        unpaid = await place(services, JUMA, RegionCode.NAIROBI, "unpaid-mpesa")
        assert unpaid.payment_method is PaymentMethod.MPESA
        on_hand = await services.catalogue.available(RegionCode.NAIROBI, "NDL-INDO-CHK")

        day = tomorrow(RegionCode.NAIROBI, clock.now())
        report = await operators_planner(services).plan(RegionCode.NAIROBI, day, time_limit_s=1)
        waiting = {u.order: u.reason for u in report.unassigned}
        assert waiting.get(unpaid.reference) == "awaiting_payment"
        assert waiting.get(paid.reference) != "awaiting_payment"

        await flush_outbox(services)
        fakes.sms.sent.clear()  # the order confirmations
        changes = heard(services)
        clock.advance(timedelta(minutes=14).total_seconds())
        assert await services.reservations.sweep() == []
        clock.advance(timedelta(minutes=2).total_seconds())
        swept = await asyncio.gather(services.reservations.sweep(), services.reservations.sweep())
        for _ in range(2):
            await flush_outbox(services)

        assert sorted(ref for refs in swept for ref in refs) == [unpaid.reference]
        assert (await services.orders.get(unpaid.reference)).status is OrderStatus.CANCELLED
        assert (await services.orders.get(paid.reference)).status is OrderStatus.PLACED
        assert await services.catalogue.available(RegionCode.NAIROBI, "NDL-INDO-CHK") == (
            on_hand + 3
        )
        assert texts_to(fakes, JUMA, unpaid) == [
            f"OmniRoute: oda {unpaid.reference} imeghairiwa: malipo hayakufika kwa wakati."
        ]
        # its cancellation event says why in the workflow's word (as a Kafka consumer reads it)
        assert [(c.reference, c.reason) for c in changes if c.status == "cancelled"] == [
            (unpaid.reference, "payment_expired")
        ]
