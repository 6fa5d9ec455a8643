"""The day planner: which orders get a route, which do not and why, and that planning twice
creates nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from core.app.bootstrap import Services
from core.app.demo import load_demo
from core.app.dispatch_plan import NO_LOCATION, DispatchPlanner, NoDepotError, tomorrow
from core.phone import Phone
from core.region import RegionCode, local_date
from engines.catalogue.tables import warehouses
from engines.customers import DeliveryPoint
from engines.customers.tables import customers
from engines.gig import GeoPoint, TaskStatus
from engines.gig.tables import gig_shifts
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.routing import Point
from engines.routing.matrix import haversine_km
from engines.wms import Layout, WavePolicy, Zone, grid
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, driver, order, pick_and_pack

NOWHERE = Phone("+2348030000777")  # a retailer who never gave a delivery address
BIG = Phone("+2348030000778")


def planner(services: Services) -> DispatchPlanner:
    return DispatchPlanner(
        services.orders,
        services.customers,
        services.warehouse,
        services.gig,
        services.clock,
        plans=services.route_plans,
    )


async def lagos_warehouse(services: Services) -> None:
    wms = services.warehouse
    await wms.define(
        Layout("WH-LAGOS", depth=20.0),
        [Zone("WH-LAGOS:dry", "WH-LAGOS", "Dry goods")],
        grid("WH-LAGOS", "WH-LAGOS:dry", aisles=3, bays=8, capacity=200),
    )
    await wms.put_away("WH-LAGOS", "NDL-INDO-CHK", 150)


async def test_orders_without_a_point_or_too_big_are_left_out_with_the_reason(
    services: Services,
) -> None:
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    bayo = await driver(services, BAYO, "Bayo", capacity=40, at=GeoPoint(6.46, 3.39))
    tomorrow = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)
    for worker in (emeka, bayo):
        await services.gig.add_shift(worker.id, seven, seven + timedelta(hours=10))
    await services.customers.set_delivery_point(
        BIG, DeliveryPoint("3 Creek Road, Apapa", GeoPoint(6.4474, 3.3640))
    )
    small_1 = await order(services, NGOZI, "p-1")  # demo retailers: points from the demo data
    small_2 = await order(services, CHIDI, "p-2")
    lost = await order(services, NOWHERE, "p-3")
    huge = await order(services, BIG, "p-4", quantity=60)  # more than any motorbike carries

    report = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    assert {(u.order, u.reason) for u in report.unassigned} == {
        (lost, NO_LOCATION),
        (huge, "over_capacity"),
    }
    routed = {s.order for r in report.routes for s in r.stops}
    assert routed == {small_1, small_2}
    assert report.tasks_created == len(report.routes) >= 1
    assert all(r.route_id.startswith("R-LAGOS-") for r in report.routes)
    # Tomorrow's routes leave when tomorrow's shifts start, not in their last hour.
    assert all(r.departure == seven for r in report.routes)
    # Picked in waves ahead of the departures: the orders' pick lists exist.
    assert {ref for w in report.waves.waves for ref in w.orders} == routed
    assert (await services.orders.get(small_1)).status is OrderStatus.PICKING
    # Drivers on shift today do not hear of tomorrow's routes: they wait for their day.
    assert report.offers == ()

    again = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)
    assert again.tasks_created == 0
    assert [r.route_id for r in again.routes] == [r.route_id for r in report.routes]
    assert not any(r.new for r in again.routes)
    assert again.offers == ()
    assert len(await services.gig.tasks(TaskStatus.OPEN)) == len(report.routes)

    # Tomorrow at 08:30 in Lagos, picked and packed overnight, the dispatcher (the offer
    # sweeper) offers them: one per task.
    await pick_and_pack(services, routed)
    services.clock.advance((seven + timedelta(minutes=30) - services.clock.now()).total_seconds())
    offers = await services.gig.allocate()
    assert len(offers) == len(report.routes)
    assert {o.worker_id for o in offers} <= {emeka.id, bayo.id}
    assert {(u.order, u.reason) for u in again.unassigned} == {
        (lost, NO_LOCATION),
        (huge, "over_capacity"),
    }


async def test_an_order_too_big_for_one_picker_rides_its_route_with_a_pick_list(
    services: Services,
) -> None:
    """An order of more lines than a picker carries in a wave was held from the waves as
    too_big yet left on its route: the truck would have left without its goods."""
    await lagos_warehouse(services)
    await services.warehouse.put_away("WH-LAGOS", "RCE-LONG-25K", 20)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    tomorrow = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)
    await services.gig.add_shift(emeka.id, seven, seven + timedelta(hours=10))
    small = await order(services, CHIDI, "big-0")
    big = (
        await services.orders.place(
            PlaceOrder(
                NGOZI,
                RegionCode.LAGOS,
                (CartLine("NDL-INDO-CHK", 2), CartLine("RCE-LONG-25K", 2)),
                PaymentMethod.ON_DELIVERY,
                "big-1",
            )
        )
    ).reference
    one_line_each = WavePolicy(cutoff_minutes=60, pickers=2, lines_per_picker=1)
    planner = DispatchPlanner(
        services.orders,
        services.customers,
        services.warehouse,
        services.gig,
        services.clock,
        one_line_each,
        plans=services.route_plans,
    )

    report = await planner.plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    [route] = report.routes
    assert {s.order for s in route.stops} == {small, big}
    assert report.waves.held == ()
    assert [w.batches for w in report.waves.waves] == [((small,),), ((big,),)]
    assert await services.warehouse.pick_listed([small, big]) == {small, big}
    pick = await services.warehouse.find_pick_list(big)
    assert sorted(line.sku for line in pick.lines) == ["NDL-INDO-CHK", "RCE-LONG-25K"]
    assert (await services.orders.get(big)).status is OrderStatus.PICKING


async def test_routes_start_and_end_at_the_warehouse_where_the_database_has_it(
    services: Services,
) -> None:
    """The planner started every Lagos route from the demo's depot on Lagos Island, wherever
    the region's warehouse stood: a warehouse in Ikeja had its first legs (and pay) wrong."""
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    tomorrow = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)
    await services.gig.add_shift(emeka.id, seven, seven + timedelta(hours=10))
    ikeja = GeoPoint(6.6018, 3.3515)
    async with services.db.transaction() as s:
        await s.execute(
            update(warehouses)
            .where(warehouses.c.id == "WH-LAGOS")
            .values(lat=ikeja.lat, lon=ikeja.lon)
        )
    ngozi = await order(services, NGOZI, "site-1")  # 14 Balogun Street, Lagos Island

    report = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    [route] = report.routes
    task = await services.gig.task_by_reference(route.task)
    assert task is not None
    assert task.depot == ikeja
    [stop] = task.stops
    assert stop.order_reference == ngozi
    by_road = haversine_km(Point(ikeja.lon, ikeja.lat), Point(3.3890, 6.4541)) * 1.3
    assert stop.leg_km == Decimal(f"{by_road:.1f}") > Decimal(20)  # Ikeja to Lagos Island
    assert (await services.warehouse.find_pick_list(ngozi)).warehouse_id == "WH-LAGOS"


