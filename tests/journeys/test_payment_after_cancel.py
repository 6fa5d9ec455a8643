"""Money that arrives after its order was cancelled is not kept: an M-Pesa prompt paid late, a
Paystack charge, a transfer into the customer's own account or a Flutterwave payment is given
back on its rail, once however often its callback comes, and the customer is told so once; MTN
MoMo, which has no refund, leaves it as credit on the customer's account and tells them so by
SMS, once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.region import RegionCode
from engines.orders import Order, OrderStatus
from engines.payments import CreatePayment, Direction, IntentStatus, Method, PaymentIntent
from tests.journeys.test_refunds import JSON, JUMA, NGOZI, held_at, place
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


async def ordered_then_cancelled(
    services: Services, method: Method, key: str
) -> tuple[Order, PaymentIntent]:
    """The order's payment is asked for, then the order is cancelled before the money comes."""
    assert services.payments is not None
    who, region = (
        (JUMA, RegionCode.NAIROBI) if method is Method.MPESA else (NGOZI, RegionCode.LAGOS)
    )
    order = await place(services, who, region, key)
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=method,
            amount=order.total,
            customer=who,
            order_reference=order.reference,
        )
    )
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await flush_outbox(services)
    return order, intent


async def refunds_of(services: Services, order: Order) -> list[PaymentIntent]:
    assert services.payments is not None
    return [
        i
        for i in await services.payments.for_order(order.reference)
        if i.direction is Direction.REFUND
    ]


async def test_an_mpesa_payment_after_the_cancel_is_reversed_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order, _ = await ordered_then_cancelled(services, Method.MPESA, "late-mpesa")
    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
    for _ in range(2):  # Daraja delivers the callback twice
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)

    [reversal] = fakes.daraja.reversals
    assert reversal.body["TransactionID"] == fakes.daraja.pushes[0].receipt
    assert reversal.body["Amount"] == fakes.daraja.pushes[0].body["Amount"]
    target, body = fakes.daraja.reversal_result(reversal)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    [refund] = await refunds_of(services, order)
    assert (refund.status, refund.amount) == (IntentStatus.SUCCEEDED, order.total)
    assert await held_at(services, "rail:mpesa:KES") == 0  # nothing of Juma's is kept


async def test_a_paystack_charge_after_the_cancel_is_refunded_once_and_she_is_told_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order, intent = await ordered_then_cancelled(services, Method.PAYSTACK, "late-paystack")
    before = len(fakes.sms.sent_to(NGOZI.e164))  # the order's and its cancellation's texts
    body, headers = fakes.paystack.customer_dials(intent.reference)
    for _ in range(2):
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
        await flush_outbox(services)

    # told once what happens to the money she sent, however often the charge is reported
    assert [s.message for s in fakes.sms.sent_to(NGOZI.e164)[before:]] == [
        f"OmniRoute: we received {order.total.format()} for order {order.reference}, which was "
        "cancelled; it is being sent back to you."
    ]

    sent = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert [(r["transaction"], r["amount"]) for r in sent] == [
        (intent.reference, int(order.total.amount * 100))
    ]
    [refund_id] = fakes.paystack.refunds
    body, headers = fakes.paystack.refund_result(refund_id)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    assert await held_at(services, "rail:paystack:NGN") == 0


async def test_a_paystack_charge_after_the_order_came_back_is_told_so_not_cancelled(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Her order went out and was brought back to the warehouse before her card payment came:
    the text that says her money is being sent back names what happened to the order."""
    assert services.payments is not None
    order = await place(services, NGOZI, RegionCode.LAGOS, "late-paystack-returned")
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=Method.PAYSTACK,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    for status in (
        OrderStatus.CONFIRMED,
        OrderStatus.PICKING,
        OrderStatus.PACKED,
        OrderStatus.DISPATCHED,
        OrderStatus.RETURNED,
    ):
        await services.orders.advance(order.reference, status)
    await flush_outbox(services)
    before = len(fakes.sms.sent_to(NGOZI.e164))
    body, headers = fakes.paystack.customer_dials(intent.reference)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)

    assert [s.message for s in fakes.sms.sent_to(NGOZI.e164)[before:]] == [
        f"OmniRoute: we received {order.total.format()} for order {order.reference}, which came "
        "back to us; it is being sent back to you."
    ]


async def test_a_bank_transfer_after_the_cancel_is_refunded_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order, intent = await ordered_then_cancelled(services, Method.BANK_TRANSFER, "late-nuban")
    kobo = int(order.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(intent.details["account_number"], kobo)
    for _ in range(2):
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
        await flush_outbox(services)

    [charge] = [c for c in fakes.paystack.charges.values() if c.channel == "dedicated_nuban"]
    sent = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert [(r["transaction"], r["amount"]) for r in sent] == [(charge.reference, kobo)]
    [refund] = await refunds_of(services, order)
    assert refund.amount == order.total


async def test_a_flutterwave_payment_after_the_cancel_is_refunded_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order, intent = await ordered_then_cancelled(services, Method.FLUTTERWAVE, "late-flw")
    body, headers = fakes.flutterwave.complete(intent.reference)
    for _ in range(2):
        response = await gateway.post("/webhooks/flutterwave", data=body, headers=headers)
        assert response.status == 200
        await flush_outbox(services)

    sent = [r.json for r in fakes.flutterwave.requests if r.path.endswith("/refund")]
    assert sent == [{"amount": f"{order.total.amount:f}"}]
    [refund] = await refunds_of(services, order)
    assert refund.status is IntentStatus.SUCCEEDED  # Flutterwave completes it at once
    await flush_outbox(services)
    # all of it went back; the fee Flutterwave kept of the payment is not returned
    kept = Decimal(str(fakes.flutterwave.payments[intent.reference]["app_fee"]))
    assert await held_at(services, "rail:flutterwave:NGN") == -kept


async def test_a_momo_payment_after_the_cancel_is_kept_as_credit_and_the_customer_told_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order, intent = await ordered_then_cancelled(services, Method.MOMO, "late-momo")
    before = len(fakes.sms.sent_to(NGOZI.e164))  # the order's and its cancellation's texts
    fakes.momo.approve(str(intent.id))
    target, body = fakes.momo.callback_for(str(intent.id))
    for _ in range(2):
        assert (await gateway.put(target, data=body)).status == 200
        await flush_outbox(services)
    await flush_outbox(services)

    # only that: no receipt thanking her for the closed order first
    told = [s.message for s in fakes.sms.sent_to(NGOZI.e164)[before:]]
    assert told == [
        f"OmniRoute: we received {order.total.format()} for order {order.reference}, which is "
        "closed. We could not send it back, so it is kept as credit on your account."
    ]
    # the order's hold was released at the cancel: what came in is owed back to Ngozi
    owed = await held_at(services, f"customer:{NGOZI.e164}:receivable:NGN")
    assert owed == -order.total.amount
    assert await held_at(services, "rail:momo:NGN") == order.total.amount


async def test_a_credit_repayment_that_names_a_cancelled_order_is_not_refunded(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """A repayment pays the customer's credit line down (oldest credit first), whatever order
    it was started from: it is kept, not sent back as if it had paid that order."""
    assert services.payments is not None
    order = await place(services, JUMA, RegionCode.NAIROBI, "late-repay")
    await services.payments.pay(
        CreatePayment(
            idempotency_key=f"repay:{order.reference}:{order.total.amount}",
            method=Method.MPESA,
            amount=order.total,
            customer=JUMA,
            order_reference=order.reference,
        )
    )
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)

    assert fakes.daraja.reversals == []
    assert await refunds_of(services, order) == []
