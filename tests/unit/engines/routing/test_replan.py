"""Re-planning starts from the current plan when orders arrive or a vehicle drops out."""

from __future__ import annotations

from dataclasses import replace

from engines.routing import EuclideanMatrix, Problem, SolverSettings, replan, solve, violations
from tests.unit.engines.routing.factory import depot, order, problem, vehicle

QUICK = SolverSettings(time_limit_s=0.3)


def base() -> Problem:
    orders = [order(f"o{i}", (i % 4) * 4 - 6, (i // 4) * 4 - 4, demand=1) for i in range(12)]
    return problem([depot()], orders, [vehicle("a"), vehicle("b"), vehicle("c")])


def test_replanning_an_unchanged_problem_keeps_the_current_routes() -> None:
    p = base()
    matrix = EuclideanMatrix().compute(p.points)
    current = solve(p, matrix, QUICK)
    # One solution only: the search may not move away from the plan it was given.
    frozen = SolverSettings(time_limit_s=0.3, overrides=(("solution_limit", 1),))
    again = replan(p, matrix, current, frozen)
    assert [r.order_ids for r in again.routes] == [r.order_ids for r in current.routes]


def test_new_orders_are_added_to_the_plan() -> None:
    p = base()
    current = solve(p, EuclideanMatrix().compute(p.points), QUICK)
    bigger = replace(p, orders=(*p.orders, order("new1", 7, 7), order("new2", -7, 7)))
    matrix = EuclideanMatrix().compute(bigger.points)
    plan = replan(bigger, matrix, current, QUICK)
    assert violations(bigger, matrix, plan) == []
    assert plan.unassigned == ()
    assert {"new1", "new2"} <= {o for r in plan.routes for o in r.order_ids}


def test_a_vehicle_dropping_out_hands_its_orders_to_the_others() -> None:
    p = base()
    matrix = EuclideanMatrix().compute(p.points)
    current = solve(p, matrix, QUICK)
    gone = current.routes[0].vehicle_id
    smaller = replace(p, vehicles=tuple(v for v in p.vehicles if v.id != gone))
    plan = replan(smaller, matrix, current, QUICK)
    assert violations(smaller, matrix, plan) == []
    assert plan.unassigned == ()
    assert gone not in {r.vehicle_id for r in plan.routes}
    # The routes of the vehicles that stay start from what their drivers already have.
    kept = {r.vehicle_id: r.order_ids for r in current.routes if r.vehicle_id != gone}
    assert all(v in {r.vehicle_id for r in plan.routes} for v in kept)


def test_a_stored_plans_routes_are_a_starting_point_too() -> None:
    """Re-planning from routes read back from storage (vehicle id -> order ids) is the same as
    from the plan object they were stored from."""
    p = base()
    matrix = EuclideanMatrix().compute(p.points)
    current = solve(p, matrix, QUICK)
    stored = {r.vehicle_id: list(r.order_ids) for r in current.routes}
    frozen = SolverSettings(time_limit_s=0.3, overrides=(("solution_limit", 1),))
    again = replan(p, matrix, stored, frozen)
    assert {r.vehicle_id: r.order_ids for r in again.routes if r.stops} == {
        v: ids for v, ids in stored.items() if ids
    }
    assert violations(p, matrix, again) == []