async def test_a_warehouse_without_a_location_is_named_and_nothing_is_planned(
    services: Services,
) -> None:
    await lagos_warehouse(services)
    await order(services, NGOZI, "site-2")
    async with services.db.transaction() as s:
        await s.execute(
            update(warehouses).where(warehouses.c.id == "WH-LAGOS").values(lat=None, lon=None)
        )
    tomorrow = (services.clock.now() + timedelta(days=1)).date()

    with pytest.raises(NoDepotError) as refused:
        await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    assert str(refused.value) == (
        "warehouse WH-LAGOS has no location: routes start and end there, so record it first"
        " (omniroute warehouses locate WH-LAGOS --lat X --lon Y)"
    )
    assert await services.gig.tasks() == []


async def test_an_order_its_workflow_already_sent_to_the_warehouse_is_still_routed(
    services: Services,
) -> None:
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    tomorrow = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)
    await services.gig.add_shift(emeka.id, seven, seven + timedelta(hours=10))
    picking = await order(services, NGOZI, "w-1")
    for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING):  # what the workflow does first
        await services.orders.advance(picking, status)

    report = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    assert {s.order for r in report.routes for s in r.stops} == {picking}
    assert report.unassigned == ()
    assert (await services.orders.get(picking)).status is OrderStatus.PICKING


