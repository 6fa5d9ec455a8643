"""A delivery the driver cannot prove, taken over by an operator: two retailers' orders go out
on one route, the driver keys three wrong codes at each door (each stop is escalated), and the
operator lists them (`omniroute deliveries escalated`) and resolves them with
`omniroute deliveries resolve`: Ngozi's confirmed by phone
(delivered), Bola's brought back (returned, the cartons back on the shelves). Anything but an
escalated delivery is refused with one line and exit 2, and a second run changes nothing."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.app.cli import main
from core.app.demo import load_distribution_demo
from core.app.dispatch_plan import DispatchPlanner
from core.clock import SteppedClock
from core.config import Settings
from core.region import RegionCode
from engines.gig import TARIFFS, EarningKind, StopStatus, Task, TaskStatus
from engines.orders import OrderStatus
from engines.wms import PathPolicy
from tests.journeys.test_delivery_day import BOLA, NGOZI, code_in, order_over_ussd
from tests.support.at_voice import AtCaller
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import FakeAfricasTalking, flush_outbox

NOODLES = "NDL-INDO-CHK"  # Indomie Chicken, what both retailers order
WAREHOUSE = "WH-LAGOS"


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def gateway(
    client: TestClient[object, object], services: Services
) -> TestClient[object, object]:
    await services.delivery.stop()
    await services.sweeper.stop()
    return client


async def resolve(*argv: str) -> int:
    """`omniroute deliveries resolve …` as an operator runs it (its own process's services)."""
    return await asyncio.to_thread(main, ["deliveries", "resolve", *argv])


async def escalated() -> int:
    """`omniroute deliveries escalated`: the deliveries waiting for an operator, as CSV."""
    return await asyncio.to_thread(main, ["deliveries", "escalated"])


def last_line(text: str) -> str:
    """What the command printed last (the log lines of the services come before it)."""
    return text.strip().splitlines()[-1]


async def on_shelves(services: Services) -> int:
    return sum(at.quantity for at in await services.warehouse.stock(WAREHOUSE, NOODLES))


async def my_orders(client: TestClient[object, object], phone: str) -> str:
    retailer = UssdPhone(client, phone)
    await retailer.dial()
    return (await retailer.choose("My orders")).text


def tomorrow_at_seven(clock: SteppedClock) -> datetime:
    tomorrow = clock.now().date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)


async def out_on_the_road(
    services: Services, client: TestClient[object, object], clock: SteppedClock
) -> tuple[Task, AtCaller]:
    """Ngozi's 3 and Bola's 5 cartons planned, picked and taken by a driver on the IVR."""
    seven = tomorrow_at_seven(clock)
    await order_over_ussd(client, NGOZI, 3)
    await order_over_ussd(client, BOLA, 5)
    clock.advance(10 * 3600)
    planner = DispatchPlanner(
        services.orders, services.customers, services.warehouse, services.gig, clock
    )
    [wave] = (await planner.plan(RegionCode.LAGOS, seven.date(), time_limit_s=1)).waves.waves
    for reference in wave.orders:
        pick = await services.warehouse.pick_list(WAREHOUSE, reference)
        _path, lines = await services.warehouse.path(pick.id, PathPolicy.OPTIMAL)
        for line in lines:
            await services.warehouse.confirm_pick(pick.id, line.position, line.quantity)
    clock.advance((seven + timedelta(minutes=5) - clock.now()).total_seconds())
    [offer] = (await planner.plan(RegionCode.LAGOS, seven.date(), time_limit_s=1)).offers
    caller = AtCaller(client, offer.driver, "ATVId_escalated")
    await caller.dial()
    await caller.choose("Accept")
    [task] = await services.gig.tasks(TaskStatus.ASSIGNED)
    await flush_outbox(services)  # the customers' codes by SMS
    return task, caller


async def three_wrong_codes(caller: AtCaller, right: str) -> str:
    wrong = "1111" if right != "1111" else "2222"
    await caller.choose("Arrived")
    for _ in range(2):
        assert "Wrong code." in (await caller.press(wrong)).say
    return (await caller.press(wrong)).say


