"""Planning a region's delivery day: open orders -> routes -> gig tasks -> pick waves -> offers.

This joins five contexts (orders, customers, routing, warehouse, gig), so it lives in the
composition layer, not in an engine. Each step is idempotent on its own key (a task per route
id, a pick list per order), and orders already on a task of the day are left out, so planning
the same region and day twice creates nothing twice: the second run reports the plan that
stands and re-offers what nobody has taken. With workflows on, the open orders are those their
workflow released (`engines.fulfilment.requests`): paid, on delivery, or drawn on credit.

Every run's plan is stored (`engines.routing.RoutePlanStore`: a revision per change, each stop
with its route, vehicle and status). Re-planning, when orders came in or a planned vehicle is no
longer on shift, starts from the stored plan: the stops of routes a driver has been offered or
has taken (in progress) or has delivered (served) stay fixed; the routes nobody has taken are
withdrawn and re-planned with the new orders, starting from their stored routes and vehicles.

A past day's route that nobody started is closed first (`GigService.expire_stale_tasks`): its
orders are routed again, once, and an order with a pick list is not waved (picked) again.

The planning day is the region's calendar day: it runs from local midnight to midnight
(`core.region.day_bounds`; Lagos, Nairobi and Johannesburg keep no summer time), the solver
counts minutes from its start, and times are stored in UTC.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.app.bootstrap import Services, build_services
from core.clock import Clock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode, day_bounds, local_date
from core.region import region as region_of
from engines.customers import CustomerService
from engines.fulfilment.model import paid_before_release
from engines.fulfilment.requests import SqlDispatchRequests
from engines.gig import (
    TARIFFS,
    DeliveryRoute,
    GeoPoint,
    GigService,
    OfferStatus,
    RouteStop,
    StopStatus,
    Task,
    TaskStatus,
)
from engines.orders import Order, OrderService, PaymentMethod
from engines.routing import (
    Depot,
    GreatCircleMatrix,
    PlanStop,
    PlanStopStatus,
    Point,
    Problem,
    RoutePlanner,
    RoutePlanStore,
    SolverSettings,
    StoredPlan,
    TimeWindow,
    Vehicle,
)
from engines.routing import Order as Stop
from engines.wms import Departure, HoldReason, WarehouseService, Wave, WavePlan, WavePolicy

NO_LOCATION = "no_location"  # the customer has no delivery point: nowhere to drive to
# Not released by its workflow: a prepaid order whose money has not come in, or any other
# (on delivery, credit) its workflow has not sent on: not started, or stuck before the warehouse.
AWAITING_PAYMENT = "awaiting_payment"
NOT_RELEASED = "not_released"
SERVICE_MINUTES = 10.0  # unloading and the code at each door
DEFAULT_WAVES = WavePolicy(cutoff_minutes=60, pickers=4, lines_per_picker=40)
# Tasks that carry nothing any more: withdrawn for a re-plan, or closed with their day.
GONE = frozenset({TaskStatus.CANCELLED, TaskStatus.EXPIRED})
# Tasks no driver has taken yet: their goods are still to be picked, if they were not.
UNTAKEN = frozenset({TaskStatus.OPEN, TaskStatus.OFFERED})
# How long a planning run holds its region beyond the solver's time limit: a run that died
# (killed, its machine gone) leaves its claim, and the next run takes it over after this.
PLAN_LEASE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class RouteDepot:
    """The region's warehouse: where its routes load, start and end."""

    id: str
    point: GeoPoint


@dataclass(frozen=True, slots=True)
class PlannedStop:
    order: str
    address: str
    units: int
    status: str = PlanStopStatus.PLANNED.value  # planned, in_progress or served


@dataclass(frozen=True, slots=True)
class Candidate:
    """An order to route: a new one, or a stop of a withdrawn route."""

    reference: str
    customer: Phone
    address: str
    point: GeoPoint
    units: int


@dataclass(frozen=True, slots=True)
class PlannedRoute:
    route_id: str
    task: str  # the gig task's reference, what the driver hears
    status: str
    departure: datetime
    km: Decimal
    units: int
    stops: tuple[PlannedStop, ...]
    new: bool  # made by this run (False: an earlier run planned it)
    # why a route still open is not offered (`GigService.waiting_for`); None once it is
    waiting_for: str | None = None


@dataclass(frozen=True, slots=True)
class UnassignedOrder:
    order: str
    reason: str  # NO_LOCATION, AWAITING_PAYMENT, NOT_RELEASED or a routing UnassignedReason value


