"""M-Pesa Daraja: STK push, the callback, the query, B2C — against a local Daraja."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, Order, PaymentMethod, PlaceOrder
from engines.payments import (
    CreatePayment,
    Direction,
    IdempotencyKeyReusedError,
    IntentStatus,
    Method,
    PaymentService,
)
from engines.settlement import Match, parse_statement
from tests.support.providers import mpesa
from tests.support.providers.payments import (
    PUBLIC_URL,
    PaymentFakes,
    ProcessKilledError,
    crashing_service,
    events,
)

Client = TestClient[web.Request, web.Application]
JUMA = Phone("+254711000001")


def payments(services: Services) -> PaymentService:
    assert services.payments is not None
    return services.payments


async def juma_order(services: Services, key: str = "order-1") -> Order:
    return await services.orders.place(
        PlaceOrder(
            customer=JUMA,
            region=RegionCode.NAIROBI,
            lines=(CartLine("NDL-INDO-CHK", 3),),
            payment_method=PaymentMethod.MPESA,
            idempotency_key=key,
            clear_cart=False,
        )
    )


def pay_for(order: Order, key: str = "pay-1") -> CreatePayment:
    return CreatePayment(
        idempotency_key=key,
        method=Method.MPESA,
        amount=order.total,
        customer=order.customer,
        order_reference=order.reference,
        description=f"Order {order.reference}",
    )


async def post(gateway: Client, target: str, body: bytes) -> ClientResponse:
    return await gateway.post(target, data=body, headers={"Content-Type": "application/json"})


async def test_stk_push_sends_daraja_exactly_what_it_documents(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await juma_order(services)
    intent = await payments(services).pay(pay_for(order))

    assert intent.status is IntentStatus.PROCESSING
    push = fakes.daraja.pushes[0]
    assert intent.provider_reference == push.checkout_id
    # 09:00 UTC is 12:00 in Nairobi; the password is base64(shortcode + passkey + timestamp).
    assert push.body["Timestamp"] == "20260105120000"
    assert (
        push.body["Password"]
        == base64.b64encode(f"{mpesa.SHORTCODE}{mpesa.PASSKEY}20260105120000".encode()).decode()
    )
    assert push.body["Amount"] == int(
        order.total.amount.to_integral_value(rounding="ROUND_CEILING")
    )
    assert push.body["PartyA"] == push.body["PhoneNumber"] == "254711000001"
    assert push.body["PartyB"] == push.body["BusinessShortCode"] == mpesa.SHORTCODE
    assert push.body["TransactionType"] == "CustomerPayBillOnline"
    assert push.body["AccountReference"] == order.reference
    assert push.body["CallBackURL"].startswith(f"{PUBLIC_URL}/webhooks/mpesa?intent={intent.id}")
    oauth = [r for r in fakes.daraja.requests if r.path.startswith("/oauth")]
    assert oauth[0].basic_auth == (mpesa.CONSUMER_KEY, mpesa.CONSUMER_SECRET)


async def test_the_token_is_fetched_once_for_many_pushes(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await juma_order(services)
    await payments(services).pay(pay_for(order, "a"))
    await payments(services).pay(pay_for(order, "b"))
    assert len(fakes.daraja.pushes) == 2
    assert len([r for r in fakes.daraja.requests if r.path.startswith("/oauth")]) == 1


async def test_same_key_same_request_returns_the_first_intent_and_pushes_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await juma_order(services)
    first = await payments(services).pay(pay_for(order))
    again = await payments(services).pay(pay_for(order))
    assert again.id == first.id
    assert len(fakes.daraja.pushes) == 1


async def test_same_key_different_request_is_refused(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await juma_order(services)
    await payments(services).pay(pay_for(order))
    changed = replace(pay_for(order), amount=Money(Decimal("1.00"), "KES"))
    with pytest.raises(IdempotencyKeyReusedError):
        await payments(services).pay(changed)
    assert len(fakes.daraja.pushes) == 1


async def test_paid_callback_marks_the_order_paid_once_even_when_delivered_twice(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await juma_order(services)
    intent = await payments(services).pay(pay_for(order))
    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])

    for _ in range(2):
        response = await post(gateway, target, body)
        assert response.status == 200
        assert await response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}

    settled = await payments(services).get(intent.id)
    assert settled.status is IntentStatus.SUCCEEDED
    assert settled.receipt == fakes.daraja.pushes[0].receipt
    assert (await services.orders.get(order.reference)).paid_at is not None
    succeeded = await events(services, "PaymentSucceeded")
    assert len(succeeded) == 1
    assert succeeded[0]["order_reference"] == order.reference


async def test_cancelled_on_the_phone_fails_the_intent_and_leaves_the_order_unpaid(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await juma_order(services)
    intent = await payments(services).pay(pay_for(order))
    target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
    assert (await post(gateway, target, body)).status == 200
    failed = await payments(services).get(intent.id)
    assert failed.status is IntentStatus.FAILED
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("1032")
    assert (await services.orders.get(order.reference)).paid_at is None
    assert len(await events(services, "PaymentFailed")) == 1


async def test_a_forged_callback_is_refused_and_changes_nothing(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await juma_order(services)
    intent = await payments(services).pay(pay_for(order))
    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
    forged = target.replace("sig=", "sig=0")
    assert (await post(gateway, forged, body)).status == 403
    no_sig = target.split("&sig=")[0]
    assert (await post(gateway, no_sig, body)).status == 403
    # A valid signature for another intent does not pay this one.
    assert (await payments(services).get(intent.id)).status is IntentStatus.PROCESSING
    assert (await services.orders.get(order.reference)).paid_at is None
    assert await events(services, "PaymentSucceeded") == []


async def test_a_lost_callback_is_settled_by_the_requery(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    order = await juma_order(services)
    intent = await payments(services).pay(pay_for(order))
    fakes.daraja.pay(fakes.daraja.pushes[0])  # the money moved; the callback never comes

    assert (await payments(services).requery()).checked == 0  # not stuck yet
    clock.advance(180)
    report = await payments(services).requery()
    assert (report.checked, report.settled) == (1, 1)
    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
    assert (await services.orders.get(order.reference)).paid_at is not None
    queries = [r for r in fakes.daraja.requests if r.path == "/mpesa/stkpushquery/v1/query"]
    assert json.loads(queries[0].body)["CheckoutRequestID"] == intent.provider_reference
    assert len(fakes.daraja.pushes) == 1  # the requery asks; it never pushes again


async def test_a_callback_after_the_requery_settled_it_changes_nothing(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    order = await juma_order(services)
    await payments(services).pay(pay_for(order))
    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
    clock.advance(180)
    await payments(services).requery()
    assert (await post(gateway, target, body)).status == 200
    assert len(await events(services, "PaymentSucceeded")) == 1


async def test_a_daraja_outage_leaves_the_intent_unknown_and_the_requery_fails_it_safely(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    order = await juma_order(services)
    fakes.daraja.fail_next_push = 503
    intent = await payments(services).pay(pay_for(order))
    assert intent.status is IntentStatus.UNKNOWN
    # Retrying the checkout does not push again: the intent was claimed.
    assert (await payments(services).pay(pay_for(order))).status is IntentStatus.UNKNOWN
    assert fakes.daraja.pushes == []


async def test_b2c_payout_is_paid_on_its_result_callback(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    intent = await payments(services).pay(
        CreatePayment(
            idempotency_key="payout-1",
            method=Method.MPESA_B2C,
            amount=Money(Decimal("1500"), "KES"),
            customer=JUMA,
            direction=Direction.PAYOUT,
            description="Driver earnings",
        )
    )
    assert intent.status is IntentStatus.PROCESSING
    payout = fakes.daraja.payouts[0]
    assert payout.body["OriginatorConversationID"] == intent.reference
    assert payout.body["PartyB"] == "254711000001"
    assert payout.body["Amount"] == 1500
    assert payout.body["CommandID"] == "BusinessPayment"
    target, body = fakes.daraja.b2c_result(payout)
    assert (await post(gateway, target, body)).status == 200
    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
    assert (await events(services, "PaymentSucceeded"))[0]["direction"] == "payout"


async def test_crash_after_the_push_is_settled_by_the_callback_without_pushing_twice(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Killed after Daraja accepted the push, before we wrote its CheckoutRequestID: the
    callback URL names the intent, so the customer's payment still lands on it."""
    order = await juma_order(services)
    with pytest.raises(ProcessKilledError):
        await crashing_service(services, "mpesa").pay(pay_for(order))
    (intent,) = await payments(services).for_order(order.reference)
    assert intent.status is IntentStatus.UNKNOWN
    assert intent.provider_reference is None

    # A retried checkout and the requery neither push again nor guess.
    await payments(services).pay(pay_for(order))
    clock.advance(180)
    await payments(services).requery()
    assert len(fakes.daraja.pushes) == 1
    assert (await payments(services).get(intent.id)).status is IntentStatus.UNKNOWN

    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
    assert (await post(gateway, target, body)).status == 200
    settled = await payments(services).get(intent.id)
    assert settled.status is IntentStatus.SUCCEEDED
    assert settled.provider_reference == fakes.daraja.pushes[0].checkout_id
    assert len(await events(services, "PaymentSucceeded")) == 1


