"""The independent checker rejects every kind of broken plan, so that passing it means something."""

from __future__ import annotations

from dataclasses import replace

from engines.routing import EuclideanMatrix, Plan, TimeWindow, Unassigned, UnassignedReason
from engines.routing.feasibility import violations
from engines.routing.model import schedule
from tests.unit.engines.routing.factory import depot, naira, order, problem, vehicle

P = problem(
    [depot()],
    [order("a", 3, 0, demand=4), order("b", 3, 3, demand=4, window=TimeWindow(0, 20))],
    [vehicle("v", capacity=10, shift=TimeWindow(0, 100), max_duration=60), vehicle("w")],
)
M = EuclideanMatrix().compute(P.points)


def plan_of(*routes: tuple[str, list[str]], unassigned: tuple[Unassigned, ...] = ()) -> Plan:
    vehicles = {v.id: v for v in P.vehicles}
    built = tuple(schedule(P, M, vehicles[v], 0, ids) for v, ids in routes)
    return Plan(built, unassigned, naira(0), sum(r.distance for r in built))


def test_a_good_plan_passes() -> None:
    assert violations(P, M, plan_of(("v", ["a", "b"]))) == []


def test_a_missing_or_repeated_order_is_caught() -> None:
    assert any("order b appears 0" in v for v in violations(P, M, plan_of(("v", ["a"]))))
    twice = plan_of(("v", ["a", "b"]), ("w", ["b"]))
    assert any("order b appears 2" in v for v in violations(P, M, twice))
    reported = plan_of(("v", ["a", "b"]), unassigned=(Unassigned("a", UnassignedReason.NO_ROOM),))
    assert any("order a appears 2" in v for v in violations(P, M, reported))


def test_overload_late_service_and_overlong_routes_are_caught() -> None:
    heavy = replace(P, vehicles=(replace(P.vehicles[0], capacity=5), P.vehicles[1]))
    assert any("capacity" in v for v in violations(heavy, M, plan_of(("v", ["a", "b"]))))
    late = plan_of(("v", ["a", "b"]))
    late_route = replace(late.routes[0], departure=30)
    assert any("starts" in v for v in violations(P, M, replace(late, routes=(late_route,))))
    short = replace(P, vehicles=(replace(P.vehicles[0], max_duration=5), P.vehicles[1]))
    assert any("lasts" in v for v in violations(short, M, plan_of(("v", ["a", "b"]))))


def test_leaving_before_the_shift_or_coming_back_after_it_is_caught() -> None:
    plan = plan_of(("v", ["a", "b"]))
    early = replace(plan.routes[0], departure=-1)
    assert any("leaves" in v for v in violations(P, M, replace(plan, routes=(early,))))
    night = replace(P, vehicles=(replace(P.vehicles[0], shift=TimeWindow(0, 15)), P.vehicles[1]))
    assert any("back at" in v for v in violations(night, M, plan))


def test_a_misreported_distance_is_caught() -> None:
    plan = plan_of(("v", ["a", "b"]))
    assert any("reports" in v for v in violations(P, M, replace(plan, distance=1.0)))
