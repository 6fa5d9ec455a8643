"""On a real Temporal dev server, an order's workflow is carried by the engines that do the work:
placed over USSD, released to the warehouse, routed and waved by the day planner, picked, offered
to a driver who takes it on the IVR (the workflow learns that driver), delivered with the
customer's code, settled. The customer's "My orders" shows where the workflow says it is."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.app.bootstrap import Services, build_services
from core.app.demo import load_distribution_demo
from core.app.dispatch_plan import operators_planner
from core.app.server import create_app
from core.app.workflows import stage_reader
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.model import Stage
from engines.fulfilment.requests import DispatchStep, SqlDispatchRequests
from engines.gig import OfferStatus, Task, TaskStatus, Worker
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.wms import PathPolicy
from tests.contract.channels.africastalking.test_ussd_published import publish
from tests.integration.workflows.conftest import texts_to, until_stage
from tests.support.at_voice import AtCaller
from tests.support.demo_template import seed_demo
from tests.support.gig import code_for
from tests.support.graphql import bearer, gql_session, run
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import FakeAfricasTalking
from tests.support.servers import TemporalServer

pytestmark = [pytest.mark.real, pytest.mark.slow]

Http = TestClient[Any, Any]  # the USSD phone and the IVR caller type their clients differently
NGOZI = "+2348030000001"  # a demo retailer with a delivery point
_CODE = re.compile(r"code is (\d{4})")
ACCEPT = """mutation($t: String!) {
  acceptTask(task: $t) { task { status } errors { __typename } }
}"""
ARRIVE = """mutation($t: String!) {
  arriveAtStop(task: $t) { stop { status } errors { __typename } }
}"""
CONFIRM = """mutation($t: String!, $c: String!) {
  confirmDelivery(task: $t, code: $c) { taskCompleted errors { __typename } }
}"""
STAGE = """query($r: String!) { order(reference: $r) { ... on Order { stage } } }"""


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def carried(
    settings: Settings, temporal_server: TemporalServer
) -> AsyncIterator[tuple[Services, Http]]:
    """The gateway with its in-process worker on the real dev server, the demo warehouse and
    drivers on shift now."""
    clock = SteppedClock()
    real = settings.model_copy(
        update={
            "temporal_address": temporal_server.address,
            "temporal_task_queue": f"delivery-{uuid.uuid4().hex[:8]}",
            "temporal_worker": True,
        }
    )
    services = build_services(real, clock=clock, ids=RandomIds())
    await seed_demo(services.db, clock.now())
    await load_distribution_demo(services.db, clock.now())
    app = create_app(real, build=lambda _s: services)
    async with TestClient(TestServer(app)) as http:
        await services.sweeper.stop()  # offers come from the planner and the workflow here
        yield services, http
    await services.close()


async def order_over_ussd(http: Http, phone: str) -> str:
    retailer = UssdPhone(http, phone)
    await retailer.dial()
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await retailer.choose(label)
    await retailer.press("3")
    for label in ("Checkout", "Choose payment", "Pay on delivery"):
        await retailer.choose(label)
    screen = await retailer.choose("Confirm")
    found = re.search(r"Order (\w+) placed", screen.text)
    assert found, screen.text
    return found.group(1)


async def my_orders(http: Http, phone: str) -> str:
    """The "My orders" screen, through Africa's Talking's USSD callback."""
    retailer = UssdPhone(http, phone)
    await retailer.dial()
    return (await retailer.choose("My orders")).text


async def started(services: Services, reference: str) -> None:
    assert services.workflows is not None
    handle = services.workflows.fulfilment.order(reference)
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            await handle.describe()
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def routed_and_offered(services: Services, http: Http) -> tuple[str, Task, Worker]:
    """Placed over USSD, released, planned and waved, picked: routed, its route on offer."""
    assert services.workflows is not None
    fulfilment = services.workflows.fulfilment
    requests = SqlDispatchRequests(services.db)

    reference = await order_over_ussd(http, NGOZI)
    # An M-Pesa order nobody has paid yet: its workflow waits and does not release it.
    unpaid = await services.orders.place(
        PlaceOrder(
            Phone(NGOZI),
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 1),),
            PaymentMethod.MPESA,
            f"delivery-unpaid-{reference}",
        )
    )
    await started(services, reference)
    await started(services, unpaid.reference)
    handle = fulfilment.order(reference)
    await until_stage(handle, Stage.IN_WAVE)
    await until_stage(fulfilment.order(unpaid.reference), Stage.AWAITING_PAYMENT)
    assert await requests.steps(reference) == [DispatchStep.WAVE]
    assert await requests.steps(unpaid.reference) == []
    assert f"{reference} Being picked" in await my_orders(http, NGOZI)

    # The operator plans the day: the released order is routed and waved, the unpaid one not.
    planner = operators_planner(services)
    report = await planner.plan(RegionCode.LAGOS, services.clock.now().date(), time_limit_s=1)
    [route] = report.routes
    assert [s.order for s in route.stops] == [reference]
    [wave] = report.waves.waves
    assert wave.orders == (reference,)

    # The night shift picks it: packed, and the workflow asks for a route and a driver.
    pick = await services.warehouse.pick_list("WH-LAGOS", reference)
    _path, lines = await services.warehouse.path(pick.id, PathPolicy.OPTIMAL)
    for line in lines:
        await services.warehouse.confirm_pick(pick.id, line.position, line.quantity)
    routed = await until_stage(handle, Stage.ROUTED)
    assert routed.route_id == route.route_id
    await until_requested(requests, reference, set(DispatchStep))
    assert f"{reference} Route planned" in await my_orders(http, NGOZI)

    # The workflow's driver request offered the route to one driver.
    [task] = [t for t in await services.gig.tasks() if t.route_id == route.route_id]
    # The request is recorded as it starts; its solve runs in a thread (one at a time): wait.
    for _ in range(300):
        offers = [o for o in await services.gig.offers(task.id) if o.status is OfferStatus.OPEN]
        if offers:
            break
        await asyncio.sleep(0.1)
    [offer] = offers
    return reference, task, await services.gig.worker(offer.worker_id)


async def until_requested(
    requests: SqlDispatchRequests, reference: str, steps: set[DispatchStep]
) -> None:
    """The workflow records its requests as it goes: wait for them (30 s at most)."""
    for _ in range(300):
        if set(await requests.steps(reference)) == steps:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{reference} requested {await requests.steps(reference)}")


async def test_an_order_is_carried_from_ussd_through_wave_route_and_driver_to_settlement(
    carried: tuple[Services, Http],
) -> None:
    services, http = carried
    assert services.workflows is not None
    fulfilment = services.workflows.fulfilment
    reference, task, driver = await routed_and_offered(services, http)
    handle = fulfilment.order(reference)

    # The driver takes it on the IVR (pressing 1).
    caller = AtCaller(http, driver.phone.e164, "ATVId_workflow_delivery")
    await caller.dial()
    taken = await caller.choose("Accept")
    assert "is yours" in taken.say
    out = await until_stage(handle, Stage.OUT_FOR_DELIVERY)
    assert out.driver_id == str(driver.id)  # the driver who accepted, not a placeholder
    assert "Out for delivery" in await my_orders(http, NGOZI)

    # At the door: arrived, then the customer's code.
    await caller.choose("Arrived")
    await until_stage(handle, Stage.DRIVER_ARRIVED)
    assert "Driver at your door" in await my_orders(http, NGOZI)
    [code] = [m.group(1) for t in await texts_to(services) if (m := _CODE.search(t))]
    delivered = await caller.press(code)
    assert delivered.say.startswith("Delivered.")
    result = await asyncio.wait_for(handle.result(), 30)

    assert result.stage is Stage.SETTLED
    assert (await services.orders.get(reference)).status is OrderStatus.DELIVERED
    assert (await services.gig.task(task.id)).status is TaskStatus.COMPLETED
    final = await fulfilment.status(reference)
    assert [change.stage for change in final.history][-4:] == [
        Stage.OUT_FOR_DELIVERY,
        Stage.DRIVER_ARRIVED,
        Stage.DELIVERED,
        Stage.SETTLED,
    ]
    assert f"{reference} Delivered" in await my_orders(http, NGOZI)


async def test_a_driver_app_accepting_and_confirming_over_graphql_moves_the_workflow(
    carried: tuple[Services, Http],
) -> None:
    services, http = carried
    assert services.workflows is not None
    reference, task, driver = await routed_and_offered(services, http)
    handle = services.workflows.fulfilment.order(reference)

    token = bearer(services.settings, driver.phone.e164, "driver")
    async with gql_session(http, token) as session:
        accepted = (await run(session, ACCEPT, {"t": task.reference}))["acceptTask"]
        assert accepted["errors"] == []
        out = await until_stage(handle, Stage.OUT_FOR_DELIVERY)
        assert (out.driver_id, out.route_id) == (str(driver.id), task.route_id)
        # At the door: the customer's order says so, as when a driver presses 1 on the IVR.
        arrived = (await run(session, ARRIVE, {"t": task.reference}))["arriveAtStop"]
        assert arrived["errors"] == []
        await until_stage(handle, Stage.DRIVER_ARRIVED)
        assert "Driver at your door" in await my_orders(http, NGOZI)
        code = await code_for(services, Phone(NGOZI), reference)
        done = await run(session, CONFIRM, {"t": task.reference, "c": code})
        assert done["confirmDelivery"]["errors"] == []

    result = await asyncio.wait_for(handle.result(), 30)
    assert result.stage is Stage.SETTLED
    async with gql_session(http, bearer(services.settings, NGOZI, "customer")) as session:
        assert (await run(session, STAGE, {"r": reference}))["order"]["stage"] == "settled"


async def test_a_route_that_expired_before_its_first_door_takes_the_order_back_to_packed(
    carried: tuple[Services, Http],
) -> None:
    """The driver took the route and never went out: the next morning it is expired, and the
    workflow says the order waits packed (not out for delivery with yesterday's driver) until
    today's route and driver carry it."""
    services, http = carried
    assert services.workflows is not None
    fulfilment = services.workflows.fulfilment
    reference, task, driver = await routed_and_offered(services, http)
    handle = fulfilment.order(reference)
    token = bearer(services.settings, driver.phone.e164, "driver")
    async with gql_session(http, token) as session:
        assert (await run(session, ACCEPT, {"t": task.reference}))["acceptTask"]["errors"] == []
    await until_stage(handle, Stage.OUT_FOR_DELIVERY)

    # The next morning (10:00 in Lagos) nobody has been to the door: the route expires.
    services.clock.advance(24 * 3600)
    now = services.clock.now()
    await services.gig.add_shift(driver.id, now - timedelta(hours=1), now + timedelta(hours=9))
    [expired] = await services.gig.expire_stale_tasks()
    assert expired.id == task.id
    back = await until_stage(handle, Stage.PICKED)
    assert (back.route_id, back.driver_id) == (None, None)
    assert f"{reference} Packed" in await my_orders(http, NGOZI)

    # Today's plan routes it again and the driver takes today's route.
    planner = operators_planner(services)
    report = await planner.plan(RegionCode.LAGOS, now.date(), time_limit_s=1)
    [route] = report.routes
    assert route.task != task.reference
    assert (await until_stage(handle, Stage.ROUTED)).route_id == route.route_id
    [today] = [t for t in await services.gig.tasks() if t.route_id == route.route_id]
    async with gql_session(http, token) as session:
        assert (await run(session, ACCEPT, {"t": today.reference}))["acceptTask"]["errors"] == []
        out = await until_stage(handle, Stage.OUT_FOR_DELIVERY)
        assert (out.route_id, out.driver_id) == (route.route_id, str(driver.id))
        code = await code_for(services, Phone(NGOZI), reference)
        done = await run(session, CONFIRM, {"t": today.reference, "c": code})
        assert done["confirmDelivery"]["errors"] == []
    result = await asyncio.wait_for(handle.result(), 30)
    assert result.stage is Stage.SETTLED
    # told it was on its way when the driver took each route, not only the first time
    on_its_way = f"OmniRoute: order {reference} is on its way to you."
    assert [t for t in await texts_to(services, Phone(NGOZI)) if "on its way" in t] == [
        on_its_way,
        on_its_way,
    ]


async def test_no_workflow_answering_means_no_stage_and_the_stored_status_stands(
    carried: tuple[Services, Http],
) -> None:
    services, _http = carried
    # An order placed before workflows ran has none to ask: the dialog shows its stored status
    # (tests/journeys/test_ussd_orders.py walks that screen without Temporal at all).
    assert await stage_reader(services.workflows)("ZZZZ99") is None
    assert await stage_reader(None)("ZZZZ99") is None


async def test_an_order_whose_workflow_failed_shows_its_stored_status_and_stage_failed(
    carried: tuple[Services, Http],
) -> None:
    """Ngozi's order was being picked when its workflow was stopped (terminated: nothing
    unwound it). My orders kept saying "Being picked", the app's stage `in_wave`, for ever; the
    app is now told `failed` and My orders shows where the order stands (Picking)."""
    services, http = carried
    assert services.workflows is not None
    reference = await order_over_ussd(http, NGOZI)
    await started(services, reference)
    handle = services.workflows.fulfilment.order(reference)
    await until_stage(handle, Stage.IN_WAVE)
    assert f"{reference} Being picked" in await my_orders(http, NGOZI)
    await handle.terminate(reason="stuck")

    assert f"{reference} Picking" in await my_orders(http, NGOZI)
    async with gql_session(http, bearer(services.settings, NGOZI, "customer")) as session:
        assert (await run(session, STAGE, {"r": reference}))["order"]["stage"] == "failed"


async def test_where_is_my_order_on_a_published_service_reads_a_failed_workflow_as_my_orders(
    carried: tuple[Services, Http],
) -> None:
    """The same order, stopped the same way, asked about on the operators' order-status service
    (*384*77#, "Where is my order?"): that screen read the stage `failed` as words of its own,
    which no language has, and the dial got no answer; it shows the stored status, as My
    orders does."""
    services, http = carried
    assert services.workflows is not None
    await publish(services)
    reference = await order_over_ussd(http, NGOZI)
    await started(services, reference)
    handle = services.workflows.fulfilment.order(reference)
    await until_stage(handle, Stage.IN_WAVE)
    await handle.terminate(reason="stuck")

    retailer = UssdPhone(http, NGOZI, service_code="*384*77#")
    await retailer.dial()
    screen = await retailer.choose("Where is my order?")
    assert screen.text.startswith("Thank you for ordering.\nYour last orders (NGN):\n")
    assert f"{reference} Picking" in screen.text
