"""Provider-shaped webhook bodies (fixtures/, sources in SOURCES.md) posted byte for byte."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.money import Money
from core.phone import Phone
from engines.payments import (
    CreatePayment,
    IntentStatus,
    Method,
    PaymentIntent,
    PaymentService,
    VirtualAccount,
)
from engines.payments.rails.callbacks import CallbackUrls
from engines.payments.rails.paystack import signature
from engines.payments.repository import SqlPaymentRepository
from tests.support.providers import paystack
from tests.support.providers.payments import (
    CALLBACK_SECRET,
    PUBLIC_URL,
    PaymentFakes,
    events,
)

Client = TestClient[web.Request, web.Application]
FIXTURES = Path(__file__).parent / "fixtures"
JUMA = Phone("+254711000001")
NGOZI = Phone("+2348030000001")


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


def payments(services: Services) -> PaymentService:
    assert services.payments is not None
    return services.payments


def signed_path(provider: str, intent_id: uuid.UUID) -> str:
    url = CallbackUrls(PUBLIC_URL, CALLBACK_SECRET).url(provider, intent_id)
    return url.removeprefix(PUBLIC_URL)


async def one_shilling(services: Services) -> PaymentIntent:
    return await payments(services).pay(
        CreatePayment(
            idempotency_key="contract",
            method=Method.MPESA,
            amount=Money(Decimal(1), "KES"),
            customer=JUMA,
        )
    )


async def test_daraja_paid_callback_with_its_valueless_balance_item(
    client: Client, services: Services
) -> None:
    intent = await one_shilling(services)
    body = (FIXTURES / "mpesa_stk_paid.json").read_bytes()
    response = await client.post(signed_path("mpesa", intent.id), data=body)
    assert response.status == 200
    assert await response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    paid = await payments(services).get(intent.id)
    assert (paid.status, paid.receipt) == (IntentStatus.SUCCEEDED, "NE10MHGI7K")
    [event] = await events(services, "PaymentSucceeded")
    assert (event["received"], event["receipt"]) == ("1.00", "NE10MHGI7K")


async def test_daraja_cancelled_callback(client: Client, services: Services) -> None:
    intent = await one_shilling(services)
    body = (FIXTURES / "mpesa_stk_cancelled.json").read_bytes()
    assert (await client.post(signed_path("mpesa", intent.id), data=body)).status == 200
    failed = await payments(services).get(intent.id)
    assert failed.status is IntentStatus.FAILED
    assert failed.failure_reason == "1032: Request cancelled by user"
    # The operators' dashboard shows M-Pesa's collections failing (and alerts on it).
    await services.relay.drain()
    scrape = await (await client.get("/metrics")).text()
    labels = 'direction="collect",provider="mpesa",status="failed"'
    assert f"omniroute_payments_total{{{labels}}} 1.0" in scrape


async def test_daraja_callback_to_an_unsigned_url_changes_nothing(
    client: Client, services: Services
) -> None:
    intent = await one_shilling(services)
    body = (FIXTURES / "mpesa_stk_paid.json").read_bytes()
    response = await client.post(f"/webhooks/mpesa?intent={intent.id}", data=body)
    assert response.status == 403
    assert (await payments(services).get(intent.id)).status is IntentStatus.PROCESSING
    assert await events(services, "PaymentSucceeded") == []


async def test_paystack_dedicated_nuban_charge_success(client: Client, services: Services) -> None:
    async with services.db.transaction() as s:
        await SqlPaymentRepository(s).add_virtual_account(
            VirtualAccount(NGOZI, "paystack", "1234567890", "Test User", "Test Bank", "CUS_x"),
            services.clock.now(),
        )
    intent = await payments(services).pay(
        CreatePayment(
            idempotency_key="dva",
            method=Method.BANK_TRANSFER,
            amount=Money(Decimal(100), "NGN"),
            customer=NGOZI,
        )
    )
    assert intent.details["account_number"] == "1234567890"
    body = (FIXTURES / "paystack_dva_charge_success.json").read_bytes()
    headers = {
        "x-paystack-signature": signature(paystack.SECRET_KEY, body),
        "Content-Type": "application/json",
    }
    assert (await client.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    paid = await payments(services).get(intent.id)
    assert (paid.status, paid.receipt) == (IntentStatus.SUCCEEDED, "1504248187")


async def test_a_transfer_naming_her_order_pays_that_order_not_the_one_its_amount_covers(
    client: Client, services: Services
) -> None:
    """Ngozi has orders of NGN 26,993.25 and NGN 5,000 waiting and sends NGN 20,000 as a part
    of the older, writing its number in the transfer's description (Paystack's `narration`):
    it is a part of that order, not the payment of the NGN 5,000 one with NGN 15,000 kept as
    her credit."""
    async with services.db.transaction() as s:
        await SqlPaymentRepository(s).add_virtual_account(
            VirtualAccount(NGOZI, "paystack", "1234567890", "Ngozi Okafor", "Wema Bank", "CUS_x"),
            services.clock.now(),
        )
    older, newer = [
        await payments(services).pay(
            CreatePayment(
                idempotency_key=f"order:{reference}",
                method=Method.BANK_TRANSFER,
                amount=Money(Decimal(total), "NGN"),
                customer=NGOZI,
                order_reference=reference,
            )
        )
        for reference, total in (("W62ACJ", "26993.25"), ("X7QK2M", "5000"))
    ]
    body = (FIXTURES / "paystack_dva_charge_success_naming_order.json").read_bytes()
    headers = {
        "x-paystack-signature": signature(paystack.SECRET_KEY, body),
        "Content-Type": "application/json",
    }
    assert (await client.post("/webhooks/paystack", data=body, headers=headers)).status == 200

    part = await payments(services).get(older.id)
    assert (part.status, part.still_due) == (older.status, Money(Decimal("6993.25"), "NGN"))
    untouched = await payments(services).get(newer.id)
    assert (untouched.status, untouched.still_due) == (newer.status, newer.amount)
    assert await events(services, "PaymentSucceeded") == []
    [received] = await events(services, "UnmatchedFundsReceived")
    assert (received["order_reference"], received["amount"], received["still_due"]) == (
        "W62ACJ",
        "20000.00",
        "6993.25",
    )


async def test_a_transfer_with_her_order_number_glued_to_other_text_pays_that_order(
    client: Client, services: Services
) -> None:
    """Ngozi's bank app wrote 'ORDERW62ACJ' (no space) in the description: the transfer named no
    order, so her NGN 20,000 paid the NGN 5,000 order by amount and NGN 15,000 was kept as her
    credit. Her order's number glued to other text is that order's."""
    async with services.db.transaction() as s:
        await SqlPaymentRepository(s).add_virtual_account(
            VirtualAccount(NGOZI, "paystack", "1234567890", "Ngozi Okafor", "Wema Bank", "CUS_x"),
            services.clock.now(),
        )
    older, newer = [
        await payments(services).pay(
            CreatePayment(
                idempotency_key=f"order:{reference}",
                method=Method.BANK_TRANSFER,
                amount=Money(Decimal(total), "NGN"),
                customer=NGOZI,
                order_reference=reference,
            )
        )
        for reference, total in (("W62ACJ", "26993.25"), ("X7QK2M", "5000"))
    ]
    named = (FIXTURES / "paystack_dva_charge_success_naming_order.json").read_bytes()
    body = named.replace(b"-order w62acj part", b"-ORDERW62ACJ")  # the same shape, glued
    headers = {
        "x-paystack-signature": signature(paystack.SECRET_KEY, body),
        "Content-Type": "application/json",
    }
    assert (await client.post("/webhooks/paystack", data=body, headers=headers)).status == 200

    part = await payments(services).get(older.id)
    assert part.still_due == Money(Decimal("6993.25"), "NGN")
    untouched = await payments(services).get(newer.id)
    assert (untouched.status, untouched.still_due) == (newer.status, newer.amount)
    [received] = await events(services, "UnmatchedFundsReceived")
    assert (received["order_reference"], received["amount"]) == ("W62ACJ", "20000.00")


async def test_a_forged_signature_in_any_characters_is_refused_403_and_changes_nothing(
    client: Client, services: Services
) -> None:
    """A forger's signature need not be hex: one with a character outside ASCII is refused
    like any other forgery, not answered 500."""
    intent = await one_shilling(services)
    paid = (FIXTURES / "mpesa_stk_paid.json").read_bytes()
    forged_url = f"/webhooks/mpesa?intent={intent.id}&sig=%C3%A9"
    assert (await client.post(forged_url, data=paid)).status == 403
    dva = (FIXTURES / "paystack_dva_charge_success.json").read_bytes()
    for provider, header in (("paystack", "x-paystack-signature"), ("flutterwave", "verif-hash")):
        forged = {header: "sïgnature", "Content-Type": "application/json"}
        response = await client.post(f"/webhooks/{provider}", data=dva, headers=forged)
        assert response.status == 403
        assert await response.json() == {"error": "signature check failed"}
    assert (await payments(services).get(intent.id)).status is IntentStatus.PROCESSING
    assert await events(services, "PaymentSucceeded") == []