@dataclass(frozen=True, slots=True)
class OfferMade:
    task: str
    driver: str  # the worker's phone
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DispatchReport:
    region: RegionCode
    day: date
    routes: tuple[PlannedRoute, ...]
    unassigned: tuple[UnassignedOrder, ...]
    waves: WavePlan
    offers: tuple[OfferMade, ...]
    vehicles: int = 0
    tasks_created: int = field(default=0)
    plan: StoredPlan | None = None
    withdrawn: tuple[str, ...] = ()  # task references re-planned by this run

    def as_json(self) -> dict[str, Any]:
        return {
            "region": self.region.value,
            "date": self.day.isoformat(),
            "plan": None
            if self.plan is None
            else {
                "id": str(self.plan.id),
                "revision": self.plan.revision,
                "created_at": _iso(self.plan.created_at),
            },
            "replanned": list(self.withdrawn),
            "vehicles": self.vehicles,
            "tasks_created": self.tasks_created,
            "routes": [
                {
                    "route": r.route_id,
                    "task": r.task,
                    "status": r.status,
                    "departure": _iso(r.departure),
                    "km": str(r.km),
                    "units": r.units,
                    "new": r.new,
                    "waiting_for": r.waiting_for,
                    "stops": [
                        {
                            "order": s.order,
                            "address": s.address,
                            "units": s.units,
                            "status": s.status,
                        }
                        for s in r.stops
                    ],
                }
                for r in self.routes
            ],
            "unassigned": [{"order": u.order, "reason": u.reason} for u in self.unassigned],
            "waves": [
                {
                    "number": w.number,
                    "due": _iso(w.due),
                    "routes": list(w.routes),
                    "pickers": [list(b) for b in w.batches],
                }
                for w in self.waves.waves
            ],
            "held": [{"order": ref, "reason": why.value} for ref, why in self.waves.held],
            "offers": [
                {"task": o.task, "driver": o.driver, "expires_at": _iso(o.expires_at)}
                for o in self.offers
            ],
        }


