"""Small routing problems on a plane (1 km per unit, driven at 1 km/minute) for the tests."""

from __future__ import annotations

from decimal import Decimal

from core.money import Money
from engines.routing import Depot, Order, Point, Problem, TimeWindow, Vehicle

CURRENCY = "NGN"
DAY = TimeWindow(0, 600)


def naira(amount: int | str) -> Money:
    return Money(Decimal(amount), CURRENCY)


def depot(depot_id: str = "D", x: float = 0, y: float = 0, opening: TimeWindow = DAY) -> Depot:
    return Depot(depot_id, Point(x, y), opening)


def order(
    order_id: str,
    x: float,
    y: float,
    *,
    demand: int = 1,
    window: TimeWindow = DAY,
    service: float = 5,
    penalty: int | None = None,
) -> Order:
    return Order(
        order_id,
        Point(x, y),
        demand,
        window,
        service,
        None if penalty is None else naira(penalty),
    )


def vehicle(
    vehicle_id: str,
    *,
    depot_id: str = "D",
    capacity: int = 10,
    shift: TimeWindow = DAY,
    fixed: int = 0,
    per_km: int = 100,
    max_duration: float | None = None,
    end_depot: str | None = None,
) -> Vehicle:
    return Vehicle(
        vehicle_id,
        depot_id,
        capacity,
        shift,
        naira(fixed),
        naira(per_km),
        end_depot=end_depot,
        max_duration=max_duration,
    )


def problem(depots: list[Depot], orders: list[Order], vehicles: list[Vehicle]) -> Problem:
    return Problem(tuple(depots), tuple(orders), tuple(vehicles), CURRENCY)