async def test_a_payment_daraja_confirms_after_reporting_a_timeout_still_pays_the_order(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Daraja reports 1037 (the phone could not be reached) and then, for the same push, the
    customer's PIN went through after all: the money moved, so the order is paid (late)."""
    order = await juma_order(services)
    intent = await payments(services).pay(pay_for(order))
    push = fakes.daraja.pushes[0]
    target, cancelled = fakes.daraja.cancel(push)
    timed_out = json.loads(cancelled)
    timed_out["Body"]["stkCallback"]["ResultCode"] = 1037
    timed_out["Body"]["stkCallback"]["ResultDesc"] = "DS timeout user cannot be reached"
    assert (await post(gateway, target, json.dumps(timed_out).encode())).status == 200
    assert (await payments(services).get(intent.id)).status is IntentStatus.FAILED

    target, paid = fakes.daraja.pay(push)
    for _ in range(2):  # and the success redelivered changes nothing more
        response = await post(gateway, target, paid)
        assert response.status == 200
        assert await response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}

    settled = await payments(services).get(intent.id)
    assert settled.status is IntentStatus.SUCCEEDED
    assert settled.receipt == push.receipt
    assert (await services.orders.get(order.reference)).paid_at is not None
    succeeded = await events(services, "PaymentSucceeded")
    assert [(e["order_reference"], e["late"]) for e in succeeded] == [(order.reference, True)]


