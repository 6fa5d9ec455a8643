"""A delivery day end to end: retailers order over USSD in the evening, the operator plans
tomorrow's Lagos routes, the warehouse picks the waves, and in the morning a demo driver takes
the route on the Africa's Talking IVR, proves each delivery with the code the customer got by
SMS, and hears what the day earned.

Everything speaks the providers' real formats (USSD and voice callbacks in, SMS API out)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.app.demo import load_distribution_demo
from core.app.dispatch_plan import NO_LOCATION, DispatchPlanner
from core.clock import SteppedClock
from core.config import Settings
from core.region import RegionCode
from engines.gig import TARIFFS, TaskStatus
from engines.orders import OrderStatus
from engines.wms import PathPolicy
from tests.support.at_voice import AtCaller
from tests.support.gig import pick_and_pack
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import FakeAfricasTalking, flush_outbox

NGOZI = "+2348030000001"  # the demo retailers: delivery points in the demo data
BOLA = "+2348030000002"
MUSA = "+2348030000099"  # new, no delivery address yet
_CODE = re.compile(r"code is (\d{4})")


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def gateway(
    client: TestClient[object, object], services: Services
) -> TestClient[object, object]:
    # Started with the app; stopped so the test sends the outbox and offers routes itself.
    await services.delivery.stop()
    await services.sweeper.stop()
    return client


async def order_over_ussd(client: TestClient[object, object], phone: str, quantity: int) -> str:
    retailer = UssdPhone(client, phone)
    await retailer.dial()
    await retailer.choose("Shop")
    await retailer.choose("Noodles")
    await retailer.choose("Indomie Chicken")
    await retailer.press(str(quantity))
    await retailer.choose("Checkout")
    await retailer.choose("Choose payment")
    await retailer.choose("Pay on delivery")
    screen = await retailer.choose("Confirm")
    reference = screen.body.split()[1]
    assert f"Order {reference} placed" in screen
    return reference


def code_in(fake: FakeAfricasTalking, phone: str, reference: str) -> str:
    found = [
        match
        for sms in fake.sent_to(phone)
        if reference in sms.message and (match := _CODE.search(sms.message))
    ]
    assert len(found) == 1, [sms.message for sms in fake.sent_to(phone)]
    return found[0].group(1)


async def test_tomorrows_routes_are_planned_picked_driven_and_paid(
    services: Services,
    gateway: TestClient[object, object],
    fake_at: FakeAfricasTalking,
    clock: SteppedClock,
) -> None:
    tomorrow = (clock.now() + timedelta(days=1)).date()
    seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)
    # The demo warehouse, and the demo drivers on tomorrow's shift (07:00-20:00).
    await load_distribution_demo(services.db, seven + timedelta(hours=1))

    # Evening: three retailers order over USSD.
    ngozi = await order_over_ussd(gateway, NGOZI, 3)
    bola = await order_over_ussd(gateway, BOLA, 5)
    musa = await order_over_ussd(gateway, MUSA, 2)
    clock.advance(10 * 3600)

    planner = DispatchPlanner(
        services.orders, services.customers, services.warehouse, services.gig, clock
    )
    evening = await planner.plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    [route] = evening.routes  # one vehicle's fixed cost beats two for 8 cartons
    assert sorted(s.order for s in route.stops) == sorted([ngozi, bola])
    assert route.departure >= seven
    assert [(u.order, u.reason) for u in evening.unassigned] == [(musa, NO_LOCATION)]
    assert evening.offers == ()  # nobody is on shift at night
    [wave] = evening.waves.waves
    assert wave.routes == (route.route_id,)

    # The night shift picks the wave along the shortest walks; the orders are packed.
    wms = services.warehouse
    for reference in wave.orders:
        pick = await wms.pick_list("WH-LAGOS", reference)
        assert pick.wave is not None
        _path, lines = await wms.path(pick.id, PathPolicy.OPTIMAL)
        for line in lines:
            await wms.confirm_pick(pick.id, line.position, line.quantity)
        assert (await services.orders.get(reference)).status is OrderStatus.PACKED

    # Morning: the dispatcher runs again; nothing is planned twice, the route is offered.
    clock.advance((seven + timedelta(minutes=5) - clock.now()).total_seconds())
    morning = await planner.plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)
    assert morning.tasks_created == 0
    assert [r.route_id for r in morning.routes] == [route.route_id]
    [offer] = morning.offers
    assert offer.task == route.task
    assert offer.driver in {"+2348035550001", "+2348035550002"}  # Emeka or Bayo, the demo's

    # The driver calls the IVR, hears the route and takes it.
    caller = AtCaller(gateway, offer.driver, "ATVId_delivery_day")
    heard = await caller.dial()
    spelled = " ".join(route.task)
    assert heard.say.startswith(f"New route {spelled}: 2 stops, {route.km} kilometres.")
    taken = await caller.choose("Accept")
    assert taken.say.startswith(f"Route {spelled} is yours. The customers have their codes.")
    task = next(
        t for t in await services.gig.tasks(TaskStatus.ASSIGNED) if t.route_id == route.route_id
    )
    for stop in task.stops:
        assert (await services.orders.get(stop.order_reference)).status is OrderStatus.DISPATCHED

    # Each customer gets a code by SMS; the driver keys it in at the door.
    await flush_outbox(services)
    for number, stop in enumerate(task.stops, start=1):
        assert f"Stop {number} of 2: {stop.address}, order" in caller.prompt.say
        code = code_in(fake_at, stop.customer.e164, stop.order_reference)
        asked = await caller.choose("Arrived")
        due = (
            (await services.orders.get(stop.order_reference)).total.in_cash().format()
        )  # on delivery, whole naira
        assert asked.say.startswith(f"Collect {due} in cash. Enter the customer's 4-digit")
        delivered = await caller.press(code)
        assert delivered.say.startswith("Delivered. You earned NGN")
        assert (await services.orders.get(stop.order_reference)).status is OrderStatus.DELIVERED
    assert "Route finished, bonus included." in caller.prompt.say
    assert (await services.gig.task(task.id)).status is TaskStatus.COMPLETED

    # What the day earned: per stop, per kilometre, and the completion bonus.
    tariff = TARIFFS["NGN"]
    expected = tariff.completion_bonus
    for stop in task.stops:
        expected += tariff.per_stop + tariff.per_km * stop.leg_km
    earnings = await caller.choose("Today's earnings")
    assert earnings.say.startswith(f"Today you earned {expected.format()} for 2 deliveries.")
    assert expected.amount > Decimal(2500)


async def test_a_route_planned_for_today_is_offered_once_its_goods_are_packed(
    services: Services,
    gateway: TestClient[object, object],
    fake_at: FakeAfricasTalking,
    clock: SteppedClock,
) -> None:
    """`routes plan --date today` offered the route at once, while its order was being
    picked: the driver took it on the IVR and keyed the customer's code, the stop was paid as
    delivered, but the order stayed "picking" (picking -> dispatched and -> delivered refused),
    so it never completed. The route now waits for its goods: offered once they are packed,
    and the order is dispatched on acceptance and delivered at the door."""
    await load_distribution_demo(services.db, clock.now())  # the demo drivers on shift now
    today = clock.now().date()
    ngozi = await order_over_ussd(gateway, NGOZI, 3)
    planner = DispatchPlanner(
        services.orders, services.customers, services.warehouse, services.gig, clock
    )

    planned = await planner.plan(RegionCode.LAGOS, today, time_limit_s=1)

    [route] = planned.routes
    assert [s.order for s in route.stops] == [ngozi]
    assert (await services.orders.get(ngozi)).status is OrderStatus.PICKING
    assert planned.offers == ()  # the goods are still on the shelves
    assert route.status == "open"
    assert await services.gig.allocate() == []  # nor does the dispatcher's sweep offer it

    [wave] = planned.waves.waves
    await pick_and_pack(services, wave.orders)
    assert (await services.orders.get(ngozi)).status is OrderStatus.PACKED
    [offer] = await services.gig.allocate()  # the sweep after the packing

    driver = await services.gig.worker(offer.worker_id)
    caller = AtCaller(gateway, driver.phone.e164, "ATVId_packed_first")
    await caller.dial()
    taken = await caller.choose("Accept")
    assert taken.say.startswith(f"Route {' '.join(route.task)} is yours.")
    assert (await services.orders.get(ngozi)).status is OrderStatus.DISPATCHED
    await flush_outbox(services)
    code = code_in(fake_at, NGOZI, ngozi)
    await caller.choose("Arrived")
    delivered = await caller.press(code)
    assert delivered.say.startswith("Delivered. You earned NGN")
    assert (await services.orders.get(ngozi)).status is OrderStatus.DELIVERED
