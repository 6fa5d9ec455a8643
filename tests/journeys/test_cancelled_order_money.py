"""A paid order that is cancelled says where its money is, on USSD's My orders and in the app's
`payment { refund }`: on its way while the rail has not confirmed the refund, refunded once it
has, delayed while the rail waits on someone, kept as her credit when the rail could not make
it; never "paid" or "refunded" for money she does not have back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from engines.ledger import TransferRefusedError
from engines.orders import Order, OrderStatus, RestPolicy
from engines.payments import Method
from tests.journeys.test_back_order_refunds import back_order_of, cancelled, shipped
from tests.journeys.test_failed_refund_notices import reversal_fails_twice
from tests.journeys.test_refunds import JSON, JUMA, NGOZI, paid_by_mpesa, paid_by_paystack
from tests.journeys.test_short_delivery_refunds import paid
from tests.support.graphql import bearer, gql_session, run
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[Any, Any]

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


async def my_orders_line(gateway: Client, order: Order, who: Phone = JUMA) -> str:
    """The order's line on My orders (Juma's in Swahili: a Kenyan number)."""
    phone = UssdPhone(gateway, who.e164)
    await phone.dial()
    orders = await phone.choose("Oda zangu" if who == JUMA else "My orders")
    [line] = [line for line in orders.body.splitlines() if line.startswith(order.reference)]
    return line


async def app_payment(
    gateway: Client, services: Services, order: Order, who: Phone = JUMA
) -> dict[str, Any]:
    headers = bearer(services.settings, who.e164, "customer")
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


async def test_a_cancelled_order_whose_reversal_failed_says_it_is_kept_as_credit(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Daraja's reversal failed: the money is on his account (the SMS told him so), not
    refunded and not on its way."""
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await flush_outbox(services)
    await reversal_fails_twice(gateway, services, fakes)

    line = await my_orders_line(gateway, order)
    assert line.startswith(f"{order.reference} Imeghairiwa, imerudi kwenye salio "), line
    assert await app_payment(gateway, services, order) == {
        "status": "SUCCEEDED",
        "refund": {
            "status": "KEPT_AS_CREDIT",
            "amount": {"amount": f"{order.total.amount:f}", "currency": "KES"},
        },
    }
    assert services.money is not None  # his to spend now
    credit = await services.money.books.account_credit(JUMA, "KES")
    assert credit == Money(Decimal(2522), "KES")


async def test_a_cancelled_order_s_money_is_not_his_credit_before_its_refund_is_asked(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """The cancel's hold void and its refund are separate reactions: between them (the hold
    voided, the reversal not asked yet) his KES 2,522 is not credit to pay another order with
    (he would have it twice, back on M-Pesa and in goods), nor once the reversal went back."""
    assert services.money is not None
    books = services.money.books
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await books.order_cancelled(order.reference)  # billing's reaction ran; the refunder's not
    assert fakes.daraja.reversals == []

    assert await books.account_credit(JUMA, "KES") == Money.zero("KES")
    with pytest.raises(TransferRefusedError):  # the hold a confirm from credit takes
        await books.order_paid_from_credit("ORD-TWICE", JUMA, Money(Decimal(800), "KES"))

    await flush_outbox(services)
    [reversal] = fakes.daraja.reversals
    target, body = fakes.daraja.reversal_result(reversal)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    assert await books.account_credit(JUMA, "KES") == Money.zero("KES")
    assert (await services.money.ledger.check()).balanced


async def test_a_cancelled_order_whose_refund_waits_on_someone_says_to_call_us(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Paystack holds the refund in `needs-attention`: it is delayed, and she should call."""
    assert services.refunds is not None
    assert services.payments is not None
    order, _ = await paid_by_paystack(gateway, services, fakes, "cancel-attention")
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await services.refunds.refund_order(order.reference, order.total, key="cancel-attention")
    [refund_id] = fakes.paystack.refunds
    fakes.paystack.refund_needs_attention(refund_id)
    clock.advance(180)
    await services.payments.requery()

    line = await my_orders_line(gateway, order, NGOZI)
    assert line.startswith(f"{order.reference} Cancelled, refund delayed, call us "), line
    payment = await app_payment(gateway, services, order, NGOZI)
    assert payment["refund"]["status"] == "DELAYED"


async def test_a_cancelled_back_order_born_paid_says_its_refund_is_on_its_way(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Its money is its original's Paystack payment, refunded in part for it: until Paystack
    confirms, it is on its way (it read "Cancelled, paid")."""
    order, _ = await paid(gateway, services, fakes, Method.PAYSTACK, NGOZI)
    await shipped(services, order, 2, RestPolicy.BACKORDER)
    back = await back_order_of(services, order)
    await cancelled(services, back)

    line = await my_orders_line(gateway, back, NGOZI)
    assert line.startswith(f"{back.reference} Cancelled, refund on its way "), line
    payment = await app_payment(gateway, services, back, NGOZI)
    assert payment["refund"] == {
        "status": "PENDING",
        "amount": {"amount": f"{back.total.amount:f}", "currency": "NGN"},
    }
