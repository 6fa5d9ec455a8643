"""A paid order delivered and then brought back: what was paid for the goods that came back goes
back on the rail it was paid on, once however often the return's event or the refund's callback
comes (an M-Pesa reversal, a Paystack refund of what a short delivery left), and the sale is
reversed on a balanced ledger; MTN MoMo, which cannot refund, keeps it as credit on the
retailer's account and tells her so by SMS, once. With the order workflows on or off: the
order's workflow ended at delivery. On SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from core.app.bootstrap import Services
from core.bus import EventEnvelope
from core.bus.tables import outbox
from core.config import Settings
from core.region import RegionCode
from engines.orders import Order, OrderStatus
from engines.orders.events import OrderStatusChanged
from engines.payments import CreatePayment, Direction, IntentStatus, Method, PaymentIntent
from tests.journeys.test_refunds import (
    JSON,
    JUMA,
    NGOZI,
    held_at,
    paid_by_mpesa,
    place,
)
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]


def about_her_money(text: str) -> bool:
    """A text about where her money went: a credit note, or a refund that could not be sent
    (English or Swahili)."""
    return any(
        said in text
        for said in ("Credit note", "could not send back", "Hati ya marejesho", "Hatukuweza")
    )


TO_DISPATCHED = [OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED]


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture(params=["on", "off"])
def settings(request: pytest.FixtureRequest, database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal=request.param)


async def delivered_then_returned(
    services: Services, order: Order, delivered: dict[str, int] | None = None
) -> Order:
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED]:
        await services.orders.advance(order.reference, status)
    arrived = await services.orders.deliver(order.reference, delivered)
    await flush_outbox(services)
    await services.orders.advance(order.reference, OrderStatus.RETURNED)
    for _ in range(2):
        await flush_outbox(services)
    return arrived


async def return_redelivered(services: Services, order: Order) -> None:
    """The bus hands the return's event out again (delivery is at least once)."""
    async with services.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    [returned] = [
        e
        for e in (EventEnvelope.model_validate(r.envelope) for r in rows)
        if e.topic == OrderStatusChanged.topic
        and e.data["reference"] == order.reference
        and e.data["status"] == "returned"
    ]
    await services.bus.publish([returned])
    await flush_outbox(services)


async def refunds_of(services: Services, order: Order) -> list[PaymentIntent]:
    assert services.payments is not None
    return [
        i
        for i in await services.payments.for_order(order.reference)
        if i.direction is Direction.REFUND
    ]


async def books_balanced(services: Services) -> bool:
    assert services.money is not None
    return (await services.money.ledger.check()).balanced


async def test_a_paid_order_returned_after_delivery_is_reversed_on_mpesa_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    await delivered_then_returned(services, order)
    await return_redelivered(services, order)

    [reversal] = fakes.daraja.reversals
    assert reversal.body["TransactionID"] == fakes.daraja.pushes[0].receipt
    assert reversal.body["Amount"] == fakes.daraja.pushes[0].body["Amount"]
    assert fakes.daraja.payouts == []
    target, body = fakes.daraja.reversal_result(reversal)
    for _ in range(2):  # Daraja's result delivered twice
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)

    [refund] = await refunds_of(services, order)
    assert (refund.status, refund.amount, refund.customer) == (
        IntentStatus.SUCCEEDED,
        order.total,
        JUMA,
    )
    # the sale and its VAT reversed, Juma's money back with him: nothing held, nothing owed
    assert await held_at(services, "rail:mpesa:KES") == 0
    assert await held_at(services, f"customer:{JUMA.e164}:receivable:KES") == 0
    assert await held_at(services, "sales:KES") == 0
    assert await held_at(services, "vat:KES") == 0
    assert await books_balanced(services)


async def test_a_short_delivered_paystack_order_returned_gets_back_what_arrived_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """2 of 3 cartons arrived (the third refunded at delivery), then the 2 came back: Paystack
    refunds what the 2 cost, once; in all she gets back what she paid, no more."""
    assert services.payments is not None
    order = await place(services, NGOZI, RegionCode.LAGOS, "returned-paystack")
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",  # as the checkout keys it
            method=Method.PAYSTACK,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    body, headers = fakes.paystack.customer_dials(intent.reference)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    arrived = await delivered_then_returned(services, order, {"NDL-INDO-CHK": 2})
    await return_redelivered(services, order)

    assert Decimal(0) < arrived.total.amount < order.total.amount
    rest = order.total - arrived.total
    sent = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert [(r["transaction"], r["amount"]) for r in sent] == [
        (intent.reference, int(rest.amount * 100)),  # at delivery: the carton that never came
        (intent.reference, int(arrived.total.amount * 100)),
    ]
    for refund_id in fakes.paystack.refunds:
        body, headers = fakes.paystack.refund_result(refund_id)
        for _ in range(2):
            response = await gateway.post("/webhooks/paystack", data=body, headers=headers)
            assert response.status == 200
            await flush_outbox(services)

    refunds = await refunds_of(services, order)
    assert [
        (r.status, r.amount) for r in refunds if r.idempotency_key.startswith("refund:returned:")
    ] == [(IntentStatus.SUCCEEDED, arrived.total)]
    assert sum(r.amount.amount for r in refunds) == order.total.amount
    receivable = f"customer:{NGOZI.e164}:receivable:NGN"
    assert await held_at(services, receivable) == 0
    assert await held_at(services, "sales:NGN") == 0
    assert await held_at(services, "vat:NGN") == 0
    assert await books_balanced(services)


async def test_a_momo_order_returned_after_delivery_is_kept_as_credit_and_she_is_told_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.payments is not None
    order = await place(services, NGOZI, RegionCode.LAGOS, "returned-momo")
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=Method.MOMO,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    fakes.momo.approve(str(intent.id))
    target, body = fakes.momo.callback_for(str(intent.id))
    assert (await gateway.put(target, data=body)).status == 200
    await flush_outbox(services)

    await delivered_then_returned(services, order)
    await return_redelivered(services, order)

    # one text for the return: its credit note, saying the money stays hers
    assert services.money is not None
    [note] = await services.money.invoices.credit_notes(order.reference)
    told = [s.message for s in fakes.sms.sent_to(NGOZI.e164) if about_her_money(s.message)]
    assert told == [
        f"Credit note {note.number} for order {order.reference} (invoice {note.invoice_number}):"
        f" {note.total.format()} credited incl. VAT 7.5% {note.tax.format()}."
        " Kept as credit on your account."
    ]
    assert len(told[0]) <= 160
    receivable = f"customer:{NGOZI.e164}:receivable:NGN"
    assert await held_at(services, receivable) == -order.total.amount
    assert await held_at(services, "rail:momo:NGN") == order.total.amount
    assert await books_balanced(services)


async def test_an_unpaid_order_returned_after_delivery_asks_no_rail_for_anything(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await place(services, JUMA, RegionCode.NAIROBI, "returned-unpaid")
    await delivered_then_returned(services, order)
    assert fakes.daraja.reversals == []
    assert fakes.daraja.payouts == []
    assert await refunds_of(services, order) == []
    assert await held_at(services, f"customer:{JUMA.e164}:receivable:KES") == 0
    assert await books_balanced(services)
