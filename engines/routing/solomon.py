"""Solomon's VRPTW instance format as a routing `Problem` (one depot, one vehicle type).

The file is read by whitespace, not by column (the distributed files have CRLF endings and
trailing spaces): a name line, `VEHICLE` with the fleet bound and capacity, `CUSTOMER` with one
row of seven integers per point (number, x, y, demand, ready, due, service), the depot first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from core.money import Money
from engines.routing.model import (
    Depot,
    Order,
    Point,
    Problem,
    RoutingError,
    TimeWindow,
    Vehicle,
)

CURRENCY = "XXX"  # ISO 4217 "no currency": the benchmark's cost is distance itself


@dataclass(frozen=True, slots=True)
class SolomonInstance:
    name: str
    fleet: int
    capacity: int
    problem: Problem


def parse_solomon(text: str, *, vehicles: int | None = None) -> SolomonInstance:
    """`vehicles` overrides the fleet bound of the file."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines:
        raise RoutingError("not a Solomon instance: the file is empty")
    name = lines[0][0]
    at = _section(lines, "VEHICLE")
    try:
        fleet, capacity = int(lines[at + 2][0]), int(lines[at + 2][1])
    except (IndexError, ValueError) as exc:
        raise RoutingError(
            "not a Solomon instance: VEHICLE needs a line with the fleet size and the capacity "
            "under its NUMBER CAPACITY header"
        ) from exc
    at = _section(lines, "CUSTOMER")
    try:
        # Coordinates and times as written (some files have decimals: never truncated).
        rows = [[float(x) for x in line] for line in lines[at + 1 :] if line[0].isdigit()]
    except ValueError as exc:
        raise RoutingError(
            f"not a Solomon instance: a customer row is not numbers ({exc})"
        ) from exc
    if not rows or any(len(row) != 7 for row in rows):
        raise RoutingError(
            "not a Solomon instance: CUSTOMER needs one row of seven numbers per point (number, "
            "x, y, demand, ready, due, service), the depot first"
        )
    if not all(math.isfinite(x) for row in rows for x in row) or not all(
        row[0].is_integer() and row[3].is_integer() for row in rows
    ):
        raise RoutingError(
            "not a Solomon instance: a customer's number and demand are whole numbers, and "
            "every value a finite number"
        )
    depot_row, customers = rows[0], rows[1:]
    try:
        horizon = TimeWindow(depot_row[4], depot_row[5])
    except RoutingError as exc:
        raise RoutingError(f"depot {int(depot_row[0])}: {exc}") from exc
    depot = Depot(str(int(depot_row[0])), Point(depot_row[1], depot_row[2]), horizon)
    orders = tuple(_order(r) for r in customers)
    count = fleet if vehicles is None else vehicles
    if count < 1:
        raise RoutingError("at least one vehicle is needed")
    # A vehicle beyond one per customer can never be used, and the routing model grows with the
    # fleet: `--vehicles 100000` must not take the machine's memory for 100 customers.
    built = min(count, max(1, len(orders)))
    fleet_vehicles = tuple(
        Vehicle(
            id=f"v{i + 1}",
            depot=depot.id,
            capacity=capacity,
            shift=horizon,
            fixed_cost=Money.zero(CURRENCY),
            cost_per_km=Money(Decimal(1), CURRENCY),
        )
        for i in range(built)
    )
    problem = Problem((depot,), orders, fleet_vehicles, CURRENCY)
    return SolomonInstance(name, count, capacity, problem)


def _order(row: list[float]) -> Order:
    """A customer row as an order; a bad one is named by its number (files run to 1,000)."""
    number = str(int(row[0]))
    try:
        window = TimeWindow(row[4], row[5])
    except RoutingError as exc:
        raise RoutingError(f"customer {number}: {exc}") from exc
    return Order(number, Point(row[1], row[2]), int(row[3]), window, row[6])


def _section(lines: list[list[str]], title: str) -> int:
    """Where the section headed `title` (VEHICLE, CUSTOMER) begins."""
    for i, line in enumerate(lines):
        if line[0].upper() == title:
            return i
    raise RoutingError(f"not a Solomon instance: no {title} section")


def vehicles_first(problem: Problem) -> Problem:
    """The same problem with a fixed cost per vehicle above any plan's whole distance (a round
    trip to every customer), so fewer vehicles always win and distance only breaks ties."""
    depot = problem.depots[0].point
    bound = sum(2 * math.hypot(o.point.x - depot.x, o.point.y - depot.y) for o in problem.orders)
    cost = Money(Decimal(math.ceil(bound) + 1), problem.currency)
    fleet = tuple(replace(v, fixed_cost=cost) for v in problem.vehicles)
    return replace(problem, vehicles=fleet)
