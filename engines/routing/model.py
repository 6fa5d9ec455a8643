"""The routing problem and its plan as immutable values.

Units are the travel matrix's: distances in kilometres and times in minutes from the start of the
planning day for real fleets; Solomon's abstract units map one to one. Times and distances are
floats (they come from coordinates); money is `Money`, never float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from core.money import Money


class RoutingError(ValueError):
    """A problem that cannot be planned as stated (unknown depot, duplicate ids, bad numbers)."""


@dataclass(frozen=True, slots=True)
class Point:
    """A place: x is longitude and y latitude for real maps (GeoJSON and OSRM order); plane
    coordinates for benchmark instances."""

    x: float
    y: float


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Service must *start* in [start, end] (a vehicle arriving early waits)."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if not self.start <= self.end:
            raise RoutingError(f"time window ends before it starts: [{self.start}, {self.end}]")


@dataclass(frozen=True, slots=True)
class Depot:
    id: str
    point: Point
    opening: TimeWindow


@dataclass(frozen=True, slots=True)
class Order:
    """A stop to serve. `drop_penalty` None means it must be served: it is then only left out
    when it cannot be, and the plan says why."""

    id: str
    point: Point
    demand: int
    window: TimeWindow
    service: float = 0.0
    drop_penalty: Money | None = None

    def __post_init__(self) -> None:
        if self.demand < 0 or self.service < 0:
            raise RoutingError(f"order {self.id}: demand and service time must be >= 0")


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One vehicle and its driver's shift. It leaves `depot` no earlier than the shift start and
    is back at `end_depot` (default: the same) by the shift end, within `max_duration`."""

    id: str
    depot: str
    capacity: int
    shift: TimeWindow
    fixed_cost: Money
    cost_per_km: Money
    end_depot: str | None = None
    max_duration: float | None = None

    @property
    def return_depot(self) -> str:
        return self.end_depot or self.depot


@dataclass(frozen=True, slots=True)
class Problem:
    depots: tuple[Depot, ...]
    orders: tuple[Order, ...]
    vehicles: tuple[Vehicle, ...]
    currency: str

    def __post_init__(self) -> None:
        _unique("depot", [d.id for d in self.depots])
        _unique("order", [o.id for o in self.orders])
        _unique("vehicle", [v.id for v in self.vehicles])
        depots = {d.id for d in self.depots}
        for vehicle in self.vehicles:
            if vehicle.depot not in depots or vehicle.return_depot not in depots:
                raise RoutingError(f"vehicle {vehicle.id}: unknown depot")
            if vehicle.capacity < 0:
                raise RoutingError(f"vehicle {vehicle.id}: capacity must be >= 0")
            for money in (vehicle.fixed_cost, vehicle.cost_per_km):
                if money.currency != self.currency or money.is_negative:
                    raise RoutingError(f"vehicle {vehicle.id}: costs must be >= 0 {self.currency}")
        for order in self.orders:
            penalty = order.drop_penalty
            if penalty is not None and (penalty.currency != self.currency or penalty.is_negative):
                raise RoutingError(f"order {order.id}: drop penalty must be >= 0 {self.currency}")

    @property
    def points(self) -> list[Point]:
        """Matrix rows and columns: the depots first, then the orders, in the problem's order."""
        return [d.point for d in self.depots] + [o.point for o in self.orders]

    def depot_index(self, depot_id: str) -> int:
        return next(i for i, d in enumerate(self.depots) if d.id == depot_id)

    def order_index(self, order_id: str) -> int:
        """The order's row in the travel matrix."""
        return len(self.depots) + next(i for i, o in enumerate(self.orders) if o.id == order_id)


