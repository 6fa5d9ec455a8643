"""A paid order delivered short: what she paid for the cartons that did not arrive goes back on
the rail she paid on at delivery, once however often the delivery's event or the refund's
callback comes, on a balanced ledger; MTN MoMo, which cannot refund, keeps it as her credit and
she is told so by SMS in her language, once. A return afterwards gives back the rest: in all,
what she was charged, never more. With the order workflows on or off."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.app.bootstrap import Services
from core.bus import EventEnvelope
from core.bus.tables import outbox
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.orders import Order, OrderStatus
from engines.orders.events import OrderDelivered
from engines.payments import CreatePayment, IntentStatus, Method, PaymentIntent
from tests.journeys.test_refunds import JSON, JUMA, NGOZI, held_at, paid_by_mpesa, place
from tests.journeys.test_returned_order_refunds import (
    TO_DISPATCHED,
    Client,
    about_her_money,
    books_balanced,
    refunds_of,
)
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

TWO_OF_THREE = {"NDL-INDO-CHK": 2}


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture(params=["on", "off"])
def settings(request: pytest.FixtureRequest, database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal=request.param)


async def paid(
    gateway: Client, services: Services, fakes: PaymentFakes, method: Method, who: Phone
) -> tuple[Order, PaymentIntent]:
    assert services.payments is not None
    region = RegionCode.LAGOS if who == NGOZI else RegionCode.NAIROBI
    order = await place(services, who, region, f"short-{method.value}")
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",  # as the checkout keys it
            method=method,
            amount=order.total,
            customer=who,
            order_reference=order.reference,
        )
    )
    if method is Method.PAYSTACK:
        body, headers = fakes.paystack.customer_dials(intent.reference)
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    else:
        fakes.momo.approve(str(intent.id))
        target, body = fakes.momo.callback_for(str(intent.id))
        assert (await gateway.put(target, data=body)).status == 200
    await flush_outbox(services)
    return order, intent


async def delivered_short(services: Services, order: Order) -> Order:
    """2 of the 3 cartons arrive; the delivery's event is handed out twice."""
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED]:
        await services.orders.advance(order.reference, status)
    arrived = await services.orders.deliver(order.reference, TWO_OF_THREE)
    await flush_outbox(services)
    async with services.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    again = [
        e
        for e in (EventEnvelope.model_validate(r.envelope) for r in rows)
        if e.topic == OrderDelivered.topic and e.data["reference"] == order.reference
    ]
    await services.bus.publish(again)
    await flush_outbox(services)
    return arrived


async def paystack_settles(gateway: Client, services: Services, fakes: PaymentFakes) -> None:
    for refund_id in fakes.paystack.refunds:
        body, headers = fakes.paystack.refund_result(refund_id)
        for _ in range(2):  # the refund's webhook delivered twice
            response = await gateway.post("/webhooks/paystack", data=body, headers=headers)
            assert response.status == 200
            await flush_outbox(services)


async def test_a_short_delivered_paystack_order_gets_back_what_did_not_arrive_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order, intent = await paid(gateway, services, fakes, Method.PAYSTACK, NGOZI)
    arrived = await delivered_short(services, order)

    rest = order.total - arrived.total
    assert services.money is not None
    [note] = await services.money.invoices.credit_notes(order.reference)
    told = [s.message for s in fakes.sms.sent_to(NGOZI.e164) if about_her_money(s.message)]
    assert told == [
        f"Credit note {note.number} for order {order.reference} (invoice {note.invoice_number}):"
        f" {note.total.format()} credited incl. VAT 7.5% {note.tax.format()}."
        " It is being refunded to you."
    ]
    sent = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert [(r["transaction"], r["amount"]) for r in sent] == [
        (intent.reference, int(rest.amount * 100))
    ]
    await paystack_settles(gateway, services, fakes)
    [refund] = await refunds_of(services, order)
    assert (refund.status, refund.amount) == (IntentStatus.SUCCEEDED, rest)
    # she owes nothing and is owed nothing: what arrived is paid, the rest back with her
    assert await held_at(services, f"customer:{NGOZI.e164}:receivable:NGN") == 0
    assert await books_balanced(services)

    # The 2 cartons come back too: the rest of what she paid goes back, and no more.
    await services.orders.advance(order.reference, OrderStatus.RETURNED)
    for _ in range(2):
        await flush_outbox(services)
    await paystack_settles(gateway, services, fakes)
    refunds = await refunds_of(services, order)
    assert sorted(r.amount.amount for r in refunds) == sorted([rest.amount, arrived.total.amount])
    assert sum(r.amount.amount for r in refunds) == order.total.amount
    assert await held_at(services, f"customer:{NGOZI.e164}:receivable:NGN") == 0
    assert await held_at(services, "rail:paystack:NGN") == 0
    assert await held_at(services, "sales:NGN") == 0
    assert await books_balanced(services)


