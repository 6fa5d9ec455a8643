"""MTN MoMo, Flutterwave and NIBSS NIP against their local APIs."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.app.money import DISTRIBUTORS
from core.app.payments import PaymentRequery
from core.clock import SteppedClock
from core.money import Money
from core.phone import Phone
from engines.payments import CreatePayment, Direction, IntentStatus, Method, PaymentService
from tests.support.providers import flutterwave, momo, nibss
from tests.support.providers.payments import (
    PaymentFakes,
    ProcessKilledError,
    crashing_service,
    events,
)

Client = TestClient[web.Request, web.Application]
NGOZI = Phone("+2348030000001")
EMEKA = Phone("+2348030000003")


def payments(services: Services) -> PaymentService:
    assert services.payments is not None
    return services.payments


def momo_payment(key: str = "momo-1") -> CreatePayment:
    return CreatePayment(
        idempotency_key=key,
        method=Method.MOMO,
        amount=Money(Decimal("2500.00"), "NGN"),
        customer=NGOZI,
        description="Order test",
    )


async def test_momo_request_to_pay_uses_the_intent_as_reference_id(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    intent = await payments(services).pay(momo_payment())
    assert intent.status is IntentStatus.PROCESSING
    sent = next(r for r in fakes.momo.requests if r.path == "/collection/v1_0/requesttopay")
    assert sent.headers["X-Reference-Id"] == str(intent.id)
    assert sent.headers["X-Target-Environment"] == momo.ENVIRONMENT
    assert sent.headers["Ocp-Apim-Subscription-Key"] == momo.SUBSCRIPTION_KEY
    assert sent.headers["X-Callback-Url"].startswith("https://gateway.omniroute.test/webhooks/momo")
    assert json.loads(sent.body) == {
        "amount": "2500.00",
        "currency": "NGN",
        "externalId": intent.reference,
        "payer": {"partyIdType": "MSISDN", "partyId": "2348030000001"},
        "payerMessage": "Order test",
        "payeeNote": intent.reference,
    }
    token = next(r for r in fakes.momo.requests if r.path == "/collection/token/")
    assert token.basic_auth == (momo.API_USER, momo.API_KEY)


async def test_momo_callback_is_believed_only_after_asking_momo(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    intent = await payments(services).pay(momo_payment())
    target, body = fakes.momo.callback_for(str(intent.id))
    # A callback claiming success while MoMo still says PENDING changes nothing.
    lying = body.replace(b'"PENDING"', b'"SUCCESSFUL"')
    assert (await gateway.put(target, data=lying)).status == 200
    assert (await payments(services).get(intent.id)).status is IntentStatus.PROCESSING
    fakes.momo.approve(str(intent.id))
    target, body = fakes.momo.callback_for(str(intent.id))
    for _ in range(2):
        assert (await gateway.put(target, data=body)).status == 200
    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
    assert len(await events(services, "PaymentSucceeded")) == 1
    forged = target.replace(str(intent.id), str(uuid.UUID(int=99)))
    assert (await gateway.put(forged, data=body)).status == 403


async def test_momo_crash_after_request_to_pay_is_recovered_by_requery_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    with pytest.raises(ProcessKilledError):
        await crashing_service(services, "momo").pay(momo_payment())
    assert len(fakes.momo.payments) == 1
    (reference,) = fakes.momo.payments
    fakes.momo.approve(reference)
    clock.advance(180)
    assert (await payments(services).requery()).settled == 1
    intent = await payments(services).get(uuid.UUID(reference))
    assert intent.status is IntentStatus.SUCCEEDED
    # Paying again with the same key answers the settled intent; MoMo is not asked again.
    assert (await payments(services).pay(momo_payment())).id == intent.id
    posts = [r for r in fakes.momo.requests if r.method == "POST" and "requesttopay" in r.path]
    assert len(posts) == 1


async def test_an_intent_the_provider_never_received_fails_after_the_grace_period(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    service = payments(services)
    intent = await service.create(momo_payment())
    # Created, never submitted (the process died before the claim).
    clock.advance(180)
    await service.requery()
    assert (await service.get(intent.id)).status is IntentStatus.FAILED
    assert fakes.momo.payments == {}


async def test_flutterwave_link_then_verified_webhook(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    intent = await payments(services).pay(
        CreatePayment(
            idempotency_key="flw-1",
            method=Method.FLUTTERWAVE,
            amount=Money(Decimal("26993.25"), "NGN"),
            customer=NGOZI,
        )
    )
    assert intent.status is IntentStatus.REQUIRES_ACTION
    assert intent.details["link"].startswith("https://checkout.flutterwave.com/")
    sent = json.loads(fakes.flutterwave.requests[0].body)
    assert (sent["tx_ref"], sent["amount"], sent["currency"]) == (
        intent.reference,
        "26993.25",
        "NGN",
    )
    body, headers = fakes.flutterwave.complete(intent.reference)
    bad = {**headers, "verif-hash": "guess"}
    assert (await gateway.post("/webhooks/flutterwave", data=body, headers=bad)).status == 403
    assert (await payments(services).get(intent.id)).status is IntentStatus.REQUIRES_ACTION
    for _ in range(2):
        response = await gateway.post("/webhooks/flutterwave", data=body, headers=headers)
        assert response.status == 200
    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
    verify = [r for r in fakes.flutterwave.requests if "verify_by_reference" in r.path]
    assert verify[0].path.endswith(f"tx_ref={intent.reference}")
    assert verify[0].headers["Authorization"] == f"Bearer {flutterwave.SECRET_KEY}"


async def test_what_flutterwave_keeps_of_a_payment_is_netted_out_of_the_days_settlement(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Flutterwave settles a charge less its `app_fee`: the books say it holds that much less,
    once however often the webhook comes, and the distributor's day is paid net of it."""
    money = services.money
    assert money is not None
    paid = Money(Decimal("26993.25"), "NGN")
    intent = await payments(services).pay(
        CreatePayment(
            idempotency_key="flw-fee", method=Method.FLUTTERWAVE, amount=paid, customer=NGOZI
        )
    )
    body, headers = fakes.flutterwave.complete(intent.reference)
    assert json.loads(body)["data"]["app_fee"] == 377.91  # 1.4 %, the merchant bears it
    for _ in range(2):
        response = await gateway.post("/webhooks/flutterwave", data=body, headers=headers)
        assert response.status == 200
        await services.relay.drain()

    fee = Money(Decimal("377.91"), "NGN")
    assert (await money.ledger.account("fees:flutterwave:NGN")).balance == fee
    assert (await money.ledger.account("rail:flutterwave:NGN")).balance == paid - fee
    lagos = next(d for d in DISTRIBUTORS if d.name == "lagos")
    today = clock.now().date()
    clock.advance(24 * 3600)
    batch = await money.settlement.settle_day(lagos, today)
    assert (batch.gross, batch.fees) == (paid, fee)
    assert batch.net == paid - fee - batch.commission
    assert (await money.ledger.check()).balanced


