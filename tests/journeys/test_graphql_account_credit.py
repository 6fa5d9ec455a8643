"""An app pays an order from the credit kept on the customer's account (payment method
ACCOUNT_CREDIT), as the USSD checkout's "Pay from your credit": paid at once, once per key; a
credit that does not cover the whole order is refused before anything is placed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from tests.support.graphql import bearer, gql_session, run
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]
JUMA = "+254711000001"
SKU = "NDL-INDO-CHK"

PLACE = """
    mutation Place($input: PlaceOrderInput!) {
      placeOrder(input: $input) {
        order { reference status total { amount currency } payment { method status } }
        errors {
          __typename
          ... on UserError { message }
          ... on CreditRefused { reason available { amount currency } }
        }
      }
    }
    """


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


def _order(key: str) -> dict[str, Any]:
    return {
        "input": {
            "customer": JUMA,
            "lines": [{"sku": SKU, "quantity": 3}],
            "payment": {"method": "ACCOUNT_CREDIT"},
            "idempotencyKey": key,
        }
    }


async def _kept(services: Services, amount: str) -> None:
    """Money that paid no order, owed back to him: credit on his account."""
    assert services.money is not None
    await services.money.books.post_payment_received(
        Phone(JUMA), Money(Decimal(amount), "KES"), "mpesa", "KEPT-1"
    )


async def test_an_app_pays_from_the_credit_on_his_account_once_however_often_it_asks(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.money is not None
    await _kept(services, "5000")
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(session, PLACE, _order("app-kept-0001"))
        again = await run(session, PLACE, _order("app-kept-0001"))

    placed = result["placeOrder"]
    assert placed["errors"] == []
    assert placed["order"]["payment"] == {"method": "ACCOUNT_CREDIT", "status": "PAID"}
    assert placed["order"]["total"] == {"amount": "2521.26", "currency": "KES"}
    assert again["placeOrder"] == placed
    left = await services.money.books.account_credit(Phone(JUMA), "KES")
    assert left == Money(Decimal("2478.74"), "KES")
    assert fakes.daraja.pushes == []


async def test_credit_on_his_account_short_of_the_order_is_refused_unplaced(
    gateway: Client, services: Services
) -> None:
    await _kept(services, "2000")
    before = await services.catalogue.available(RegionCode.NAIROBI, SKU)
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(session, PLACE, _order("app-kept-0002"))

    [error] = result["placeOrder"]["errors"]
    assert (error["__typename"], error["reason"]) == ("CreditRefused", "insufficient")
    assert error["available"] == {"amount": "2000.00", "currency": "KES"}
    assert await services.orders.recent(Phone(JUMA)) == []
    assert await services.catalogue.available(RegionCode.NAIROBI, SKU) == before


CANCEL = """
    mutation Cancel($reference: String!) {
      cancelOrder(reference: $reference) {
        order { reference status payment { method status } }
        errors { __typename }
      }
    }
    """


async def test_an_order_paid_from_his_credit_and_cancelled_shows_its_payment_refunded(
    gateway: Client, services: Services
) -> None:
    """Juma cancels an order he paid from his credit: the money is back on his account, so his
    app must not still show the payment PAID beside the cancelled order."""
    assert services.money is not None
    await _kept(services, "5000")
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        placed = await run(session, PLACE, _order("app-kept-0003"))
        reference = placed["placeOrder"]["order"]["reference"]
        await flush_outbox(services)
        cancelled = await run(session, CANCEL, {"reference": reference})
        await flush_outbox(services)
        # placeOrder's answer was lost and the app retries it: the cancelled order, not
        # "your credit no longer covers the order", and nothing is taken again.
        retried = await run(session, PLACE, _order("app-kept-0003"))

    assert cancelled["cancelOrder"]["order"] == {
        "reference": reference,
        "status": "CANCELLED",
        "payment": {"method": "ACCOUNT_CREDIT", "status": "REFUNDED"},
    }
    assert retried["placeOrder"]["errors"] == []
    assert retried["placeOrder"]["order"]["status"] == "CANCELLED"
    left = await services.money.books.account_credit(Phone(JUMA), "KES")
    assert left == Money(Decimal(5000), "KES")


async def test_my_orders_says_a_cancelled_order_paid_from_his_credit_was_kept_as_credit(
    gateway: Client, services: Services
) -> None:
    """The app says REFUNDED; My orders on USSD must not still say "Cancelled, paid" beside
    it: the money is back on his account, as credit (Swahili, his default)."""
    await _kept(services, "5000")
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        placed = await run(session, PLACE, _order("app-kept-0004"))
        reference = placed["placeOrder"]["order"]["reference"]
        await flush_outbox(services)
        await run(session, CANCEL, {"reference": reference})
        await flush_outbox(services)

    juma = UssdPhone(gateway, JUMA)
    await juma.dial()
    orders = await juma.choose("Oda zangu")  # My orders, in Swahili: a Kenyan number

    [line] = [line for line in orders.body.splitlines() if line.startswith(reference)]
    assert line.startswith(f"{reference} Imeghairiwa, imerudi kwenye salio ")


async def test_an_app_paying_by_mpesa_is_asked_only_what_his_credit_leaves(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """KES 200 of his on his account, a KES 2,521.26 order paid by M-Pesa: the prompt asks
    only the rest (2,322, whole shillings), and the app reads it as `requestedAmount`; asked
    again with the same key, nothing more is asked."""
    assert services.money is not None
    await _kept(services, "200")
    order = _order("app-part-0001")
    order["input"]["payment"] = {"method": "MPESA"}
    query = PLACE.replace(
        "payment { method status }", "payment { method requestedAmount { amount } }"
    )
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(session, query, order)
        again = await run(session, query, order)

    placed = result["placeOrder"]
    assert placed["errors"] == []
    assert placed["order"]["payment"] == {
        "method": "MPESA",
        "requestedAmount": {"amount": "2322.00"},
    }
    assert again["placeOrder"] == placed
    [push] = fakes.daraja.pushes
    assert push.body["Amount"] == 2322
    assert await services.money.books.account_credit(Phone(JUMA), "KES") == Money.zero("KES")