class DispatchPlanner:
    def __init__(  # noqa: PLR0917 - the contexts it joins
        self,
        orders: OrderService,
        customers: CustomerService,
        warehouse: WarehouseService,
        gig: GigService,
        clock: Clock,
        waves: WavePolicy = DEFAULT_WAVES,
        *,
        plans: RoutePlanStore | None = None,
        released: SqlDispatchRequests | None = None,
    ) -> None:
        self._released = released
        self._orders = orders
        self._customers = customers
        self._warehouse = warehouse
        self._gig = gig
        self._clock = clock
        self._waves = waves
        self._plans = plans

    async def plan(
        self, region: RegionCode, day: date, *, time_limit_s: float = 5.0
    ) -> DispatchReport:
        """Route the region's open orders for `day`, make a task per route, release the pick
        waves for the routes' departures and offer the tasks to drivers on shift now.

        With a plan store, the plan is stored, and orders that came in (or a planned vehicle
        gone from the day's crew) re-plan the routes nobody has taken, from the stored plan.
        One run at a time plans a region (its open orders are the region's, whatever the day):
        a run that starts while another is planning it gets PlanInProgressError."""
        if self._plans is None:
            return await self._plan(region, day, time_limit_s)
        now = self._clock.now()
        taken, claim = await self._plans.claim(
            region.value, day, now, PLAN_LEASE + timedelta(seconds=time_limit_s)
        )
        if not taken:
            raise PlanInProgressError(
                f"a plan for {region.value} ({claim.day.isoformat()}) is being made by another"
                f" run since {_iso(claim.claimed_at)}: try again when it is done"
            )
        try:
            return await self._plan(region, day, time_limit_s)
        finally:
            await self._plans.release(claim)

    async def _plan(  # noqa: PLR0915 - one day's plan, step by step
        self, region: RegionCode, day: date, time_limit_s: float
    ) -> DispatchReport:
        start, day_end = day_bounds(region, day)
        day_minutes = _minutes(day_end, start)
        depot = await self._depot(region)
        prefix = f"R-{region.value.upper()}-{day:%Y%m%d}-"
        # a past day's route nobody started is closed first: its orders are routed again here
        await self._gig.expire_stale_tasks()
        every = await self._gig.tasks()
        of_day = [t for t in every if t.route_id.startswith(prefix)]
        earlier = [t for t in of_day if t.status not in GONE]
        stored = await self._plans.latest(region.value, day) if self._plans else None
        # an order on any day's standing route (today's, planning tomorrow) is not routed twice
        on_tasks = {s.order_reference for t in every if t.status not in GONE for s in t.stops}
        todo = [
            o for o in await self._orders.awaiting_dispatch(region) if o.reference not in on_tasks
        ]
        waiting: list[UnassignedOrder] = []
        if self._released is not None:
            # With workflows on, an order is planned once its workflow released it (paid, or
            # its credit drawn): never an order still waiting for its money. The others are
            # listed with why, not left out without a word (but not stored as the plan's:
            # released later, they are news that re-plans the routes nobody took).
            released = await self._released.released(o.reference for o in todo)
            waiting = [_not_released(o) for o in todo if o.reference not in released]
            todo = [o for o in todo if o.reference in released]
        else:
            # Nothing releases without workflows, but an order to be paid before it leaves (a
            # prepaid rail, or the credit on her account) is not sent out with nothing
            # collected: it waits for its money, and lapses unpaid at its payment window's end
            # (OrderService.expire_reservations), as its workflow would hold and unwind it.
            waiting = [_not_released(o) for o in todo if _awaiting_payment(o)]
            todo = [o for o in todo if not _awaiting_payment(o)]
        points = await self._customers.delivery_points([o.customer for o in todo])
        unassigned = [
            UnassignedOrder(o.reference, NO_LOCATION) for o in todo if o.customer not in points
        ]
        routable = [o for o in todo if o.customer in points]

        now = self._clock.now()
        # A route leaves no sooner than the warehouse can pick it: an order is picked if it
        # is in by its route's cut-off (the wave policy's), else held for the next departure.
        earliest = max(start, now + timedelta(minutes=self._waves.cutoff_minutes))
        vehicles: list[Vehicle] = []
        currency = region_of(region).currency
        tariff = TARIFFS[currency]
        crew = await self._gig.crew(region, earliest, day_end)
        for worker, shift in crew:
            begin = _minutes(max(shift.starts_at, earliest), start)
            end = min(_minutes(shift.ends_at, start), day_minutes)
            if begin < end:
                vehicles.append(
                    Vehicle(
                        id=str(worker.id),
                        depot=depot.id,
                        capacity=worker.vehicle.capacity_units,
                        shift=TimeWindow(begin, end),
                        # What a route costs is what its driver earns beyond the per-stop pay.
                        fixed_cost=tariff.completion_bonus,
                        cost_per_km=tariff.per_km,
                    )
                )
        # Which vehicle each stored route was planned for (a route nobody took has no driver).
        planned_on = {
            st.route_id: st.vehicle_id
            for st in (stored.stops if stored else ())
            if st.route_id and st.vehicle_id
        }
        fleet = {v.id for v in vehicles}
        untaken = [t for t in earlier if t.status is TaskStatus.OPEN]
        # a route planned for a vehicle no longer on shift that day must go to another one
        stranded = [t for t in untaken if planned_on.get(t.route_id, "") not in fleet | {""}]
        # orders the stored plan already left unassigned are tried again, but they are not news:
        # only orders that came in since (or a stranded route) re-plan the routes nobody took
        left_out = {
            st.order_reference
            for st in (stored.stops if stored else ())
            if st.status is PlanStopStatus.UNASSIGNED
        }
        arrived = [o for o in routable if o.reference not in left_out]
        withdrawn: list[Task] = []
        if self._plans is not None and (arrived or stranded):
            for task in untaken:
                if await self._gig.withdraw(task.id):
                    withdrawn.append(task)
        gone = {t.id for t in withdrawn}
        standing = [t for t in earlier if t.id not in gone]
        # A route on offer is the offered driver's, whoever it was planned for: the allocator
        # gives a route to the best driver free when it is packed, not always the planned one.
        offered_to = await self._offered_to(t for t in standing if t.status is TaskStatus.OFFERED)
        free = _still_free(vehicles, standing, planned_on, offered_to)
        candidates = [
            Candidate(s.order_reference, s.customer, s.address, s.point, s.units)
            for t in withdrawn
            for s in t.stops
        ] + [
            Candidate(
                o.reference,
                o.customer,
                points[o.customer].address,
                points[o.customer].point,
                _units(o),
            )
            for o in routable
        ]
        current = {
            planned_on[t.route_id]: [s.order_reference for s in t.stops]
            for t in withdrawn
            if t.route_id in planned_on
        }
        created: list[Task] = []
        vehicle_of: dict[str, str] = dict(planned_on)
        if candidates:
            routes, dropped = await self._solve(
                region, depot, candidates, free, (start, day_minutes), time_limit_s, current
            )
            unassigned += dropped
            number = 1 + max((_number(t.route_id) for t in of_day), default=0)
            for vehicle_id, route in routes:
                route_id = f"{prefix}{number}"
                number += 1
                created.append(await self._gig.create_task(_with_id(route, route_id)))
                vehicle_of[route_id] = vehicle_id
        fresh = {t.id for t in created}
        tasks = sorted([*standing, *created], key=lambda t: (t.departure, t.route_id))
        # Every order on a route nobody has taken is waved until it has a pick list: the new
        # ones, and any an earlier run held from its wave (its bins were short, say); an order
        # routed again (its route expired) keeps the pick list made for it then.
        riding = {
            s.order_reference: Departure(t.route_id, t.departure)
            for t in tasks
            if t.status in UNTAKEN
            for s in t.stops
        }
        waved = await self._warehouse.pick_listed(riding)
        departures = {ref: d for ref, d in riding.items() if ref not in waved}
        waves = WavePlan(())
        if departures:
            planned = _too_big_alone(
                await self._warehouse.plan_waves(departures, self._waves), departures
            )
            waves = await self._warehouse.release_waves(depot.id, planned)
        offers = await self._gig.allocate()
        by_task = {t.id: t.reference for t in tasks}
        phones = {o.worker_id: (await self._gig.worker(o.worker_id)).phone.e164 for o in offers}
        offered = {o.task_id for o in offers}
        offered_to |= {o.task_id: str(o.worker_id) for o in offers}
        not_offered = {t.id: await self._gig.waiting_for(t) for t in tasks if t.id not in offered}
        unassigned = sorted(unassigned, key=lambda u: u.order)
        plan = None
        if self._plans is not None:
            stops = _plan_stops(tasks, offered, vehicle_of, offered_to, unassigned)
            plan = stored
            if stored is None or not stored.same_as(stops):
                plan = await self._plans.save(region.value, day, stops, now)
        return DispatchReport(
            region=region,
            day=day,
            routes=tuple(
                _planned(t, t.id in fresh, t.id in offered, not_offered.get(t.id)) for t in tasks
            ),
            unassigned=tuple(sorted([*unassigned, *waiting], key=lambda u: u.order)),
            waves=waves,
            offers=tuple(
                OfferMade(by_task.get(o.task_id, str(o.task_id)), phones[o.worker_id], o.expires_at)
                for o in offers
            ),
            vehicles=len(free),
            tasks_created=len(created),
            plan=plan,
            withdrawn=tuple(t.reference for t in withdrawn),
        )

    async def _offered_to(self, tasks: Iterable[Task]) -> dict[uuid.UUID, str]:
        """task id -> the worker (id) its open offer went to."""
        return {
            o.task_id: str(o.worker_id)
            for t in tasks
            for o in await self._gig.offers(t.id)
            if o.status is OfferStatus.OPEN
        }

    async def _depot(self, region: RegionCode) -> RouteDepot:
        """The region's warehouse, where its routes start and end, as the database has it."""
        site = await self._warehouse.site(region.value)
        if site is None:
            raise NoDepotError(f"{region.value} has no warehouse: nowhere to load the trucks")
        if site.lat is None or site.lon is None:
            raise NoDepotError(
                f"warehouse {site.warehouse_id} has no location: routes start and end there,"
                f" so record it first (omniroute warehouses locate {site.warehouse_id}"
                " --lat X --lon Y)"
            )
        return RouteDepot(site.warehouse_id, GeoPoint(site.lat, site.lon))

    async def _solve(  # noqa: PLR0917
        self,
        region: RegionCode,
        site: RouteDepot,
        candidates: Sequence[Candidate],
        vehicles: list[Vehicle],
        day: tuple[datetime, float],
        time_limit_s: float,
        current: dict[str, list[str]],
    ) -> tuple[list[tuple[str, DeliveryRoute]], list[UnassignedOrder]]:
        """Solve the routing problem, from `current` (vehicle id -> order ids) when re-planning;
        the routes as the gig platform takes them (ids to set), with their vehicles."""
        if not vehicles:
            return [], [UnassignedOrder(c.reference, "no_vehicle") for c in candidates]
        depot = site.point
        start, day_minutes = day
        whole_day = TimeWindow(0.0, day_minutes)
        by_ref = {c.reference: c for c in candidates}
        problem = Problem(
            depots=(Depot(site.id, Point(depot.lon, depot.lat), whole_day),),
            orders=tuple(
                Stop(
                    id=c.reference,
                    point=Point(c.point.lon, c.point.lat),
                    demand=c.units,
                    window=TimeWindow(
                        min(v.shift.start for v in vehicles), max(v.shift.end for v in vehicles)
                    ),
                    service=SERVICE_MINUTES,
                )
                for c in candidates
            ),
            vehicles=tuple(vehicles),
            currency=region_of(region).currency,
        )
        planner = RoutePlanner(GreatCircleMatrix(), SolverSettings(time_limit_s=time_limit_s))
        if current:
            plan, matrix = await planner.replan(problem, current)
        else:
            plan, matrix = await planner.plan(problem)
        routes: list[tuple[str, DeliveryRoute]] = []
        for route in sorted(plan.routes, key=lambda r: (r.departure, r.vehicle_id)):
            if not route.stops:
                continue
            here = problem.depot_index(site.id)
            stops = []
            for stop in route.stops:
                there = problem.order_index(stop.order_id)
                c = by_ref[stop.order_id]
                leg = Decimal(f"{matrix.distances[here][there]:.1f}")
                stops.append(RouteStop(c.reference, c.customer, c.address, c.point, c.units, leg))
                here = there
            routes.append(
                (
                    route.vehicle_id,
                    DeliveryRoute(
                        "",
                        region,
                        depot,
                        start + timedelta(minutes=route.departure),
                        tuple(stops),
                        start + timedelta(minutes=route.arrival),
                    ),
                )
            )
        dropped = [UnassignedOrder(u.order_id, u.reason.value) for u in plan.unassigned]
        return routes, dropped


