"""Money owed back to a customer is never hers to spend twice: between the reaction that makes
it show on her account (a hold voided, a delivery posted short, a second payment posted) and the
refund asked of the rail that gives it back, it is not her account credit: not shown, not
offered at checkout, and the hold a confirm takes from credit refuses it. Each test stops the
reactions in that window (the ledger's has run, the refunder's not yet). Juma's M-Pesa tests
come first: one of his run right after a Paystack test sometimes finds credit he never had (as
test_pay_again does after test_short_delivery_refunds, before these tests were written)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.money import Money
from engines.ledger import TransferRefusedError
from engines.orders import OrderStatus, RestPolicy
from engines.payments import CreatePayment, Method
from tests.journeys.test_back_order_refunds import NOODLES, back_order_of, shipped
from tests.journeys.test_refunds import JSON, JUMA, NGOZI, paid_by_mpesa
from tests.journeys.test_returned_order_refunds import TO_DISPATCHED
from tests.journeys.test_short_delivery_refunds import paid
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[Any, Any]
KES = "KES"
NGN = "NGN"


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal="off")


async def test_the_rest_of_a_partly_refunded_payment_is_not_credit_before_its_refund(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """An operator gave back KES 100 of Juma's KES 2,522 (confirmed); then the order was
    cancelled: the KES 2,422 left is on its way back to M-Pesa, not credit to spend meanwhile."""
    assert services.money is not None
    assert services.refunds is not None
    books = services.money.books
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    await services.refunds.refund_order(order.reference, Money(Decimal(100), KES), key="op-1")
    [b2c] = fakes.daraja.payouts
    target, body = fakes.daraja.b2c_result(b2c)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)

    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await books.order_cancelled(order.reference)  # billing's reaction ran; the refunder's not

    assert await books.account_credit(JUMA, KES) == Money.zero(KES)
    with pytest.raises(TransferRefusedError):
        await books.order_paid_from_credit("ORD-TWICE", JUMA, Money(Decimal(800), KES))

    await flush_outbox(services)  # the rest is asked of Daraja (B2C: a part of the payment)
    assert len(fakes.daraja.payouts) == 2
    assert await books.account_credit(JUMA, KES) == Money.zero(KES)


async def test_a_second_payments_money_is_not_credit_before_its_refund(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma's order was paid by M-Pesa twice (a Pay again answered too): the second KES 2,522
    goes back to M-Pesa, and is not credit to spend between its posting and that refund."""
    assert services.money is not None
    assert services.payments is not None
    books = services.money.books
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    kept = await books.account_credit(JUMA, KES)  # the prompt's whole shillings: KES 0.74
    again = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}:2",
            method=Method.MPESA,
            amount=order.total,
            customer=JUMA,
            order_reference=order.reference,
        )
    )
    target, body = fakes.daraja.pay(fakes.daraja.pushes[1])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    again = await services.payments.get(again.id)
    assert again.receipt is not None
    # the posting's reaction ran; the double charge refunder's not
    await books.post_payment_received(JUMA, again.asked, "mpesa", again.receipt)

    assert await books.account_credit(JUMA, KES) == kept

    await flush_outbox(services)  # the second payment's reversal is asked of Daraja
    assert len(fakes.daraja.reversals) == 1
    assert await books.account_credit(JUMA, KES) == kept


async def test_a_cancelled_back_orders_money_is_not_credit_before_its_refund(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi's Paystack order came 2 of 3 cartons, the third kept for a back-order born paid;
    the back-order was cancelled: what she paid for it goes back to her card, from the
    original's payment, and is not credit to spend before (nor while) that refund runs."""
    assert services.money is not None
    books = services.money.books
    order, _ = await paid(gateway, services, fakes, Method.PAYSTACK, NGOZI)
    await shipped(services, order, 2, RestPolicy.BACKORDER)
    back = await back_order_of(services, order)

    await services.orders.advance(back.reference, OrderStatus.CANCELLED)
    await books.order_cancelled(back.reference)  # billing's reaction ran; the refunder's not

    assert await books.account_credit(NGOZI, NGN) == Money.zero(NGN)
    with pytest.raises(TransferRefusedError):
        await books.order_paid_from_credit("ORD-TWICE", NGOZI, Money(Decimal(500), NGN))

    await flush_outbox(services)  # the back-order's refund is asked of Paystack
    assert len(fakes.paystack.refunds) == 1
    assert await books.account_credit(NGOZI, NGN) == Money.zero(NGN)


async def test_a_short_deliverys_money_is_not_credit_before_its_refund(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi paid her Paystack order upfront and 2 of its 3 cartons came: what she paid for
    the third goes back to her card, and is not credit to spend between the delivery's posting
    (of only what arrived) and that refund."""
    assert services.money is not None
    books = services.money.books
    order, _ = await paid(gateway, services, fakes, Method.PAYSTACK, NGOZI)
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED]:
        await services.orders.advance(order.reference, status)
    await flush_outbox(services)
    arrived = await services.orders.deliver(order.reference, {NOODLES: 2})
    # billing's reaction ran (only what arrived posted, the rest of the hold released)
    await books.order_delivered(order.reference, arrived.tax, arrived.total)

    assert await books.account_credit(NGOZI, NGN) == Money.zero(NGN)
    with pytest.raises(TransferRefusedError):
        await books.order_paid_from_credit("ORD-TWICE", NGOZI, Money(Decimal(500), NGN))

    await flush_outbox(services)  # the short delivery's refund is asked of Paystack
    assert len(fakes.paystack.refunds) == 1
    assert await books.account_credit(NGOZI, NGN) == Money.zero(NGN)
