"""Money whose word comes late, twice or never: a bank transfer into a Nigerian retailer's own
account is found by the requery when Paystack's webhook never comes (and the webhook that does
come later changes nothing); on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, Order, PaymentMethod, PlaceOrder
from engines.payments import CreatePayment, IntentStatus, Method, PaymentService
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes, events

Client = TestClient[web.Request, web.Application]
NGOZI = Phone("+2348030000001")


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


def payments(services: Services) -> PaymentService:
    assert services.payments is not None
    return services.payments


async def ngozi_pays_by_transfer(services: Services, key: str) -> tuple[Order, str]:
    order = await services.orders.place(
        PlaceOrder(
            customer=NGOZI,
            region=RegionCode.LAGOS,
            lines=(CartLine("NDL-INDO-CHK", 3),),
            payment_method=PaymentMethod.BANK_TRANSFER,
            idempotency_key=key,
            clear_cart=False,
        )
    )
    intent = await payments(services).pay(
        CreatePayment(
            idempotency_key=f"pay-{key}",
            method=Method.BANK_TRANSFER,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    assert intent.status is IntentStatus.REQUIRES_ACTION
    return order, intent.details["account_number"]


async def receipts(services: Services, fakes: PaymentFakes) -> list[str]:
    await flush_outbox(services)
    return [s.message for s in fakes.sms.sent_to(NGOZI.e164) if "we received" in s.message]


async def test_a_transfer_whose_webhook_never_comes_is_found_by_the_requery_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    order, account = await ngozi_pays_by_transfer(services, "o1")
    clock.advance(60)
    kobo = int(order.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(account, kobo, at=clock.now())
    # The webhook is lost. The requery asks Paystack for Ngozi's transactions.
    clock.advance(180)
    report = await payments(services).requery()
    assert (report.checked, report.settled) == (1, 1)
    assert (await services.orders.get(order.reference)).paid_at is not None
    assert len(await receipts(services, fakes)) == 1

    [fetched] = [r for r in fakes.paystack.requests if r.path.startswith("/customer/")]
    [listed] = [r for r in fakes.paystack.requests if r.path.startswith("/transaction?")]
    assert fetched.path == f"/customer/{fakes.paystack.accounts[0].customer_code}"
    customer_id = fakes.paystack.customers[fakes.paystack.accounts[0].customer_code]["id"]
    assert parse_qs(urlsplit(listed.path).query) == {
        "customer": [str(customer_id)],
        "status": ["success"],
        "from": ["2026-01-05T09:00:00.000Z"],
        "to": ["2026-01-05T09:04:00.000Z"],
        "perPage": ["100"],
        "page": ["1"],
    }

    # The webhook arrives after all, twice: nothing moves again, no second receipt.
    for _ in range(2):
        answer = await gateway.post("/webhooks/paystack", data=body, headers=headers)
        assert answer.status == 200
    clock.advance(180)
    assert (await payments(services).requery()).checked == 0
    assert len(await events(services, "PaymentSucceeded")) == 1
    assert await events(services, "UnmatchedFundsReceived") == []
    assert len(await receipts(services, fakes)) == 1


async def test_a_transfer_the_webhook_applied_is_not_applied_again_by_the_requery(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Two orders of the same amount: the webhook pays the first; the requery of the second
    sees the same transaction in the list and must not pay the second with it."""
    first, account = await ngozi_pays_by_transfer(services, "o1")
    second, _ = await ngozi_pays_by_transfer(services, "o2")
    kobo = int(first.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(account, kobo, at=clock.now())
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    assert (await services.orders.get(first.reference)).paid_at is not None

    clock.advance(180)
    report = await payments(services).requery()
    assert (report.checked, report.settled) == (1, 0)
    assert (await services.orders.get(second.reference)).paid_at is None
    assert len(await events(services, "PaymentSucceeded")) == 1
    assert len(await receipts(services, fakes)) == 1

    # Her second transfer, never announced, pays the second order at the next pass.
    fakes.paystack.transfer_to_account(account, kobo, at=clock.now())
    clock.advance(180)
    assert (await payments(services).requery()).settled == 1
    assert (await services.orders.get(second.reference)).paid_at is not None
    assert len(await receipts(services, fakes)) == 2


async def test_the_requery_only_reads_transfers_made_since_the_payment_was_asked_for(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """A transfer from before the order existed (its webhook lost) is not taken as its payment:
    the requery reads the customer's list from the intent's creation on."""
    first, account = await ngozi_pays_by_transfer(services, "o1")
    kobo = int(first.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(account, kobo, at=clock.now())
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    clock.advance(600)
    fakes.paystack.transfer_to_account(account, kobo, at=clock.now())  # announced to no one
    clock.advance(600)
    second, _ = await ngozi_pays_by_transfer(services, "o2")
    clock.advance(180)
    assert (await payments(services).requery()).settled == 0
    assert (await services.orders.get(second.reference)).paid_at is None
    listed = [r for r in fakes.paystack.requests if r.path.startswith("/transaction?")]
    assert parse_qs(urlsplit(listed[-1].path).query)["from"] == ["2026-01-05T09:20:00.000Z"]
