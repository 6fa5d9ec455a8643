"""A paid order that is cancelled says where its money is, on USSD's My orders and in the app's
`payment { refund }`: on its way while the rail has not confirmed the refund, refunded once it
has, and never "paid" for money she is waiting to get back."""

from __future__ import annotations

from typing import Any

import pytest

from core.app.bootstrap import Services
from core.config import Settings
from engines.orders import Order, OrderStatus
from tests.journeys.test_refunds import JSON, JUMA, paid_by_mpesa
from tests.journeys.test_returned_order_refunds import Client
from tests.support.graphql import bearer, gql_session, run
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

ORDER = """
    query Order($reference: String!) {
      order(reference: $reference) {
        ... on Order { payment { status refund { status amount { amount currency } } } }
      }
    }
    """


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal="off")


async def my_orders_line(gateway: Client, order: Order) -> str:
    """His order's line on My orders (in Swahili: a Kenyan number)."""
    juma = UssdPhone(gateway, JUMA.e164)
    await juma.dial()
    orders = await juma.choose("Oda zangu")
    [line] = [line for line in orders.body.splitlines() if line.startswith(order.reference)]
    return line


async def app_payment(gateway: Client, services: Services, order: Order) -> dict[str, Any]:
    headers = bearer(services.settings, JUMA.e164, "customer")
    async with gql_session(gateway, headers) as session:
        found = await run(session, ORDER, {"reference": order.reference})
    payment: dict[str, Any] = found["order"]["payment"]
    return payment


async def test_a_cancelled_order_whose_refund_is_not_confirmed_says_it_is_on_its_way(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await flush_outbox(services)  # the reversal is asked of Daraja; its result has not come
    paid = {"amount": f"{order.total.amount:f}", "currency": "KES"}

    line = await my_orders_line(gateway, order)
    assert line.startswith(f"{order.reference} Imeghairiwa, pesa zinarudishwa "), line
    assert await app_payment(gateway, services, order) == {
        "status": "SUCCEEDED",
        "refund": {"status": "PENDING", "amount": paid},
    }

    [reversal] = fakes.daraja.reversals
    target, body = fakes.daraja.reversal_result(reversal)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)

    line = await my_orders_line(gateway, order)
    assert line.startswith(f"{order.reference} Imeghairiwa, imerudishwa "), line
    assert await app_payment(gateway, services, order) == {
        "status": "REFUNDED",
        "refund": {"status": "REFUNDED", "amount": paid},
    }
