"""With workflows off (`OMNIROUTE_TEMPORAL=off`) no order workflow unwinds a cancelled order: the
gateway still gives a paid order's money back, once, on the rail it came by."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.money import Money
from core.region import RegionCode
from engines.orders import OrderStatus
from engines.payments import Direction, IntentStatus
from tests.journeys.test_refunds import JUMA, NGOZI, paid_by_mpesa, place
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal="off")


async def test_a_paid_order_that_is_cancelled_is_refunded_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.payments is not None
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    assert fakes.daraja.reversals == []

    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    for _ in range(2):
        await flush_outbox(services)

    [reversal] = fakes.daraja.reversals
    assert reversal.body["TransactionID"] == fakes.daraja.pushes[0].receipt
    assert reversal.body["Amount"] == fakes.daraja.pushes[0].body["Amount"]
    refunds = [
        i
        for i in await services.payments.for_order(order.reference)
        if i.direction is Direction.REFUND
    ]
    assert [i.status for i in refunds] == [IntentStatus.PROCESSING]
    assert {i.customer for i in refunds} == {JUMA}


async def test_a_cancelled_order_nobody_paid_for_asks_no_rail_for_anything(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.payments is not None
    unpaid = await place(services, NGOZI, RegionCode.LAGOS, "cancel-unpaid")
    await services.orders.advance(unpaid.reference, OrderStatus.CANCELLED)
    await flush_outbox(services)
    assert fakes.daraja.reversals == []
    assert fakes.paystack.refunds == {}
    assert await services.payments.for_order(unpaid.reference) == []


async def test_a_cancelled_order_an_operator_partly_refunded_gets_the_rest_back(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.payments is not None
    assert services.refunds is not None
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    part = Money(Decimal(100), "KES")
    await services.refunds.refund_order(order.reference, part, key="operator-1")

    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    for _ in range(2):
        await flush_outbox(services)

    # the operator's 100 and then the rest, each a part of the payment: paid back by B2C
    pushed = Decimal(fakes.daraja.pushes[0].body["Amount"])
    assert [Decimal(p.body["Amount"]) for p in fakes.daraja.payouts] == [100, pushed - 100]
    refunds = [
        i
        for i in await services.payments.for_order(order.reference)
        if i.direction is Direction.REFUND
    ]
    assert sum(i.amount.amount for i in refunds) == order.total.amount