async def test_a_flutterwave_event_about_something_else_is_acknowledged_and_changes_nothing(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Flutterwave posts every event of the account to the one webhook URL and retries any it
    does not get a 200 for: a transfer made from the dashboard (no tx_ref) is acknowledged."""
    intent = await payments(services).pay(
        CreatePayment(
            idempotency_key="flw-2",
            method=Method.FLUTTERWAVE,
            amount=Money(Decimal("26993.25"), "NGN"),
            customer=NGOZI,
        )
    )
    transfer = {
        "event": "transfer.completed",
        "event.type": "Transfer",
        "data": {
            "id": 408136,
            "account_number": "0690000040",
            "bank_name": "ACCESS BANK NIGERIA",
            "bank_code": "044",
            "fullname": "Alexis Sanchez",
            "created_at": "2026-01-05T09:12:25.000Z",
            "currency": "NGN",
            "debit_currency": "NGN",
            "amount": 5000,
            "fee": 26.875,
            "status": "SUCCESSFUL",
            "reference": "dashboard-transfer-0105",
            "meta": None,
            "narration": "Supplier",
            "approver": None,
            "complete_message": "Successful",
            "requires_approval": 0,
            "is_approved": 1,
        },
    }
    headers = {"verif-hash": flutterwave.SECRET_HASH, "Content-Type": "application/json"}
    body = json.dumps(transfer).encode()
    response = await gateway.post("/webhooks/flutterwave", data=body, headers=headers)
    assert response.status == 200
    assert (await payments(services).get(intent.id)).status is IntentStatus.REQUIRES_ACTION
    assert not [r for r in fakes.flutterwave.requests if "verify" in r.path]
    assert await events(services, "PaymentSucceeded") == []


def nip_payout(key: str = "nip-1") -> CreatePayment:
    return CreatePayment(
        idempotency_key=key,
        method=Method.NIP,
        amount=Money(Decimal("15000.00"), "NGN"),
        customer=EMEKA,
        direction=Direction.PAYOUT,
        description="Driver earnings",
        bank_account="0123456789",
        bank_code="000013",
    )


async def test_nip_payout_enquires_the_name_then_transfers(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    intent = await payments(services).pay(nip_payout())
    assert intent.status is IntentStatus.SUCCEEDED
    assert intent.details["account_name"] == "EMEKA OBI"
    enquiry, transfer = (json.loads(r.body) for r in fakes.nibss.requests)
    assert transfer["nameEnquiryRef"] == enquiry["sessionID"]
    assert transfer["beneficiaryAccountName"] == "EMEKA OBI"
    assert transfer["amount"] == "15000.00"
    assert transfer["sessionID"].startswith(nibss.INSTITUTION_CODE)
    assert len(transfer["sessionID"]) == 30


async def test_nip_timeout_is_requeried_by_tsq_and_never_sent_twice(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    fakes.nibss.timeout_next_transfer = True
    intent = await payments(services).pay(nip_payout())
    assert intent.status is IntentStatus.UNKNOWN  # "97": the network cannot say yet
    assert (await payments(services).pay(nip_payout())).status is IntentStatus.UNKNOWN
    clock.advance(180)
    await payments(services).requery()
    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
    assert len(fakes.nibss.transfers) == 1
    tsq = json.loads(fakes.nibss.requests[-1].body)
    assert tsq["sessionID"] in fakes.nibss.transfers


async def test_the_gateways_periodic_requery_settles_without_anyone_asking(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    intent = await payments(services).pay(momo_payment())
    fakes.momo.approve(str(intent.id))
    clock.advance(180)
    loop = PaymentRequery(payments(services), every_seconds=0.01)
    loop.start()
    try:
        for _ in range(200):
            if (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED:
                break
            await asyncio.sleep(0.01)
    finally:
        await loop.stop()
    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
