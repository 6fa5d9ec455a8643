"""On a real Temporal dev server: a driver keys three wrong codes at the door, the stop is
escalated and the order's workflow waits; the operator's `omniroute deliveries resolve` ends the
wait. Delivered: the workflow settles as after a keyed code. Returned: a Paystack-paid order is
refunded once on the rail and once on the ledger, its cartons go back on the shelves, the
customer is told, and the workflow ends returned."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.app.bootstrap import Services, build_services
from core.app.deliveries_cli import resolve
from core.app.demo import load_distribution_demo
from core.app.dispatch_plan import operators_planner
from core.app.server import create_app
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.model import Stage
from engines.gig import OfferStatus, StopStatus, Task
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.payments import CreatePayment, Method
from engines.wms import PathPolicy
from tests.integration.workflows.conftest import texts_to, until_stage
from tests.integration.workflows.test_delivery_workflow import my_orders, started
from tests.support.at_voice import AtCaller
from tests.support.demo_template import seed_demo
from tests.support.gig import code_for
from tests.support.providers.payments import PaymentFakes
from tests.support.servers import TemporalServer

pytestmark = [pytest.mark.real, pytest.mark.slow]

Http = TestClient[Any, Any]
NGOZI = Phone("+2348030000001")  # a demo retailer with a delivery point
NOODLES = "NDL-INDO-CHK"
WAREHOUSE = "WH-LAGOS"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def carried(
    database_url: str, fakes: PaymentFakes, temporal_server: TemporalServer
) -> AsyncIterator[tuple[Services, Http]]:
    """The gateway with its in-process worker, the payment fakes, the demo warehouse and
    drivers on shift now."""
    clock = SteppedClock()
    settings: Settings = fakes.settings(database_url).model_copy(
        update={
            "temporal_address": temporal_server.address,
            "temporal_task_queue": f"escalated-{uuid.uuid4().hex[:8]}",
            "temporal_worker": True,
        }
    )
    services = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(services.db, clock.now())
    await load_distribution_demo(services.db, clock.now())
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as http:
        await services.sweeper.stop()  # offers come from the planner and the workflow here
        yield services, http
    await services.close()


async def on_shelves(services: Services) -> int:
    return sum(at.quantity for at in await services.warehouse.stock(WAREHOUSE, NOODLES))


async def paid_by_paystack(
    services: Services, http: Http, fakes: PaymentFakes, order: Order
) -> None:
    assert services.payments is not None
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"pay-{order.reference}",
            method=Method.PAYSTACK,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    body, headers = fakes.paystack.customer_dials(intent.reference)
    assert (await http.post("/webhooks/paystack", data=body, headers=headers)).status == 200


async def escalated(
    services: Services, http: Http, fakes: PaymentFakes, method: PaymentMethod
) -> tuple[Order, Task]:
    """Ngozi's order, paid when `method` is prepaid, picked, routed and taken by a driver on
    the IVR, who keys three wrong codes at her door."""
    assert services.workflows is not None
    order = await services.orders.place(
        PlaceOrder(NGOZI, RegionCode.LAGOS, (CartLine(NOODLES, 3),), method, uuid.uuid4().hex)
    )
    await started(services, order.reference)
    handle = services.workflows.fulfilment.order(order.reference)
    if method is PaymentMethod.PAYSTACK:
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        await paid_by_paystack(services, http, fakes, order)
    await until_stage(handle, Stage.IN_WAVE)
    planner = operators_planner(services)
    [route] = (
        await planner.plan(RegionCode.LAGOS, services.clock.now().date(), time_limit_s=1)
    ).routes
    pick = await services.warehouse.pick_list(WAREHOUSE, order.reference)
    _path, lines = await services.warehouse.path(pick.id, PathPolicy.OPTIMAL)
    for line in lines:
        await services.warehouse.confirm_pick(pick.id, line.position, line.quantity)
    await until_stage(handle, Stage.ROUTED)
    [task] = [t for t in await services.gig.tasks() if t.route_id == route.route_id]
    offer = None
    for _ in range(300):  # the workflow's driver request makes the offer
        offer = next(
            (o for o in await services.gig.offers(task.id) if o.status is OfferStatus.OPEN), None
        )
        if offer is not None:
            break
        await asyncio.sleep(0.1)
    assert offer is not None
    driver = await services.gig.worker(offer.worker_id)

    caller = AtCaller(http, driver.phone.e164, f"ATVId_{order.reference}")
    await caller.dial()
    await caller.choose("Accept")
    await until_stage(handle, Stage.OUT_FOR_DELIVERY)
    await caller.choose("Arrived")
    right = await code_for(services, NGOZI, order.reference)
    wrong = "1111" if right != "1111" else "2222"
    for _ in range(3):
        said = (await caller.press(wrong)).say
    assert said.startswith("Three wrong codes.")
    [stop] = (await services.gig.task(task.id)).stops
    assert stop.status is StopStatus.ESCALATED
    return order, task


async def test_an_escalated_delivery_the_operator_confirms_is_settled(
    carried: tuple[Services, Http], fakes: PaymentFakes
) -> None:
    services, http = carried
    assert services.workflows is not None
    order, task = await escalated(services, http, fakes, PaymentMethod.ON_DELIVERY)
    handle = services.workflows.fulfilment.order(order.reference)
    await asyncio.sleep(1)
    assert (await services.workflows.fulfilment.status(order.reference)).stage in (
        Stage.OUT_FOR_DELIVERY,
        Stage.DRIVER_ARRIVED,
    )  # waiting: nobody proved the delivery

    done = await resolve(services, order.reference, StopStatus.DELIVERED)

    assert not done.already
    result = await asyncio.wait_for(handle.result(), 30)
    assert result.stage is Stage.SETTLED
    history = (await services.workflows.fulfilment.status(order.reference)).history
    assert [change.stage for change in history][-2:] == [Stage.DELIVERED, Stage.SETTLED]
    assert (await services.orders.get(order.reference)).status is OrderStatus.DELIVERED
    [stop] = (await services.gig.task(task.id)).stops
    assert stop.status is StopStatus.DELIVERED
    assert f"{order.reference} Delivered" in await my_orders(http, NGOZI.e164)
    assert any(f"order {order.reference} is delivered" in t for t in await texts_to(services))

    again = await resolve(services, order.reference, StopStatus.DELIVERED)
    assert again.already
    assert (await services.orders.get(order.reference)).status is OrderStatus.DELIVERED


async def test_a_paid_escalated_delivery_brought_back_is_refunded_once_and_restocked(
    carried: tuple[Services, Http], fakes: PaymentFakes
) -> None:
    services, http = carried
    assert services.workflows is not None
    assert services.money is not None
    shelves = await on_shelves(services)
    available = await services.catalogue.available(RegionCode.LAGOS, NOODLES)
    order, task = await escalated(services, http, fakes, PaymentMethod.PAYSTACK)
    handle = services.workflows.fulfilment.order(order.reference)
    assert await on_shelves(services) == shelves - 3
    rail = await services.money.ledger.account("rail:paystack:NGN")
    assert rail.balance.amount == order.total.amount

    done = await resolve(services, order.reference, StopStatus.RETURNED)

    assert not done.already
    result = await asyncio.wait_for(handle.result(), 30)
    assert result.stage is Stage.RETURNED
    assert (await services.orders.get(order.reference)).status is OrderStatus.RETURNED
    [stop] = (await services.gig.task(task.id)).stops
    assert stop.status is StopStatus.RETURNED
    # the cartons are back on the shelves and can be sold again
    assert await on_shelves(services) == shelves
    assert await services.catalogue.available(RegionCode.LAGOS, NOODLES) == available
    # one refund on the rail, of all that was paid
    [refund_id] = fakes.paystack.refunds
    [sent] = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert sent["amount"] == int(order.total.amount * 100)
    # its result, delivered twice, reverses the payment's posting once
    body, headers = fakes.paystack.refund_result(refund_id)
    for _ in range(2):
        assert (await http.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    for _ in range(100):
        rail = await services.money.ledger.account("rail:paystack:NGN")
        if rail.balance.amount != order.total.amount:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a second reversal would land now
    rail = await services.money.ledger.account("rail:paystack:NGN")
    assert rail.balance.amount == Decimal(0)
    assert any(
        f"order {order.reference} came back to our warehouse" in t for t in await texts_to(services)
    )
    assert f"{order.reference} Returned" in await my_orders(http, NGOZI.e164)

    # run again: nothing more is refunded or restocked
    again = await resolve(services, order.reference, StopStatus.RETURNED)
    assert again.already
    assert len(fakes.paystack.refunds) == 1
    assert await on_shelves(services) == shelves
