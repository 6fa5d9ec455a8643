"""A region-sized plan: 1,000 stops and 50 vehicles within 60 seconds, measured.

    python -m bench.routing_scale [--stops 1000] [--vehicles 50] [--budget 60] [--seed 7]

A reproducible synthetic day in Lagos: two depots (Ikeja and Apapa), stops scattered over the
metropolis (about 40 x 25 km), demand 1-6 cartons, a third of the stops with a morning or
afternoon window and the rest open all day, 4-10 minutes of service; a mixed fleet of vans (80
cartons, cheap) and trucks (150 cartons, dearer), eight-hour shifts from 08:00 (minute 480),
at most seven hours on the road; every stop must be served. Distances are great-circle x 1.3 at
25 km/h. The whole budget covers the matrix, the model and the search: the solver gets what is
left after the matrix. Reports the time to build the matrix, the time to the first plan (a
separate run stopped at its first solution), the plan at the budget, and the checker's verdict.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import replace
from decimal import Decimal

from core.money import Money
from engines.routing import (
    Depot,
    GreatCircleMatrix,
    Order,
    Point,
    Problem,
    SolverSettings,
    TimeWindow,
    Vehicle,
    solve,
    violations,
)

DAY = TimeWindow(480, 1080)  # 08:00-18:00 in minutes
SHIFT = TimeWindow(480, 960)  # 08:00-16:00


def lagos_day(stops: int, vehicles: int, seed: int) -> Problem:
    rng = random.Random(seed)
    depots = (
        Depot("ikeja", Point(3.3515, 6.6018), DAY),
        Depot("apapa", Point(3.3590, 6.4489), DAY),
    )
    orders = []
    for i in range(stops):
        point = Point(rng.uniform(3.20, 3.56), rng.uniform(6.42, 6.66))
        kind = rng.random()
        if kind < 0.17:
            window = TimeWindow(480, 720)  # morning
        elif kind < 0.33:
            window = TimeWindow(720, 960)  # afternoon
        else:
            window = TimeWindow(480, 1000)
        orders.append(Order(f"s{i:04d}", point, rng.randint(1, 6), window, rng.randint(4, 10)))
    fleet = []
    for i in range(vehicles):
        truck = i % 3 == 0
        fleet.append(
            Vehicle(
                id=f"{'truck' if truck else 'van'}{i:02d}",
                depot=depots[i % 2].id,
                capacity=150 if truck else 80,
                shift=SHIFT,
                fixed_cost=Money(Decimal(15000 if truck else 8000), "NGN"),
                cost_per_km=Money(Decimal(450 if truck else 250), "NGN"),
                max_duration=420,
            )
        )
    return Problem(depots, tuple(orders), tuple(fleet), "NGN")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stops", type=int, default=1000)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds, matrix included")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    problem = lagos_day(args.stops, args.vehicles, args.seed)

    started = time.perf_counter()
    matrix = GreatCircleMatrix(road_factor=1.3, speed_kmh=25).compute(problem.points)
    matrix_s = time.perf_counter() - started
    settings = SolverSettings(time_limit_s=args.budget - matrix_s)

    first_started = time.perf_counter()
    first = solve(problem, matrix, replace(settings, overrides=(("solution_limit", 1),)))
    first_s = time.perf_counter() - first_started

    run_started, cpu_started = time.perf_counter(), time.process_time()
    plan = solve(problem, matrix, settings)
    total_s = matrix_s + time.perf_counter() - run_started
    cpu_s = time.process_time() - cpu_started
    broken = violations(problem, matrix, plan)

    demand = sum(o.demand for o in problem.orders)
    print(f"{args.stops} stops ({demand} cartons), {args.vehicles} vehicles, 2 depots")
    print(f"matrix ({len(problem.points)}^2, great circle): {matrix_s:.1f} s")
    print(
        f"first plan: {first_s:.1f} s, {first.vehicles_used} vehicles, {first.distance:,.1f} km, "
        f"cost {first.cost}, unassigned {len(first.unassigned)}"
    )
    print(
        f"plan at budget: {total_s:.1f} s in all ({cpu_s:.1f} s of CPU for the search), "
        f"{plan.vehicles_used} vehicles, "
        f"{plan.distance:,.1f} km, cost {plan.cost}, unassigned {len(plan.unassigned)}"
    )
    print(f"feasible: {not broken}" + ("" if not broken else f" {broken[:3]}"))


if __name__ == "__main__":
    main()
