"""An order paid by M-Pesa in the conversation waits in its workflow for the money, and the
Daraja callback moves it on: the payment engine's webhook reaches Temporal as a signal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.app.bootstrap import Services, build_services
from core.app.server import create_app
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.model import Stage
from engines.fulfilment.workflows import order_workflow_id
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from tests.integration.workflows.conftest import until_stage
from tests.support.demo_template import seed_demo
from tests.support.graphql import bearer, post_graphql
from tests.support.phone import UssdPhone
from tests.support.providers.payments import PaymentFakes
from tests.support.servers import TemporalServer

pytestmark = [pytest.mark.real, pytest.mark.slow]

JUMA = "+254711000001"


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


async def test_an_mpesa_order_waits_for_its_money_and_the_callback_releases_it(
    paid_services: Services, fakes: PaymentFakes
) -> None:
    app = create_app(paid_services.settings, build=lambda _s: paid_services)
    async with TestClient(TestServer(app)) as http:
        juma = UssdPhone(http, JUMA)
        await juma.dial()
        await juma.choose("Nunua")
        await juma.choose("Tambi na Pasta")
        await juma.choose("Indomie Chicken")
        await juma.press("3")
        await juma.choose("Lipia")
        await juma.choose("Chagua malipo")
        await juma.choose("M-Pesa")
        done = await juma.choose("Thibitisha")
        assert done.kind == "END"
        [order] = await paid_services.orders.recent(Phone(JUMA))

        assert paid_services.workflows is not None
        fulfilment = paid_services.workflows.fulfilment
        handle = fulfilment.order(order.reference)
        await _until_started(paid_services, order.reference)
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        assert len(fakes.daraja.pushes) == 1  # the workflow asked for no second STK push

        # The app asks where the order is: the workflow answers through GraphQL.
        query = "query($r: String!) { order(reference: $r) { ... on Order { stage } } }"
        _, answer = await post_graphql(
            http, query, {"r": order.reference}, bearer(paid_services.settings, JUMA, "customer")
        )
        assert answer["data"]["order"]["stage"] == "awaiting_payment", answer

        target, body = fakes.daraja.pay(fakes.daraja.push_for("254711000001"))
        response = await http.post(target, data=body, headers={"Content-Type": "application/json"})
        assert response.status == 200
        status = await until_stage(handle, Stage.IN_WAVE)
        assert status.stage is Stage.IN_WAVE
        assert len(fakes.daraja.pushes) == 1
        _, answer = await post_graphql(
            http, query, {"r": order.reference}, bearer(paid_services.settings, JUMA, "customer")
        )
        assert answer["data"]["order"]["stage"] == "in_wave"


async def _until_started(services: Services, reference: str, timeout: float = 30.0) -> None:
    assert services.workflows is not None
    client = services.workflows.fulfilment.client
    handle = client.get_workflow_handle(order_workflow_id(reference))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await handle.describe()
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_the_engines_status_changes_carry_the_workflow_to_settlement(
    paid_services: Services,
) -> None:
    """The WMS packs, the gig platform dispatches, the driver's code delivers: each status the
    engines set moves the order's workflow on, with no signal sent by hand."""
    app = create_app(paid_services.settings, build=lambda _s: paid_services)
    async with TestClient(TestServer(app)):
        order = await paid_services.orders.place(
            PlaceOrder(
                Phone(JUMA),
                RegionCode.NAIROBI,
                (CartLine("NDL-INDO-CHK", 2),),
                PaymentMethod.ON_DELIVERY,
                "engines-carry-0001",
            )
        )
        assert paid_services.workflows is not None
        fulfilment = paid_services.workflows.fulfilment
        handle = fulfilment.order(order.reference)
        await _until_started(paid_services, order.reference)
        await until_stage(handle, Stage.IN_WAVE)

        await paid_services.orders.advance(order.reference, OrderStatus.PACKED)  # pick confirmed
        await until_stage(handle, Stage.PICKED)
        await paid_services.orders.advance(order.reference, OrderStatus.DISPATCHED)  # accepted
        await until_stage(handle, Stage.OUT_FOR_DELIVERY)
        await paid_services.orders.advance(order.reference, OrderStatus.DELIVERED)  # code keyed
        result = await asyncio.wait_for(handle.result(), 30)
        assert result.stage is Stage.SETTLED
        assert (await paid_services.orders.get(order.reference)).status is OrderStatus.DELIVERED
