"""Stored route plans: every run's plan is kept with a status per stop, and re-planning starts
from it, moving only what nobody has taken and never a stop a driver holds or has served."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from core.app.bootstrap import Services
from core.app.dispatch_plan import DispatchPlanner, DispatchReport
from core.phone import Phone
from core.region import RegionCode
from engines.customers import DeliveryPoint
from engines.gig import CodeCheck, GeoPoint, TaskStatus, Worker
from engines.gig.tables import gig_workers
from engines.routing import PlanStopStatus, RoutePlanStore
from tests.integration.dispatch.test_dispatch_plan import lagos_warehouse
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, code_for, driver, order, pick_and_pack

TUNDE = Phone("+2348030000779")  # a third retailer, with a delivery point in Yaba


def planner(services: Services) -> DispatchPlanner:
    return DispatchPlanner(
        services.orders,
        services.customers,
        services.warehouse,
        services.gig,
        services.clock,
        plans=services.route_plans,
    )


def plans(services: Services) -> RoutePlanStore:
    assert services.route_plans is not None
    return services.route_plans


async def _evening_with_two_drivers(services: Services) -> tuple[date, Worker, Worker]:
    """Emeka and Bayo work tomorrow 07:00-17:00; it is evening, nobody is on shift now."""
    await lagos_warehouse(services)
    await services.customers.set_delivery_point(
        TUNDE, DeliveryPoint("12 Herbert Macaulay Way, Yaba", GeoPoint(6.5095, 3.3711))
    )
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    bayo = await driver(services, BAYO, "Bayo", capacity=40)
    services.clock.advance(10 * 3600)  # type: ignore[attr-defined]
    tomorrow = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)
    for worker in (emeka, bayo):
        await services.gig.add_shift(worker.id, seven, seven + timedelta(hours=10))
    return tomorrow, emeka, bayo


async def _on_exactly_one_live_task(services: Services, day: date) -> Counter[str]:
    prefix = f"R-LAGOS-{day:%Y%m%d}-"
    live = [
        t
        for t in await services.gig.tasks()
        if t.route_id.startswith(prefix) and t.status is not TaskStatus.CANCELLED
    ]
    return Counter(s.order_reference for t in live for s in t.stops)


def _statuses(report: DispatchReport) -> dict[str, str]:
    return {s.order: s.status for r in report.routes for s in r.stops}


async def test_each_plan_is_stored_and_an_unchanged_day_is_not_stored_twice(
    services: Services,
) -> None:
    tomorrow, emeka, bayo = await _evening_with_two_drivers(services)
    first = await order(services, NGOZI, "s-1")
    second = await order(services, CHIDI, "s-2")

    report = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    assert report.plan is not None
    assert report.plan.revision == 1
    stored = await plans(services).latest("lagos", tomorrow)
    assert stored == report.plan
    assert {s.order_reference for s in stored.stops} == {first, second}
    assert all(s.status is PlanStopStatus.PLANNED for s in stored.stops)
    assert {s.vehicle_id for s in stored.stops} <= {str(emeka.id), str(bayo.id)}
    for route in report.routes:  # the stored routes are the tasks' routes, in order
        assert [s.order_reference for s in stored.routes()[route.route_id]] == [
            s.order for s in route.stops
        ]
    assert report.as_json()["plan"]["revision"] == 1
    assert {s["status"] for r in report.as_json()["routes"] for s in r["stops"]} == {"planned"}

    again = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)
    assert again.tasks_created == 0
    assert again.withdrawn == ()
    assert again.plan == report.plan  # nothing changed: no new revision
    assert len(await plans(services).revisions("lagos", tomorrow)) == 1


async def test_a_new_order_replans_the_untaken_routes_from_the_stored_plan(
    services: Services,
) -> None:
    tomorrow, _, _ = await _evening_with_two_drivers(services)
    first = await order(services, NGOZI, "t-1")
    second = await order(services, CHIDI, "t-2")
    report = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)
    before = {r.task for r in report.routes}

    late = await order(services, TUNDE, "t-3")
    replanned = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    assert set(replanned.withdrawn) == before  # nobody had taken them: re-planned together
    assert replanned.unassigned == ()
    assert all(r.new for r in replanned.routes)
    assert _statuses(replanned) == dict.fromkeys((first, second, late), "planned")
    for ref in before:
        task = await services.gig.task_by_reference(ref)
        assert task is not None
        assert task.status is TaskStatus.CANCELLED
    assert await _on_exactly_one_live_task(services, tomorrow) == Counter([first, second, late])
    assert replanned.plan is not None
    assert replanned.plan.revision == 2
    assert {s.order_reference for s in replanned.plan.stops} == {first, second, late}
    # route ids never repeat a withdrawn one
    assert not {r.route_id for r in replanned.routes} & {r.route_id for r in report.routes}


async def test_a_route_whose_driver_dropped_out_goes_to_another_driver(
    services: Services,
) -> None:
    tomorrow, emeka, bayo = await _evening_with_two_drivers(services)
    first = await order(services, NGOZI, "u-1")
    report = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)
    assert report.plan is not None
    (planned_for,) = {s.vehicle_id for s in report.plan.stops}
    dropped = emeka if planned_for == str(emeka.id) else bayo
    other = bayo if dropped is emeka else emeka
    async with services.db.transaction() as s:
        await s.execute(
            gig_workers.update().where(gig_workers.c.id == dropped.id).values(status="suspended")
        )

    replanned = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    assert replanned.withdrawn == tuple(r.task for r in report.routes)
    assert replanned.plan is not None
    assert [(s.order_reference, s.vehicle_id) for s in replanned.plan.stops] == [
        (first, str(other.id))
    ]


async def test_served_and_in_progress_stops_stay_where_they_are_when_orders_come_in(
    services: Services,
) -> None:
    await lagos_warehouse(services)
    await services.customers.set_delivery_point(
        TUNDE, DeliveryPoint("12 Herbert Macaulay Way, Yaba", GeoPoint(6.5095, 3.3711))
    )
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)  # on shift now
    today = services.clock.now().date()
    first = await order(services, NGOZI, "v-1")
    second = await order(services, CHIDI, "v-2")
    morning = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    (route,) = morning.routes
    assert _statuses(morning) == dict.fromkeys((first, second), "planned")  # being picked
    await pick_and_pack(services, (first, second))
    assert len(await services.gig.allocate()) == 1  # the dispatcher's sweep, once packed
    offer = await services.gig.open_offer(emeka.id)
    assert offer is not None
    task = await services.gig.accept(offer[0].id)
    served = task.stops[0]
    code = await code_for(services, served.customer, served.order_reference)
    result = await services.gig.confirm_delivery(task.id, emeka.id, code)
    assert result.outcome is CodeCheck.DELIVERED

    bayo = await driver(services, BAYO, "Bayo", capacity=40)
    late = await order(services, TUNDE, "v-3")
    replanned = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)

    assert replanned.withdrawn == ()  # Emeka's route is his: nothing of it moves
    kept = next(r for r in replanned.routes if r.task == route.task)
    assert [s.order for s in kept.stops] == [s.order for s in route.stops]
    assert [s.status for s in kept.stops] == ["served", "in_progress"]
    (added,) = [r for r in replanned.routes if r.new]
    assert [s.order for s in added.stops] == [late]
    assert replanned.plan is not None
    stored = {s.order_reference: s for s in replanned.plan.stops}
    assert stored[served.order_reference].status is PlanStopStatus.SERVED
    assert stored[task.stops[1].order_reference].status is PlanStopStatus.IN_PROGRESS
    assert stored[served.order_reference].vehicle_id == str(emeka.id)
    assert stored[late].vehicle_id == str(bayo.id)
    assert stored[late].status is PlanStopStatus.PLANNED  # Bayo's, offered once it is packed
    assert await _on_exactly_one_live_task(services, today) == Counter([first, second, late])
    revisions = await plans(services).revisions("lagos", today)
    assert [p.revision for p in revisions] == [1, 2]
    assert {s.status for s in revisions[0].stops} == {PlanStopStatus.PLANNED}


async def test_a_route_offered_to_another_driver_than_planned_leaves_the_planned_one_free(
    services: Services,
) -> None:
    """R-2 was planned for Bayo but, Bayo saying no, offered to Emeka (back from R-1): while
    that offer is open Emeka is the one it takes, so a new order goes to Bayo, idle."""
    await lagos_warehouse(services)
    await services.customers.set_delivery_point(
        TUNDE, DeliveryPoint("12 Herbert Macaulay Way, Yaba", GeoPoint(6.5095, 3.3711))
    )
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)  # on shift now
    today = services.clock.now().date()
    first = await order(services, NGOZI, "w-1")
    await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    await pick_and_pack(services, (first,))
    [offer] = await services.gig.allocate()
    task = await services.gig.accept(offer.id)
    code = await code_for(services, NGOZI, first)
    assert (await services.gig.confirm_delivery(task.id, emeka.id, code)).outcome is (
        CodeCheck.DELIVERED
    )

    bayo = await driver(services, BAYO, "Bayo", capacity=40)
    second = await order(services, CHIDI, "w-2")
    report = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    assert report.plan is not None
    assert {s.vehicle_id for s in report.plan.stops if s.order_reference == second} == {
        str(bayo.id)
    }
    await pick_and_pack(services, (second,))
    [to_bayo] = await services.gig.allocate()
    assert to_bayo.worker_id == bayo.id
    [to_emeka] = await services.gig.decline(to_bayo.id)
    assert to_emeka.worker_id == emeka.id

    late = await order(services, TUNDE, "w-3")
    replanned = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)

    assert replanned.unassigned == ()  # not "no_vehicle": Bayo sits idle
    (added,) = [r for r in replanned.routes if r.new]
    assert [s.order for s in added.stops] == [late]
    assert replanned.plan is not None
    stored = {s.order_reference: s.vehicle_id for s in replanned.plan.stops}
    assert stored[late] == str(bayo.id)
    await pick_and_pack(services, (late,))
    [offer] = await services.gig.allocate()
    assert offer.worker_id == bayo.id