def _unique(kind: str, ids: Sequence[str]) -> None:
    if len(set(ids)) != len(ids):
        raise RoutingError(f"duplicate {kind} ids")


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Distances (km) and driving times (minutes) between `Problem.points`, row = from."""

    distances: tuple[tuple[float, ...], ...]
    durations: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        n = len(self.distances)
        if len(self.durations) != n or any(
            len(row) != n for rows in (self.distances, self.durations) for row in rows
        ):
            raise RoutingError("travel matrix must be square, distances and durations alike")

    @property
    def size(self) -> int:
        return len(self.distances)


class UnassignedReason(StrEnum):
    """Why an order is not in any route, most fundamental reason first."""

    NO_VEHICLE = "no_vehicle"  # the fleet is empty
    OVER_CAPACITY = "over_capacity"  # the demand exceeds every vehicle's capacity
    WINDOW_UNREACHABLE = "window_unreachable"  # no vehicle can get there within its window
    SHIFT_TOO_SHORT = "shift_too_short"  # reachable, but no driver is back before the shift ends
    NO_ROOM = "no_room"  # fits alone, not alongside the others (or dropping it costs less)


@dataclass(frozen=True, slots=True)
class Unassigned:
    order_id: str
    reason: UnassignedReason


@dataclass(frozen=True, slots=True)
class Stop:
    order_id: str
    arrival: float
    start: float  # service start: max(arrival, window start)
    departure: float
    load: int  # on board after this stop's delivery is counted (cumulative demand so far)


@dataclass(frozen=True, slots=True)
class Route:
    vehicle_id: str
    departure: float  # leaves the depot
    stops: tuple[Stop, ...]
    arrival: float  # back at the end depot
    distance: float
    load: int

    @property
    def duration(self) -> float:
        return self.arrival - self.departure

    @property
    def order_ids(self) -> list[str]:
        return [s.order_id for s in self.stops]


@dataclass(frozen=True, slots=True)
class Plan:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    cost: Money
    distance: float

    @property
    def vehicles_used(self) -> int:
        return sum(1 for r in self.routes if r.stops)

    def route_of(self, vehicle_id: str) -> Route | None:
        return next((r for r in self.routes if r.vehicle_id == vehicle_id), None)


def schedule(
    problem: Problem, matrix: TravelMatrix, vehicle: Vehicle, departure: float, order_ids: list[str]
) -> Route:
    """The earliest schedule of a vehicle leaving at `departure` and visiting the orders in turn,
    in real arithmetic: what the solver's integer plan means, and what the checker verifies."""
    by_id = {o.id: o for o in problem.orders}
    here = problem.depot_index(vehicle.depot)
    time, distance, load = departure, 0.0, 0
    stops: list[Stop] = []
    for order_id in order_ids:
        order = by_id[order_id]
        there = problem.order_index(order_id)
        arrival = time + matrix.durations[here][there]
        start = max(arrival, order.window.start)
        load += order.demand
        distance += matrix.distances[here][there]
        time = start + order.service
        stops.append(Stop(order_id, arrival, start, time, load))
        here = there
    end = problem.depot_index(vehicle.return_depot)
    distance += matrix.distances[here][end] if stops else 0.0
    arrival = time + matrix.durations[here][end] if stops else departure
    return Route(vehicle.id, departure, tuple(stops), arrival, distance, load)


def plan_cost(problem: Problem, routes: Sequence[Route], unassigned: Sequence[Unassigned]) -> Money:
    """Fixed cost of each vehicle used, its distance cost, and the penalties of dropped orders."""
    vehicles = {v.id: v for v in problem.vehicles}
    orders = {o.id: o for o in problem.orders}
    total = Money.zero(problem.currency)
    for route in routes:
        if route.stops:
            vehicle = vehicles[route.vehicle_id]
            total += vehicle.fixed_cost
            total += Money(vehicle.cost_per_km.amount * _decimal(route.distance), problem.currency)
    for item in unassigned:
        penalty = orders[item.order_id].drop_penalty
        if penalty is not None:
            total += penalty
    return total


def _decimal(value: float) -> Decimal:
    """A float distance as a decimal string for Money arithmetic (to the metre)."""
    return Decimal(f"{value:.3f}")
