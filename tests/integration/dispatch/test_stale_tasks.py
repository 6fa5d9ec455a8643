"""Yesterday's route that nobody drove: the next day's plan closes it and plans its orders once.

A task is a day's route. When its day is over and it never started (nobody took the offer, or
the driver took it and never went out), it is closed as expired: its orders go on today's route
with the goods already packed at the dock (not picked again), the driver is free for today's
work and is paid nothing for the doors not done, and the customer's old code no longer works.

The fixture's clock starts at 09:00 UTC on 5 January 2026 (10:00 in Lagos).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.app.bootstrap import Services
from core.app.dispatch_plan import DispatchReport
from core.region import RegionCode, local_date
from engines.gig import CodeCheck, Task, TaskStateError, TaskStatus, Worker
from engines.orders import OrderStatus
from engines.wms import PathPolicy
from tests.integration.dispatch.test_dispatch_plan import lagos_warehouse, planner
from tests.support.gig import EMEKA, NGOZI, code_for, driver, order

SKU = "NDL-INDO-CHK"
NEXT_MORNING = datetime(2026, 1, 6, 9, tzinfo=UTC)


async def pick_and_pack(services: Services, reference: str) -> str:
    """The night shift picks the order's pick list; the order is packed. Its pick list id."""
    wms = services.warehouse
    pick = await wms.pick_list("WH-LAGOS", reference)
    _path, lines = await wms.path(pick.id, PathPolicy.OPTIMAL)
    for line in lines:
        await wms.confirm_pick(pick.id, line.position, line.quantity)
    assert (await services.orders.get(reference)).status is OrderStatus.PACKED
    return pick.id


async def in_bins_and_at_dock(services: Services) -> tuple[int, int]:
    on_shelves = sum(s.quantity for s in await services.warehouse.stock("WH-LAGOS", SKU))
    everything = sum(s.quantity for s in await services.warehouse.stock("WH-LAGOS", SKU, dock=True))
    return on_shelves, everything - on_shelves


async def planned_and_packed(
    services: Services, key: str
) -> tuple[Worker, str, DispatchReport, str]:
    """Today: Emeka on shift, Ngozi's order planned onto a route and packed at the dock, and
    the route offered to him by the next plan (a route waits for its goods to be offered).
    The driver, the order's reference, that plan and the order's pick list id."""
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    ngozi = await order(services, NGOZI, key)
    today = local_date(RegionCode.LAGOS, services.clock.now())
    await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    pick_id = await pick_and_pack(services, ngozi)
    plan = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    return emeka, ngozi, plan, pick_id


async def plan_next_morning(services: Services, worker: Worker) -> DispatchReport:
    """09:00 UTC on 6 January (10:00 in Lagos): the driver on shift again (08:00-18:00 UTC) and
    the operator plans the day."""
    services.clock.advance((NEXT_MORNING - services.clock.now()).total_seconds())
    now = services.clock.now()
    await services.gig.add_shift(worker.id, now - timedelta(hours=1), now + timedelta(hours=9))
    return await planner(services).plan(
        RegionCode.LAGOS, local_date(RegionCode.LAGOS, now), time_limit_s=1
    )


def live_tasks_with(tasks: list[Task], reference: str) -> list[str]:
    """The tasks a driver could still be sent on with the order."""
    live = (TaskStatus.OPEN, TaskStatus.OFFERED, TaskStatus.ASSIGNED)
    return [
        t.reference
        for t in tasks
        if t.status in live and any(s.order_reference == reference for s in t.stops)
    ]


