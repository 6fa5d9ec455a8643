"""A paid order delivered short with its rest kept for a back-order: the back-order is born
paid from the original payment, so its workflow asks her for no money again (no second STK
push) and goes straight to the warehouse; delivered, it takes the money held as her credit,
on a balanced ledger, and nothing is refunded or charged beyond what she paid."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.app.bootstrap import Services, build_services
from core.app.server import create_app
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.model import Stage
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder, RestPolicy
from engines.payments import CreatePayment, Direction, Method
from tests.integration.workflows.conftest import until_stage
from tests.integration.workflows.test_paid_order import _until_started
from tests.support.demo_template import seed_demo
from tests.support.graphql import bearer, post_graphql
from tests.support.providers.payments import PaymentFakes
from tests.support.servers import TemporalServer

pytestmark = [pytest.mark.real, pytest.mark.slow]

JUMA = Phone("+254711000001")
NOODLES = "NDL-INDO-CHK"
JSON = {"Content-Type": "application/json"}
STATUS = "query($r: String!) { order(reference: $r) { ... on Order { payment { status } } } }"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def paid_services(
    database_url: str, fakes: PaymentFakes, temporal_server: TemporalServer, task_queue: str
) -> AsyncIterator[Services]:
    settings: Settings = fakes.settings(database_url).model_copy(
        update={
            "temporal_address": temporal_server.address,
            "temporal_task_queue": task_queue,
            "temporal_worker": True,
        }
    )
    clock = SteppedClock()
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    yield built
    await built.close()


async def held_at(services: Services, account: str) -> Decimal:
    assert services.money is not None
    return (await services.money.ledger.account(account)).balance.amount


async def delivered_with_back_order(
    services: Services, http: Client, fakes: PaymentFakes
) -> tuple[Order, Order]:
    """Juma pays 3 cartons by M-Pesa; 2 arrive, the third is kept for a back-order."""
    order = await services.orders.place(
        PlaceOrder(JUMA, RegionCode.NAIROBI, (CartLine(NOODLES, 3),), PaymentMethod.MPESA, "bo-1")
    )
    assert services.payments is not None
    await services.payments.pay(  # as the checkout asks, keyed on the order
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=Method.MPESA,
            amount=order.total,
            customer=JUMA,
            order_reference=order.reference,
        )
    )
    assert services.workflows is not None
    handle = services.workflows.fulfilment.order(order.reference)
    await _until_started(services, order.reference)
    await until_stage(handle, Stage.AWAITING_PAYMENT)
    target, body = fakes.daraja.pay(fakes.daraja.push_for("254711000001"))
    assert (await http.post(target, data=body, headers=JSON)).status == 200
    await until_stage(handle, Stage.IN_WAVE)
    await services.orders.advance(order.reference, OrderStatus.PACKED)
    await until_stage(handle, Stage.PICKED)
    await services.orders.advance(order.reference, OrderStatus.DISPATCHED)
    await until_stage(handle, Stage.OUT_FOR_DELIVERY)
    await services.orders.deliver(order.reference, {NOODLES: 2}, rest=RestPolicy.BACKORDER)
    assert (await asyncio.wait_for(handle.result(), 30)).stage is Stage.SETTLED
    mine = await services.orders.recent(JUMA)
    back = next(o for o in mine if o.reference != order.reference)
    return order, back


async def test_a_back_order_of_a_paid_order_asks_for_no_money_again(
    paid_services: Services, fakes: PaymentFakes
) -> None:
    services = paid_services
    app = create_app(services.settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as http:
        order, back = await delivered_with_back_order(services, http, fakes)
        assert [(ln.sku, ln.quantity) for ln in back.lines] == [(NOODLES, 1)]

        assert services.workflows is not None
        handle = services.workflows.fulfilment.order(back.reference)
        await _until_started(services, back.reference)
        # straight to the warehouse: it is paid (not waiting for money until its window
        # closes and it is cancelled, her money left as her credit)
        await until_stage(handle, Stage.IN_WAVE)
        assert len(fakes.daraja.pushes) == 1  # no second STK push for goods she paid for
        _, answer = await post_graphql(
            http, STATUS, {"r": back.reference}, bearer(services.settings, JUMA.e164, "customer")
        )
        assert answer["data"]["order"]["payment"]["status"] == "PAID", answer

        await services.orders.advance(back.reference, OrderStatus.PACKED)
        await until_stage(handle, Stage.PICKED)
        await services.orders.advance(back.reference, OrderStatus.DISPATCHED)
        await until_stage(handle, Stage.OUT_FOR_DELIVERY)
        await services.orders.deliver(back.reference)
        assert (await asyncio.wait_for(handle.result(), 30)).stage is Stage.SETTLED

    assert services.payments is not None
    intents = [*await services.payments.for_order(order.reference)]
    intents += await services.payments.for_order(back.reference)
    assert [i.direction for i in intents] == [Direction.COLLECT]  # one charge, no refund
    assert fakes.daraja.payouts == []
    assert fakes.daraja.reversals == []
    charged = fakes.daraja.pushes[0].body["Amount"]
    goods = order.total.amount  # 2 delivered + 1 on the back-order: what she ordered
    assert 0 <= charged - goods < 1  # M-Pesa charged whole shillings, rounded up
    # what she paid is taken by the two sales: nothing owed, only the rounding her credit
    assert await held_at(services, f"customer:{JUMA.e164}:receivable:KES") == goods - charged
    assert services.money is not None
    assert (await services.money.ledger.check()).balanced


async def test_a_cancelled_back_order_of_a_paid_order_is_paid_back_once(
    paid_services: Services, fakes: PaymentFakes
) -> None:
    """Cancelled by an operator while its workflow waits for the warehouse: the workflow's
    unwind has nothing of its own to refund, and the back-order's money goes back once, by
    B2C to Juma's phone (a part of his M-Pesa payment)."""
    services = paid_services
    app = create_app(services.settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as http:
        _order, back = await delivered_with_back_order(services, http, fakes)
        assert services.workflows is not None
        handle = services.workflows.fulfilment.order(back.reference)
        await _until_started(services, back.reference)
        await until_stage(handle, Stage.IN_WAVE)

        await services.orders.advance(back.reference, OrderStatus.CANCELLED)
        assert (await asyncio.wait_for(handle.result(), 30)).stage is Stage.CANCELLED
        for _ in range(50):
            if fakes.daraja.payouts:
                break
            await asyncio.sleep(0.1)
        [b2c] = fakes.daraja.payouts
        assert (b2c.body["PartyB"], b2c.body["Amount"]) == ("254711000001", int(back.total.amount))
        target, body = fakes.daraja.b2c_result(b2c)
        for _ in range(2):  # Daraja's result delivered twice
            assert (await http.post(target, data=body, headers=JSON)).status == 200
        await asyncio.sleep(1)  # what else the cancellation might still ask of a rail

    assert len(fakes.daraja.payouts) == 1
    assert fakes.daraja.reversals == []
    assert services.money is not None
    assert (await services.money.ledger.check()).balanced