async def test_no_driver_on_shift_that_day(services: Services) -> None:
    await lagos_warehouse(services)
    first = await order(services, NGOZI, "q-1")
    later = (services.clock.now() + timedelta(days=3)).date()
    report = await planner(services).plan(RegionCode.LAGOS, later, time_limit_s=1)
    assert [(u.order, u.reason) for u in report.unassigned] == [(first, "no_vehicle")]
    assert report.routes == ()
    assert report.vehicles == 0


async def test_a_delivery_point_is_set_replaced_and_checked(services: Services) -> None:
    customers = services.customers
    demo = await customers.delivery_points([NGOZI, NOWHERE])
    assert demo == {
        NGOZI: DeliveryPoint("14 Balogun Street, Lagos Island", GeoPoint(6.4541, 3.3890))
    }
    await customers.set_delivery_point(
        NOWHERE, DeliveryPoint("  2 Marina   Road ", GeoPoint(6.449, 3.402))
    )
    await customers.set_delivery_point(
        NOWHERE, DeliveryPoint("4 Marina Road, Lagos Island", GeoPoint(6.450, 3.403))
    )
    points = await customers.delivery_points([NOWHERE])
    assert points[NOWHERE] == DeliveryPoint("4 Marina Road, Lagos Island", GeoPoint(6.45, 3.403))
    found = await customers.get(NOWHERE)  # a new customer, in the region of their number
    assert found is not None
    assert found.locale is None
    with pytest.raises(ValueError, match="1 to 200 characters"):
        DeliveryPoint("   ", GeoPoint(6.45, 3.40))
    with pytest.raises(ValueError, match="not a place on Earth"):
        GeoPoint(96.0, 3.40)


async def test_seeding_again_gives_older_demo_retailers_their_points(services: Services) -> None:
    """A database seeded before delivery points existed: the next seed fills them in."""
    async with services.db.transaction() as s:
        await s.execute(customers.update().values(address=None, lat=None, lon=None))
    now = services.clock.now()
    assert await load_demo(services.db, now) == 6  # two retailers in each of three regions
    assert await load_demo(services.db, now) == 0
    points = await services.customers.delivery_points([NGOZI, CHIDI])
    assert set(points) == {NGOZI, CHIDI}


async def test_a_later_order_gets_a_driver_not_yet_given_a_route(services: Services) -> None:
    """Planned the same day (10:00 in Lagos): the route is offered once packed, and stands."""
    await lagos_warehouse(services)
    await driver(services, EMEKA, "Emeka", capacity=40)  # on shift now
    today = local_date(RegionCode.LAGOS, services.clock.now())
    first = await order(services, NGOZI, "r-1")
    report = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    assert [s.order for r in report.routes for s in r.stops] == [first]
    assert report.offers == ()  # today's route, offered once its goods are packed
    # It leaves once the warehouse can have picked it, so the order is picked, not held.
    [route] = report.routes
    assert route.status == "open"
    assert route.waiting_for == "packing"
    assert report.as_json()["routes"][0]["waiting_for"] == "packing"
    assert {s.status for s in route.stops} == {"planned"}
    assert route.departure >= services.clock.now() + timedelta(minutes=60)
    assert [w.orders for w in report.waves.waves] == [(first,)]
    assert report.waves.held == ()
    await pick_and_pack(services, (first,))
    packed = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    assert [o.driver for o in packed.offers] == [EMEKA.e164]
    [route] = packed.routes
    assert route.status == "offered"  # as its stops say (in progress), not "open"
    assert route.waiting_for is None
    assert {s.status for s in route.stops} == {"in_progress"}

    late = await order(services, CHIDI, "r-2")
    again = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    assert again.tasks_created == 0  # Emeka's one route is offered already
    assert [(u.order, u.reason) for u in again.unassigned] == [(late, "no_vehicle")]

    await driver(services, BAYO, "Bayo", capacity=40)
    third = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    assert third.tasks_created == 1
    assert third.unassigned == ()
    assert third.offers == ()  # until its goods are packed
    assert [r.waiting_for for r in third.routes if r.new] == ["packing"]
    await pick_and_pack(services, (late,))
    [offer] = await services.gig.allocate()
    assert (await services.gig.worker(offer.worker_id)).phone == BAYO
    assert sorted(r.route_id[-2:] for r in third.routes) == ["-1", "-2"]