def _too_big_alone(plan: WavePlan, departures: dict[str, Departure]) -> WavePlan:
    """An order with more lines than one picker carries in a wave still rides its route, so it
    is picked in a wave of its own (after the others) rather than held without a pick list."""
    big = sorted(
        (departures[ref].at, departures[ref].route, ref)
        for ref, why in plan.held
        if why is HoldReason.TOO_BIG
    )
    if not big:
        return plan
    alone = tuple(
        Wave(number=number, routes=(route,), due=at, batches=((ref,),))
        for number, (at, route, ref) in enumerate(big, start=len(plan.waves) + 1)
    )
    return WavePlan(
        (*plan.waves, *alone), tuple(h for h in plan.held if h[1] is not HoldReason.TOO_BIG)
    )


def _plan_stops(
    tasks: Sequence[Task],
    offered: set[uuid.UUID],
    vehicle_of: dict[str, str],
    offered_to: dict[uuid.UUID, str],
    unassigned: Sequence[UnassignedOrder],
) -> list[PlanStop]:
    stops = [
        PlanStop(
            order_reference=s.order_reference,
            status=_stop_status(t, s.status, t.id in offered),
            route_id=t.route_id,
            task_reference=t.reference,
            vehicle_id=str(t.worker_id)
            if t.worker_id
            else offered_to.get(t.id, vehicle_of.get(t.route_id)),
            position=s.position,
        )
        for t in tasks
        for s in t.stops
    ]
    stops += [PlanStop(u.order, PlanStopStatus.UNASSIGNED, reason=u.reason) for u in unassigned]
    return stops