async def test_an_operator_resolves_escalated_deliveries_as_delivered_and_returned(
    services: Services,
    gateway: TestClient[object, object],
    fake_at: FakeAfricasTalking,
    clock: SteppedClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    # the demo warehouse, and its drivers on tomorrow's shift
    await load_distribution_demo(services.db, tomorrow_at_seven(clock) + timedelta(hours=1))
    shelves_before = await on_shelves(services)
    available_before = await services.catalogue.available(RegionCode.LAGOS, NOODLES)
    task, caller = await out_on_the_road(services, gateway, clock)
    first, second = task.stops
    assert await on_shelves(services) == shelves_before - 8  # picked: at the dock, then out

    # A stop the driver has not failed is not the operator's: refused, nothing changes.
    assert await resolve(first.order_reference, "delivered") == 2
    assert last_line(capsys.readouterr().err) == (
        "omniroute deliveries resolve: "
        f"order {first.order_reference} is not escalated (its stop on task {task.reference}"
        " is pending): only an escalated delivery is resolved by hand"
    )
    assert await resolve("ZZZZ99", "returned") == 2
    assert last_line(capsys.readouterr().err) == "omniroute deliveries resolve: no order ZZZZ99"
    assert await resolve(" ", "returned") == 2
    assert last_line(capsys.readouterr().err) == (
        "omniroute deliveries resolve: an order reference is needed (the order column of"
        " 'omniroute deliveries escalated')"
    )
    assert (await services.orders.get(first.order_reference)).status is OrderStatus.DISPATCHED
    assert (await services.gig.task(task.id)).stops[0].status is StopStatus.PENDING

    # Three wrong codes at each door: both stops escalated, the route over without its bonus.
    for stop in task.stops:
        right = code_in(fake_at, stop.customer.e164, stop.order_reference)
        assert (await three_wrong_codes(caller, right)).startswith("Three wrong codes.")
    assert (await services.gig.task(task.id)).status is TaskStatus.COMPLETED
    assert f"{first.order_reference} On the way" in await my_orders(gateway, first.customer.e164)
    # The operator lists what waits for them.
    assert await escalated() == 0
    why = "code_failed"
    listed = list(csv.reader(capsys.readouterr().out.strip().splitlines()[-3:]))
    since = clock.now().isoformat(timespec="seconds")  # the third wrong code at each door
    assert listed == [
        ["order", "task", "stop", "customer", "address", "reason", "since"],
        *(
            [
                s.order_reference,
                task.reference,
                str(s.position),
                s.customer.e164,
                s.address,
                why,
                since,
            ]
            for s in task.stops
        ),
    ]

    # Ngozi confirms on the phone that her cartons came: delivered.
    assert await resolve(first.order_reference.lower(), "delivered") == 0
    assert last_line(capsys.readouterr().out) == (
        f"order {first.order_reference} delivered (confirmed by an operator); its workflow"
        f" settles it (task {task.reference} stop {first.position})"
    )
    assert (await services.orders.get(first.order_reference)).status is OrderStatus.DELIVERED
    assert f"{first.order_reference} Delivered" in await my_orders(gateway, first.customer.e164)

    # Bola's cartons come back to the warehouse: returned, and back on the shelves.
    assert await resolve(second.order_reference, "returned") == 0
    assert "returned to the warehouse" in last_line(capsys.readouterr().out)
    assert (await services.orders.get(second.order_reference)).status is OrderStatus.RETURNED
    assert f"{second.order_reference} Returned" in await my_orders(gateway, second.customer.e164)
    assert await on_shelves(services) == shelves_before - first.units
    available = await services.catalogue.available(RegionCode.LAGOS, NOODLES)
    assert available == available_before - first.units  # Bola's 5 can be sold again
    stops = (await services.gig.task(task.id)).stops
    assert [s.status for s in stops] == [StopStatus.DELIVERED, StopStatus.RETURNED]
    assert await escalated() == 0
    out, err = capsys.readouterr()
    assert "order,task" not in out
    assert last_line(err) == "no delivery is waiting for an operator"

    # Run again by a tired operator: the effect of once.
    assert await resolve(second.order_reference, "returned") == 0
    assert last_line(capsys.readouterr().out).startswith(
        f"order {second.order_reference} was already resolved as returned"
    )
    assert await on_shelves(services) == shelves_before - first.units
    assert await resolve(first.order_reference, "returned") == 2  # not a different outcome
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"order {first.order_reference} was already resolved as delivered")
    )
    assert (await services.orders.get(first.order_reference)).status is OrderStatus.DELIVERED
    assert [s.status for s in (await services.gig.task(task.id)).stops] == [
        StopStatus.DELIVERED,
        StopStatus.RETURNED,
    ]


async def test_a_route_with_a_door_resolved_by_an_operator_earns_no_bonus(
    services: Services,
    gateway: TestClient[object, object],
    fake_at: FakeAfricasTalking,
    clock: SteppedClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bonus is for a route finished without an operator. An operator who resolves the
    first door's three wrong codes before the driver proves his last door does not earn the
    driver the bonus: the route closes with the stops' pay alone."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    await load_distribution_demo(services.db, tomorrow_at_seven(clock) + timedelta(hours=1))
    task, caller = await out_on_the_road(services, gateway, clock)
    first, second = task.stops
    right = code_in(fake_at, first.customer.e164, first.order_reference)
    assert (await three_wrong_codes(caller, right)).startswith("Three wrong codes.")
    assert await resolve(first.order_reference, "delivered") == 0  # the operator, at once

    await caller.choose("Arrived")
    said = (await caller.press(code_in(fake_at, second.customer.e164, second.order_reference))).say
    assert (await services.gig.task(task.id)).status is TaskStatus.COMPLETED
    per_stop, per_km = TARIFFS["NGN"].for_stop(second.leg_km)
    assert f"You earned {(per_stop + per_km).format()}." in said
    assert task.worker_id is not None
    kinds = [e.kind for e in await services.gig.earnings(task.worker_id) if e.task_id == task.id]
    assert EarningKind.BONUS not in kinds


async def test_a_driver_finishing_a_route_with_an_escalated_door_is_not_told_of_a_bonus(
    services: Services,
    gateway: TestClient[object, object],
    fake_at: FakeAfricasTalking,
    clock: SteppedClock,
) -> None:
    """Three wrong codes at the first door hand it to an operator; the driver proves the last
    one and the route is finished without its bonus, which is what he hears."""
    await load_distribution_demo(services.db, tomorrow_at_seven(clock) + timedelta(hours=1))
    task, caller = await out_on_the_road(services, gateway, clock)
    first, second = task.stops
    right = code_in(fake_at, first.customer.e164, first.order_reference)
    assert (await three_wrong_codes(caller, right)).startswith("Three wrong codes.")

    await caller.choose("Arrived")
    said = (await caller.press(code_in(fake_at, second.customer.e164, second.order_reference))).say
    per_stop, per_km = TARIFFS["NGN"].for_stop(second.leg_km)
    earned = (per_stop + per_km).format()
    assert f"Delivered. You earned {earned}. Route finished. No bonus: a delivery went" in said
    assert "bonus included" not in said
