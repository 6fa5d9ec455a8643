"""What a dispatcher sees in a plan: every order served once or reported with a reason, within
capacities, windows and shifts, with the cheaper vehicles and the right depots."""

from __future__ import annotations

import time

import pytest

from engines.routing import (
    EuclideanMatrix,
    Plan,
    Problem,
    SolverSettings,
    TimeWindow,
    TravelMatrix,
    UnassignedReason,
    solve,
    violations,
)
from tests.unit.engines.routing.factory import depot, order, problem, vehicle

QUICK = SolverSettings(time_limit_s=0.3)


def planned(p: Problem, settings: SolverSettings = QUICK) -> tuple[Plan, TravelMatrix]:
    matrix = EuclideanMatrix().compute(p.points)
    plan = solve(p, matrix, settings)
    assert violations(p, matrix, plan) == []
    return plan, matrix


def reasons(plan: Plan) -> dict[str, UnassignedReason]:
    return {u.order_id: u.reason for u in plan.unassigned}


def test_every_order_is_served_once_within_capacity() -> None:
    orders = [order(f"o{i}", (i % 5) * 3, (i // 5) * 3, demand=3) for i in range(10)]
    fleet = [vehicle(name) for name in "abcde"]
    plan, _ = planned(problem([depot()], orders, fleet))
    served = [o for r in plan.routes for o in r.order_ids]
    assert sorted(served) == sorted(o.id for o in orders)
    assert plan.unassigned == ()
    assert all(r.load <= 10 for r in plan.routes)
    assert plan.vehicles_used >= 4  # three 3-unit orders fill a 10-unit van


def test_service_starts_inside_each_window_and_waits_for_early_arrivals() -> None:
    late = order("late", 1, 0, window=TimeWindow(100, 120))
    plan, _ = planned(problem([depot()], [late], [vehicle("a")]))
    (stop,) = plan.routes[0].stops
    assert 100 <= stop.start <= 120
    assert stop.departure == stop.start + 5
    # The driver leaves late enough not to idle at the door.
    assert stop.arrival >= 100


def test_a_route_with_nothing_to_wait_for_leaves_at_the_start_of_the_shift() -> None:
    # A 10-hour shift and half an hour of work: the deliveries are made in the morning, not
    # in the last half hour of the shift.
    orders = [order("o1", 5, 0), order("o2", 5, 5)]
    plan, _ = planned(problem([depot()], orders, [vehicle("v", shift=TimeWindow(60, 660))]))
    (route,) = plan.routes
    assert route.departure == 60
    assert route.arrival == pytest.approx(60 + 5 + 5 + 5 + 5 + 50**0.5)


def test_the_cheaper_vehicle_gets_the_work() -> None:
    fleet = [vehicle("truck", fixed=5000, per_km=300), vehicle("van", fixed=1000, per_km=100)]
    plan, _ = planned(problem([depot()], [order("o1", 5, 0), order("o2", 5, 5)], fleet))
    assert [r.vehicle_id for r in plan.routes] == ["van"]
    # Fixed cost + 100 per km over the real distance, as Money.
    assert float(plan.cost.amount) == pytest.approx(1000 + 100 * plan.distance, abs=0.01)


def test_each_vehicle_starts_and_ends_at_its_own_depot() -> None:
    depots = [depot("west", -50, 0), depot("east", 50, 0)]
    orders = [order("w1", -48, 1), order("w2", -49, -2), order("e1", 48, 1), order("e2", 51, 3)]
    fleet = [vehicle("wv", depot_id="west"), vehicle("ev", depot_id="east")]
    plan, _ = planned(problem(depots, orders, fleet))
    routes = {r.vehicle_id: set(r.order_ids) for r in plan.routes}
    assert routes == {"wv": {"w1", "w2"}, "ev": {"e1", "e2"}}


def test_a_vehicle_may_end_its_day_at_another_depot() -> None:
    depots = [depot("A", 0, 0), depot("B", 20, 0)]
    p = problem(depots, [order("o", 10, 0)], [vehicle("v", depot_id="A", end_depot="B")])
    plan, _ = planned(p)
    assert plan.distance == pytest.approx(20)


def test_the_drivers_shift_and_maximum_route_duration_are_respected() -> None:
    orders = [order(f"o{i}", 10, i, service=10) for i in range(6)]
    fleet = [
        vehicle("morning", shift=TimeWindow(0, 60)),
        vehicle("capped", max_duration=50, shift=TimeWindow(0, 600)),
        vehicle("free", shift=TimeWindow(0, 600)),
    ]
    plan, _ = planned(problem([depot()], orders, fleet))  # the checker asserts both limits
    assert plan.unassigned == ()
    morning = plan.route_of("morning")
    assert morning is None or morning.arrival <= 60


def test_unserveable_orders_are_reported_with_why() -> None:
    orders = [
        order("heavy", 1, 1, demand=50),
        order("too_far_in_time", 100, 0, window=TimeWindow(0, 50)),
        order("no_way_back", 200, 0, window=TimeWindow(0, 300)),
        order("fine", 2, 2),
    ]
    plan, _ = planned(problem([depot()], orders, [vehicle("v", shift=TimeWindow(0, 400))]))
    assert reasons(plan) == {
        "heavy": UnassignedReason.OVER_CAPACITY,
        "too_far_in_time": UnassignedReason.WINDOW_UNREACHABLE,
        "no_way_back": UnassignedReason.SHIFT_TOO_SHORT,
    }
    assert plan.routes[0].order_ids == ["fine"]


def test_without_vehicles_every_order_says_so() -> None:
    plan, _ = planned(problem([depot()], [order("o", 1, 1)], []))
    assert reasons(plan) == {"o": UnassignedReason.NO_VEHICLE}


def test_a_vehicle_that_cannot_make_its_own_day_does_not_sink_the_plan() -> None:
    # One van's shift starts after its depot closes, another cannot even drive from its depot
    # to its end depot within its maximum duration: the plan is made with the third.
    depots = [depot("D", 0, 0, opening=TimeWindow(0, 300)), depot("E", 50, 0)]
    fleet = [
        vehicle("late", shift=TimeWindow(400, 600)),
        vehicle("short", end_depot="E", max_duration=30),
        vehicle("able"),
    ]
    plan, _ = planned(problem(depots, [order("o1", 3, 4), order("o2", 6, 8)], fleet))
    assert plan.unassigned == ()
    assert [r.vehicle_id for r in plan.routes] == ["able"]


def test_orders_that_do_not_fit_alongside_the_others_are_left_with_no_room() -> None:
    orders = [order(f"o{i}", 3, i, demand=6) for i in range(3)]  # 18 units, one 10-unit van
    plan, _ = planned(problem([depot()], orders, [vehicle("v")]))
    assert len(plan.routes[0].stops) == 1
    assert sorted(reasons(plan).values()) == [UnassignedReason.NO_ROOM] * 2


def test_an_optional_order_is_dropped_only_when_serving_it_costs_more_than_its_penalty() -> None:
    near = order("near", 1, 0)
    cheap_far = order("cheap_far", 100, 0, penalty=1000)  # 200 km at 100/km = 20,000 > 1,000
    dear_far = order("dear_far", 0, 100, penalty=1_000_000)
    plan, _ = planned(problem([depot()], [near, cheap_far, dear_far], [vehicle("v")]))
    assert reasons(plan) == {"cheap_far": UnassignedReason.NO_ROOM}
    assert set(plan.routes[0].order_ids) == {"near", "dear_far"}
    # The penalty of the dropped order is part of the plan's cost.
    assert float(plan.cost.amount) == pytest.approx(100 * plan.distance + 1000, abs=0.01)


def test_a_must_serve_order_is_never_dropped_to_make_room_for_an_optional_one() -> None:
    # One 10-unit van, two 6-unit orders: the one that must be served rides, however dear the
    # penalty of leaving the optional one out (500,000 naira, against a 20 km round trip).
    must = order("must", 3, 4, demand=6)
    dear = order("dear", 6, 8, demand=6, penalty=500_000)
    plan, _ = planned(problem([depot()], [must, dear], [vehicle("v")]))
    assert plan.routes[0].order_ids == ["must"]
    assert reasons(plan) == {"dear": UnassignedReason.NO_ROOM}


def test_a_portfolio_of_first_solutions_shares_the_budget_and_keeps_the_best() -> None:
    orders = [order(f"o{i}", (i * 7) % 11 - 5, (i * 5) % 13 - 6, demand=2) for i in range(15)]
    p = problem([depot()], orders, [vehicle(name) for name in "abcd"])
    portfolio = SolverSettings(time_limit_s=0.6, starts=("PARALLEL_CHEAPEST_INSERTION", "SAVINGS"))
    started = time.monotonic()
    plan, _ = planned(p, portfolio)
    assert time.monotonic() - started < 1.5
    assert plan.unassigned == ()