@pytest.mark.parametrize(
    ("who", "told"),
    [
        (
            NGOZI,
            "Credit note {number} for order {ref} (invoice {invoice}): {total} credited incl."
            " VAT 7.5% {tax}. Kept as credit on your account.",
        ),
        (
            JUMA,
            "Hati ya marejesho {number} ya oda {ref} (ankara {invoice}): {total} imerejeshwa"
            " pamoja na VAT 16% {tax}. Ni salio lako sasa.",
        ),
    ],
)
async def test_a_short_delivered_momo_order_keeps_the_rest_as_credit_and_tells_her_once(
    gateway: Client, services: Services, fakes: PaymentFakes, who: Phone, told: str
) -> None:
    """One text for the short delivery, in her language: its credit note, saying the money
    for what did not arrive stays hers."""
    order, _intent = await paid(gateway, services, fakes, Method.MOMO, who)
    arrived = await delivered_short(services, order)

    assert services.money is not None
    [note] = await services.money.invoices.credit_notes(order.reference)
    texts = [s.message for s in fakes.sms.sent_to(who.e164) if about_her_money(s.message)]
    expected = told.format(
        number=note.number,
        ref=order.reference,
        invoice=note.invoice_number,
        total=note.total.format(),
        tax=note.tax.format(),
    )
    assert texts == [expected]
    assert len(expected) <= 160
    rest = order.total - arrived.total
    currency = order.total.currency
    assert await held_at(services, f"customer:{who.e164}:receivable:{currency}") == -rest.amount
    assert await books_balanced(services)


async def test_a_short_delivered_mpesa_order_gets_back_what_did_not_arrive_by_b2c_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """A part of an M-Pesa payment cannot be reversed (a reversal gives back whole
    transactions): the rest goes back to Juma's phone by one B2C payment, in whole shillings,
    however often the delivery's event or Daraja's result comes. The 2 cartons returned
    afterwards are given back by B2C too: in all, what he was charged, never more."""
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    charged = Decimal(fakes.daraja.pushes[0].body["Amount"])  # whole shillings, rounded up
    arrived = await delivered_short(services, order)

    assert fakes.daraja.reversals == []
    [b2c] = fakes.daraja.payouts
    rest = order.total.amount - arrived.total.amount
    assert (b2c.body["PartyB"], b2c.body["CommandID"]) == ("254711000001", "BusinessPayment")
    assert b2c.body["Amount"] == int(rest)  # whole shillings, the cents carried to a later part
    target, body = fakes.daraja.b2c_result(b2c)
    for _ in range(2):  # Daraja's result delivered twice
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)

    [refund] = await refunds_of(services, order)
    assert refund.status is IntentStatus.SUCCEEDED
    assert services.money is not None
    [note] = await services.money.invoices.credit_notes(order.reference)
    told = [s.message for s in fakes.sms.sent_to(JUMA.e164) if about_her_money(s.message)]
    assert told == [
        f"Hati ya marejesho {note.number} ya oda {order.reference} (ankara"
        f" {note.invoice_number}): {note.total.format()} imerejeshwa pamoja na VAT 16%"
        f" {note.tax.format()}. Pesa zako zinarudishwa."
    ]
    assert await held_at(services, "rail:mpesa:KES") == charged - int(rest)
    # what stays his credit: the cents M-Pesa cannot send, and the push's rounding up
    credit = charged - arrived.total.amount - int(rest)
    assert 0 <= credit < 2
    assert await held_at(services, f"customer:{JUMA.e164}:receivable:KES") == -credit
    assert await books_balanced(services)

    # The 2 cartons come back too: the rest of what he paid goes back by B2C, and no more.
    await services.orders.advance(order.reference, OrderStatus.RETURNED)
    for _ in range(2):
        await flush_outbox(services)
    assert fakes.daraja.reversals == []
    assert len(fakes.daraja.payouts) == 2
    back = fakes.daraja.payouts[-1]
    target, body = fakes.daraja.b2c_result(back)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    assert b2c.body["Amount"] + back.body["Amount"] == charged
    assert await held_at(services, "rail:mpesa:KES") == 0
    assert await held_at(services, f"customer:{JUMA.e164}:receivable:KES") == 0
    assert await held_at(services, "sales:KES") == 0
    assert await books_balanced(services)


async def test_a_short_delivery_refund_mpesa_failed_stays_his_credit_and_he_is_told_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Daraja took the B2C payment and its result says it did not go: the money for what did
    not arrive stays his credit, and he, told by the credit note it was being refunded, is told
    in his language that it is kept, once however often the result comes."""
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    arrived = await delivered_short(services, order)
    [b2c] = fakes.daraja.payouts
    target, body = fakes.daraja.b2c_result(b2c, ok=False)
    for _ in range(2):  # Daraja's result delivered twice
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)

    [refund] = await refunds_of(services, order)
    assert refund.status is IntentStatus.FAILED
    told = [s.message for s in fakes.sms.sent_to(JUMA.e164) if about_her_money(s.message)]
    assert told[1:] == [
        f"OmniRoute: sehemu ya oda {order.reference} haikufika. Hatukuweza kukurudishia"
        f" {refund.amount.format()} ulizolipa, kwa hivyo zimewekwa kama salio kwenye akaunti"
        " yako."
    ]
    charged = Decimal(fakes.daraja.pushes[0].body["Amount"])
    assert await held_at(services, "rail:mpesa:KES") == charged  # nothing left the rail
    assert await held_at(services, f"customer:{JUMA.e164}:receivable:KES") == -(
        charged - arrived.total.amount
    )
    assert await books_balanced(services)
