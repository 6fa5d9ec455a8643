"""A route is offered only to a driver whose shift covers it, from its start to its planned
end: not to one whose shift ends while the route is still out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.app.bootstrap import Services
from core.app.dispatch_plan import DispatchPlanner
from core.clock import SteppedClock
from core.region import RegionCode
from engines.gig import GeoPoint, TaskStatus
from tests.integration.dispatch.test_dispatch_plan import lagos_warehouse
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, driver, order, pick_and_pack


def advance_to(services: Services, at: datetime) -> None:
    assert isinstance(services.clock, SteppedClock)
    services.clock.advance((at - services.clock.now()).total_seconds())


async def test_a_route_is_not_offered_to_a_driver_whose_shift_ends_mid_route(
    services: Services,
) -> None:
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40, at=GeoPoint(6.70, 3.60))
    day = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)  # 08:00 in Lagos
    await services.gig.add_shift(emeka.id, seven, seven + timedelta(hours=10))
    placed = {await order(services, NGOZI, "s-1"), await order(services, CHIDI, "s-2")}
    planner = DispatchPlanner(
        services.orders,
        services.customers,
        services.warehouse,
        services.gig,
        services.clock,
        plans=services.route_plans,
    )
    report = await planner.plan(RegionCode.LAGOS, day, time_limit_s=1)
    [route] = report.routes
    assert {s.order for s in route.stops} == placed
    [task] = await services.gig.tasks(TaskStatus.OPEN)
    assert task.returns_at is not None
    assert task.returns_at > task.departure + timedelta(minutes=20)  # two doors, 10 min each

    # Bayo, at the depot and idle, is on an early shift that ends 15 minutes into the route.
    bayo = await driver(services, BAYO, "Bayo", capacity=40)
    await services.gig.add_shift(bayo.id, seven - timedelta(hours=2), seven + timedelta(minutes=15))
    await pick_and_pack(services, placed)
    advance_to(services, seven)
    [offer] = await services.gig.allocate()
    assert offer.worker_id == emeka.id  # far away, but on shift until the route is back


async def test_nobody_whose_shift_covers_it_gets_no_offer(services: Services) -> None:
    await lagos_warehouse(services)
    bayo = await driver(services, BAYO, "Bayo", capacity=40)
    day = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)
    await services.gig.add_shift(bayo.id, seven, seven + timedelta(hours=8))
    placed = [await order(services, NGOZI, "n-1"), await order(services, CHIDI, "n-2")]
    planner = DispatchPlanner(
        services.orders,
        services.customers,
        services.warehouse,
        services.gig,
        services.clock,
        plans=services.route_plans,
    )
    await planner.plan(RegionCode.LAGOS, day, time_limit_s=1)
    # Late in Bayo's shift, the route would run past its end: it waits for a driver who can.
    await pick_and_pack(services, placed)
    [task] = await services.gig.tasks(TaskStatus.OPEN)
    assert task.returns_at is not None
    late = seven + timedelta(hours=8) - (task.returns_at - task.departure) + timedelta(minutes=5)
    advance_to(services, late)
    assert await services.gig.allocate() == []
    assert (await services.gig.task(task.id)).status is TaskStatus.OPEN