async def test_at_half_past_eleven_in_lagos_tomorrow_is_the_lagos_tomorrow(
    services: Services,
) -> None:
    """22:30 UTC on 5 January is 23:30 in Lagos: tomorrow is the 6th there and starts at 23:00
    UTC; its route is offered after Lagos midnight, while the UTC date is still the 5th."""
    await lagos_warehouse(services)
    services.clock.advance(13.5 * 3600)
    now = services.clock.now()
    assert now == datetime(2026, 1, 5, 22, 30, tzinfo=UTC)
    night = await driver(services, EMEKA, "Emeka", capacity=40)  # on shift 21:30-07:30 UTC
    first = await order(services, NGOZI, "n-1")
    day = tomorrow(RegionCode.LAGOS, now)
    assert day == date(2026, 1, 6)

    report = await planner(services).plan(RegionCode.LAGOS, day, time_limit_s=1)

    [route] = report.routes
    assert [s.order for s in route.stops] == [first]
    assert route.route_id.startswith("R-LAGOS-20260106-")
    assert route.departure >= datetime(2026, 1, 5, 23, 0, tzinfo=UTC)  # Lagos midnight
    assert local_date(RegionCode.LAGOS, route.departure) == day
    assert report.waves.held == ()  # in an hour before it leaves: picked
    assert report.offers == ()  # 23:30 in Lagos: not its day yet

    await pick_and_pack(services, (first,))
    services.clock.advance(45 * 60)  # 23:15 UTC, 00:15 in Lagos
    [offer] = await services.gig.allocate()
    assert offer.worker_id == night.id


async def test_a_packed_route_not_offered_says_it_waits_for_a_driver(services: Services) -> None:
    """Today's route, packed: nobody is on shift yet to take it; then the one driver on shift
    said no to it: the plan says what it waits for."""
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    now = services.clock.now()
    async with services.db.transaction() as s:  # his shift starts in two hours
        await s.execute(
            update(gig_shifts)
            .where(gig_shifts.c.worker_id == emeka.id)
            .values(starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=9))
        )
    today = local_date(RegionCode.LAGOS, now)
    first = await order(services, NGOZI, "x-1")
    await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    await pick_and_pack(services, (first,))

    report = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)

    assert report.offers == ()
    assert [r["waiting_for"] for r in report.as_json()["routes"]] == ["driver_on_shift"]

    bayo = await driver(services, BAYO, "Bayo", capacity=40)  # on shift now
    second = await order(services, CHIDI, "x-2")
    await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)
    await pick_and_pack(services, (second,))
    [offer] = await services.gig.allocate()
    assert offer.worker_id == bayo.id
    assert await services.gig.decline(offer.id) == []  # nobody else on shift now

    declined = await planner(services).plan(RegionCode.LAGOS, today, time_limit_s=1)

    assert {r.waiting_for for r in declined.routes} == {"free_driver"}


async def test_without_workflows_an_order_unpaid_from_her_credit_is_not_routed(
    services: Services,
) -> None:
    """With workflows off every open order is planned, but one to be paid from the credit on
    her account that its checkout never paid (it died after placing it) would be delivered with
    nothing collected: it is listed as awaiting payment; once paid it is routed."""
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    tomorrow = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)
    await services.gig.add_shift(emeka.id, seven, seven + timedelta(hours=10))
    on_delivery = await order(services, CHIDI, "c-1")
    from_credit = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 2),),
            PaymentMethod.ACCOUNT_CREDIT,
            "c-2",
        )
    )

    report = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)

    assert {(u.order, u.reason) for u in report.unassigned} == {
        (from_credit.reference, "awaiting_payment")
    }
    assert {s.order for r in report.routes for s in r.stops} == {on_delivery}
    assert (await services.orders.get(from_credit.reference)).status is OrderStatus.PLACED

    await services.orders.paid_from_credit(from_credit.reference)
    again = await planner(services).plan(RegionCode.LAGOS, tomorrow, time_limit_s=1)
    assert {s.order for r in again.routes for s in r.stops} == {on_delivery, from_credit.reference}