async def routed_once_as_packed(
    services: Services,
    plan: DispatchReport,
    expired: str,
    reference: str,
    pick_id: str,
    stock: tuple[int, int],
) -> str:
    """The order rides one new route and only that one; the warehouse does not pick it again (no
    wave, the same pick list, stock untouched) and it waits packed. The new route's reference."""
    [route] = plan.routes
    assert route.task != expired
    assert [s.order for s in route.stops] == [reference]
    assert live_tasks_with(await services.gig.tasks(), reference) == [route.task]
    assert plan.waves.waves == ()
    assert (await services.warehouse.pick_list("WH-LAGOS", reference)).id == pick_id
    assert await in_bins_and_at_dock(services) == stock
    assert (await services.orders.get(reference)).status is OrderStatus.PACKED
    return route.task


async def test_a_route_nobody_took_yesterday_is_expired_and_its_order_planned_once_today(
    services: Services,
) -> None:
    today = local_date(RegionCode.LAGOS, services.clock.now())
    emeka, ngozi, first, pick_id = await planned_and_packed(services, "stale-1")
    [yesterday] = first.routes
    assert [o.driver for o in first.offers] == [EMEKA.e164]
    shelves, dock = await in_bins_and_at_dock(services)
    assert dock == 2
    # Emeka never answers. At 22:30 in Lagos the operator plans tomorrow: the order is still on
    # today's route, so tomorrow's plan leaves it alone.
    services.clock.advance(12.5 * 3600)
    evening = await planner(services).plan(RegionCode.LAGOS, today + timedelta(days=1))
    assert evening.routes == ()
    assert evening.unassigned == ()

    second = await plan_next_morning(services, emeka)

    # Yesterday's route is closed, and the order rides today's route only.
    old = await services.gig.task_by_reference(yesterday.task)
    assert old is not None
    assert old.status is TaskStatus.EXPIRED
    today_route = await routed_once_as_packed(
        services, second, yesterday.task, ngozi, pick_id, (shelves, dock)
    )
    # Today's route is offered to Emeka, who is not offered yesterday's any more.
    assert [o.driver for o in second.offers] == [EMEKA.e164]
    offered = await services.gig.open_offer(emeka.id)
    assert offered is not None
    assert offered[1].reference == today_route


async def test_a_route_taken_yesterday_but_never_driven_is_expired_and_driven_today(
    services: Services,
) -> None:
    emeka, ngozi, first, pick_id = await planned_and_packed(services, "stale-2")
    [yesterday] = first.routes
    offered = await services.gig.open_offer(emeka.id)
    assert offered is not None
    taken = await services.gig.accept(offered[0].id)
    old_code = await code_for(services, NGOZI, ngozi)
    assert (await services.orders.get(ngozi)).status is OrderStatus.DISPATCHED
    shelves, dock = await in_bins_and_at_dock(services)
    # Emeka never goes out; the day ends.

    second = await plan_next_morning(services, emeka)

    # Yesterday's route is closed: it is not Emeka's task in progress any more.
    assert (await services.gig.task(taken.id)).status is TaskStatus.EXPIRED
    assert await services.gig.current_task(emeka.id) is None
    with pytest.raises(TaskStateError):
        await services.gig.confirm_delivery(taken.id, emeka.id, old_code)
    # The order is planned again, once, with the goods it has at the dock.
    today_route = await routed_once_as_packed(
        services, second, yesterday.task, ngozi, pick_id, (shelves, dock)
    )

    # Emeka takes today's route; the customer gets a new code, and it is today's that works.
    assert [o.driver for o in second.offers] == [EMEKA.e164]
    offered = await services.gig.open_offer(emeka.id)
    assert offered is not None
    task = await services.gig.accept(offered[0].id)
    assert task.reference == today_route
    new_code = await code_for(services, NGOZI, ngozi)
    assert (await services.orders.get(ngozi)).status is OrderStatus.DISPATCHED
    result = await services.gig.confirm_delivery(task.id, emeka.id, new_code)
    assert result.outcome is CodeCheck.DELIVERED
    assert (await services.orders.get(ngozi)).status is OrderStatus.DELIVERED
    # Paid for today's door only: nothing for the expired route.
    earned = await services.gig.earnings(emeka.id)
    assert {e.task_id for e in earned} == {task.id}
