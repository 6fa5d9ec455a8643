"""Whatever the fleet and the orders, a plan is feasible and accounts for every order once."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engines.routing import (
    EuclideanMatrix,
    Problem,
    SolverSettings,
    TimeWindow,
    UnassignedReason,
    solve,
    violations,
)
from engines.routing.solver import alone_reason
from tests.unit.engines.routing.factory import depot, order, problem, vehicle

coordinate = st.integers(-20, 20)


@st.composite
def windows(draw: st.DrawFn, horizon: int = 300) -> TimeWindow:
    start = draw(st.integers(0, horizon - 10))
    return TimeWindow(start, start + draw(st.integers(0, horizon - start)))


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    depots = [
        depot(f"D{i}", draw(coordinate), draw(coordinate), opening=draw(windows(400)))
        for i in range(draw(st.integers(1, 2)))
    ]
    orders = [
        order(
            f"o{i}",
            draw(coordinate),
            draw(coordinate),
            demand=draw(st.integers(0, 8)),
            window=draw(windows()),
            service=draw(st.integers(0, 10)),
            penalty=draw(st.none() | st.integers(0, 5000)),
        )
        for i in range(draw(st.integers(1, 8)))
    ]
    fleet = [
        vehicle(
            f"v{i}",
            depot_id=draw(st.sampled_from(depots)).id,
            end_depot=draw(st.none() | st.sampled_from([d.id for d in depots])),
            capacity=draw(st.integers(0, 12)),
            shift=draw(windows(400)),
            fixed=draw(st.integers(0, 3000)),
            per_km=draw(st.integers(1, 300)),
            max_duration=draw(st.none() | st.integers(10, 300)),
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    return problem(depots, orders, fleet)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_plan_is_feasible_and_each_order_is_served_once_or_reported(p: Problem) -> None:
    matrix = EuclideanMatrix().compute(p.points)
    plan = solve(p, matrix, SolverSettings(time_limit_s=0.05))
    assert violations(p, matrix, plan) == []  # includes: each order in one place exactly
    reported = {u.order_id: u.reason for u in plan.unassigned}
    for o in p.orders:
        why = alone_reason(p, matrix, o)
        if why is not None:  # impossible alone: reported with that very reason
            assert reported[o.id] == why
        elif o.id in reported:
            assert reported[o.id] == UnassignedReason.NO_ROOM
            # "No room" with every vehicle idle is no reason: one could have served it alone.
            assert plan.routes or o.drop_penalty is not None
