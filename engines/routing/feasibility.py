"""An independent check of a plan against its problem, in real arithmetic.

It trusts nothing the solver reports: it re-simulates every route from its departure time with
the travel matrix and checks each rule of the problem, so the tests and the benchmark catch a
solver (or a scaling/rounding) mistake instead of repeating it.
"""

from __future__ import annotations

from collections import Counter

from engines.routing.model import Plan, Problem, Route, TravelMatrix, Vehicle, schedule

TOLERANCE = 1e-6


def violations(problem: Problem, matrix: TravelMatrix, plan: Plan) -> list[str]:
    """Every broken rule, one line each; an empty list means the plan is feasible."""
    found: list[str] = []
    if matrix.size != len(problem.points):
        return [f"matrix has {matrix.size} points, the problem {len(problem.points)}"]
    vehicles = {v.id: v for v in problem.vehicles}
    orders = {o.id for o in problem.orders}
    seen = Counter(o for r in plan.routes for o in r.order_ids)
    seen.update(u.order_id for u in plan.unassigned)
    for order_id in orders:
        if seen[order_id] != 1:
            found.append(f"order {order_id} appears {seen[order_id]} times (routes + unassigned)")
    found.extend(f"unknown order {order_id}" for order_id in seen if order_id not in orders)
    used = Counter(r.vehicle_id for r in plan.routes)
    found.extend(f"vehicle {v} has {n} routes" for v, n in used.items() if n > 1)
    for route in plan.routes:
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is None:
            found.append(f"unknown vehicle {route.vehicle_id}")
        elif route.stops and all(o in orders for o in route.order_ids):
            found.extend(_route_violations(problem, matrix, vehicle, route))
    total = sum(r.distance for r in plan.routes)
    if abs(total - plan.distance) > 1e-3:
        found.append(f"plan reports {plan.distance:.4f} km, its routes sum to {total:.4f}")
    return found


def _route_violations(
    problem: Problem, matrix: TravelMatrix, vehicle: Vehicle, route: Route
) -> list[str]:
    found: list[str] = []
    name = f"vehicle {vehicle.id}"
    real = schedule(problem, matrix, vehicle, route.departure, route.order_ids)
    if real.load > vehicle.capacity:
        found.append(f"{name}: load {real.load} > capacity {vehicle.capacity}")
    by_id = {o.id: o for o in problem.orders}
    for stop in real.stops:
        due = by_id[stop.order_id].window.end
        if stop.start > due + TOLERANCE:
            found.append(f"{name}: order {stop.order_id} starts {stop.start:.4f} > {due}")
    depots = {d.id: d for d in problem.depots}
    start_depot, end_depot = depots[vehicle.depot], depots[vehicle.return_depot]
    earliest = max(vehicle.shift.start, start_depot.opening.start)
    latest = min(vehicle.shift.end, end_depot.opening.end)
    if real.departure < earliest - TOLERANCE:
        found.append(f"{name}: leaves at {real.departure:.4f} before {earliest}")
    if real.arrival > latest + TOLERANCE:
        found.append(f"{name}: back at {real.arrival:.4f} after {latest}")
    if vehicle.max_duration is not None and real.duration > vehicle.max_duration + TOLERANCE:
        found.append(f"{name}: route lasts {real.duration:.4f} > {vehicle.max_duration}")
    if abs(real.distance - route.distance) > 1e-3:
        found.append(f"{name}: reports {route.distance:.4f} km, drives {real.distance:.4f}")
    return found