async def test_a_failure_reported_after_the_success_leaves_the_payment_paid(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await juma_order(services)
    intent = await payments(services).pay(pay_for(order))
    push = fakes.daraja.pushes[0]
    target, paid = fakes.daraja.pay(push)
    _, cancelled = fakes.daraja.cancel(push)
    assert (await post(gateway, target, paid)).status == 200
    assert (await post(gateway, target, cancelled)).status == 200

    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
    assert (await services.orders.get(order.reference)).paid_at is not None
    assert len(await events(services, "PaymentSucceeded")) == 1
    assert await events(services, "PaymentFailed") == []


async def test_a_payment_the_requery_confirmed_is_reconciled_by_its_late_callbacks_receipt(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The STK query names no receipt, so the payment is booked under its intent; the M-Pesa
    statement lists it by its receipt, which the callback brings later: it matches."""
    assert services.money is not None
    order = await juma_order(services)
    intent = await payments(services).pay(pay_for(order))
    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
    clock.advance(180)
    await payments(services).requery()
    await services.relay.drain()
    assert (await post(gateway, target, body)).status == 200  # the callback, late
    await services.relay.drain()
    receipt = fakes.daraja.pushes[0].receipt
    assert (await payments(services).get(intent.id)).receipt == receipt
    amount = fakes.daraja.pushes[0].body["Amount"]  # whole shillings, what M-Pesa took
    statement = parse_statement(f"Receipt,Amount\n{receipt},{amount}\n", "KES")

    report = await services.money.settlement.reconcile(
        "mpesa", "KES", date(2026, 1, 5), "Africa/Nairobi", statement
    )

    assert [(line.status, line.external_ref) for line in report.lines] == [(Match.MATCHED, receipt)]
    assert report.clean