def _stop_status(task: Task, stop: StopStatus, offered: bool) -> PlanStopStatus:
    if stop in (StopStatus.DELIVERED, StopStatus.ESCALATED, StopStatus.RETURNED):
        return PlanStopStatus.SERVED
    if task.status is TaskStatus.OPEN and not offered:
        return PlanStopStatus.PLANNED
    return PlanStopStatus.IN_PROGRESS


def _still_free(
    vehicles: list[Vehicle],
    standing: Sequence[Task],
    planned_on: dict[str, str],
    offered_to: dict[uuid.UUID, str],
) -> list[Vehicle]:
    """The fleet left once the day's standing routes have their vehicles: a taken route keeps
    its driver, and one on offer the driver offered it; an untaken one keeps the vehicle it was
    planned for (or, planned before plans were stored, the smallest vehicle that carries it:
    one route per driver)."""
    held = {str(t.worker_id) for t in standing if t.worker_id is not None}
    held |= set(offered_to.values())
    waiting = [t for t in standing if t.worker_id is None and t.id not in offered_to]
    held |= {planned_on[t.route_id] for t in waiting if t.route_id in planned_on}
    free = [v for v in vehicles if v.id not in held]
    unknown = [t for t in waiting if t.route_id not in planned_on]
    for task in sorted(unknown, key=lambda t: -t.units):
        fitting = [v for v in free if v.capacity >= task.units]
        if fitting:
            free.remove(min(fitting, key=lambda v: (v.capacity, v.id)))
    return free


def _awaiting_payment(order: Order) -> bool:
    """Paid before it may leave (a prepaid rail, or her account credit), and not paid yet."""
    before = order.payment_method is PaymentMethod.ACCOUNT_CREDIT or paid_before_release(
        order.payment_method.value
    )
    return before and order.paid_at is None


def _not_released(order: Order) -> UnassignedOrder:
    return UnassignedOrder(
        order.reference, AWAITING_PAYMENT if _awaiting_payment(order) else NOT_RELEASED
    )


def _units(order: Order) -> int:
    return sum(line.quantity for line in order.lines)


def _minutes(at: datetime, start: datetime) -> float:
    return (at - start).total_seconds() / 60


def _number(route_id: str) -> int:
    found = re.search(r"-(\d+)$", route_id)
    return int(found.group(1)) if found else 0


def _with_id(route: DeliveryRoute, route_id: str) -> DeliveryRoute:
    return DeliveryRoute(
        route_id, route.region, route.depot, route.departure, route.stops, route.returns_at
    )


def _planned(task: Task, new: bool, offered: bool, waiting_for: str | None) -> PlannedRoute:
    # `task` was read before this run's offers went out: one it offered is on offer now.
    status = TaskStatus.OFFERED if offered and task.status is TaskStatus.OPEN else task.status
    return PlannedRoute(
        route_id=task.route_id,
        task=task.reference,
        status=status.value,
        departure=task.departure,
        km=task.km,
        units=task.units,
        stops=tuple(
            PlannedStop(
                s.order_reference, s.address, s.units, _stop_status(task, s.status, offered).value
            )
            for s in task.stops
        ),
        new=new,
        waiting_for=waiting_for,
    )


def tomorrow(region: RegionCode, now: datetime) -> date:
    """The region's next calendar day at `now`: at 23:30 in Lagos (22:30 UTC) that is the day
    after the Lagos date, whatever the UTC date says."""
    return local_date(region, now) + timedelta(days=1)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def released_orders(services: Services) -> SqlDispatchRequests | None:
    """Where workflows carry the orders (the default), only what they released is planned;
    with `OMNIROUTE_TEMPORAL=off` nothing releases, so every open order is."""
    return SqlDispatchRequests(services.db) if services.settings.temporal == "on" else None


def operators_planner(services: Services) -> DispatchPlanner:
    """The planner as `omniroute routes plan` runs it: plans kept, released orders only."""
    return DispatchPlanner(
        services.orders,
        services.customers,
        services.warehouse,
        services.gig,
        services.clock,
        plans=services.route_plans,
        released=released_orders(services),
    )


class DayOverError(ValueError):
    """The day asked for is over in the region: there is nobody left to drive it."""


class NoDepotError(LookupError):
    """The region's warehouse is not in the database, or has no location: no route can start."""


class PlanInProgressError(RuntimeError):
    """Another run (a cron, an operator, another replica) is planning the region right now."""


def plan_day_command(region: RegionCode, day: date | None, time_limit_s: float) -> int:
    """`omniroute routes plan`: plan the day (default: tomorrow in the region's time zone) and
    print the report; a day that is over, or a region another run is planning right now, is
    refused, one line on stderr, exit 2."""
    try:
        report = asyncio.run(_plan_day(region, day, time_limit_s))
    except (DayOverError, NoDepotError, PlanInProgressError) as exc:
        print(f"omniroute routes plan: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_json(), indent=2))
    return 0


async def _plan_day(region: RegionCode, day: date | None, time_limit_s: float) -> DispatchReport:
    services = build_services(Settings())
    try:
        planner = operators_planner(services)
        now = services.clock.now()
        today, when = local_date(region, now), day or tomorrow(region, now)
        if when < today:
            # Planned anyway, every order would come back "no_vehicle" (no shift is left on
            # it) and a plan revision would be stored for a day nobody can drive.
            raise DayOverError(
                f"{when.isoformat()} is over in {region.value} (today there is"
                f" {today.isoformat()}): plan today or a day to come"
            )
        return await planner.plan(region, when, time_limit_s=time_limit_s)
    finally:
        await services.close()
