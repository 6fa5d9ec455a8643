"""The route optimiser: the problem as an OR-Tools routing model, and its answer as a `Plan`.

OR-Tools works in integers. Distances and times are scaled (x1000 by default) and travel times
rounded *up*, service-window ends rounded down, so every plan the solver thinks feasible is
feasible in real arithmetic; the plan's schedule and distance are then recomputed from the real
matrix (`model.schedule`). Costs are expressed in thousandths of a kilometre driven by the
cheapest vehicle, so the objective stays a small integer whatever the currency.

Orders the model cannot serve alone (over capacity, window out of reach) never enter it and are
reported with their reason; every other order is a disjunction — its own drop penalty, or a
penalty far above any route's cost when it must be served — so a plan always exists and a dropped
order is reported rather than failing the whole plan.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE

from engines.routing.model import (
    Order,
    Plan,
    Problem,
    Route,
    TravelMatrix,
    Unassigned,
    UnassignedReason,
    Vehicle,
    plan_cost,
    schedule,
)

FirstSolution = routing_enums_pb2.FirstSolutionStrategy
Metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic


@dataclass(frozen=True, slots=True)
class SolverSettings:
    """How hard and how to search; the defaults are the benchmark's tuned values."""

    time_limit_s: float = 10.0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    guided_local_search_lambda: float = 0.1
    scale: int = 1000
    neighbors_ratio: float = 1.0
    # Pick local search operators by how often they have paid off lately (a multi-armed bandit)
    # instead of in a fixed order: the largest single gain in tuning (bench/routing.py).
    bandit_operators: bool = True
    log_search: bool = False
    # Expert knobs for tuning: (field, value) set on the search parameters; a field named after one
    # of the local search operators is switched on or off (e.g. ("use_or_opt", False)).
    overrides: tuple[tuple[str, float | bool], ...] = ()
    # Stop after this much CPU time of this process as well: compares settings fairly on a
    # machine shared with others (the wall-clock limit still applies).
    cpu_time_limit_s: float | None = None
    # First-solution strategies of independent searches sharing the budget (see `solve`).
    starts: tuple[str, ...] = ()


def solve(
    problem: Problem,
    matrix: TravelMatrix,
    settings: SolverSettings | None = None,
    *,
    initial_routes: Mapping[str, Sequence[str]] | None = None,
) -> Plan:
    """Plan routes; `initial_routes` (vehicle id -> order ids) is the current plan to start from.

    With several `starts`, the budget is shared between independent searches from different
    first solutions and the cheapest plan wins: guided local search tends to settle in the
    basin of its first solution, and which basin is best differs from instance to instance."""
    settings = settings or SolverSettings()
    starts = settings.starts if not initial_routes else ()
    if len(starts) < 2:
        return _Model(problem, matrix, settings).solve(initial_routes)
    share = len(starts)
    cpu = None if settings.cpu_time_limit_s is None else settings.cpu_time_limit_s / share
    began = time.monotonic()
    best: Plan | None = None
    for k, first in enumerate(starts):
        left = settings.time_limit_s - (time.monotonic() - began)
        each = replace(
            settings,
            first_solution=first,
            starts=(),
            time_limit_s=left / (share - k),
            cpu_time_limit_s=cpu,
        )
        plan = _Model(problem, matrix, each).solve(None)
        if best is None or _rank(problem, plan) < _rank(problem, best):
            best = plan
    assert best is not None
    return best


def _rank(problem: Problem, plan: Plan) -> tuple[int, Decimal, float]:
    """Fewest must-serve orders left out, then cost, then distance."""
    must = {o.id for o in problem.orders if o.drop_penalty is None}
    return sum(u.order_id in must for u in plan.unassigned), plan.cost.amount, plan.distance


def replan(
    problem: Problem,
    matrix: TravelMatrix,
    current: Plan | Mapping[str, Sequence[str]],
    settings: SolverSettings | None = None,
) -> Plan:
    """Re-plan after orders were added or removed or vehicles dropped out, starting from the
    current plan's routes (for the vehicles and orders still in the problem) so the search
    continues from it instead of starting over. `current` is a plan, or its routes as vehicle
    id -> order ids (a stored plan)."""
    vehicles = {v.id for v in problem.vehicles}
    orders = {o.id for o in problem.orders}
    given = (
        {r.vehicle_id: r.order_ids for r in current.routes}
        if isinstance(current, Plan)
        else current
    )
    routes = {
        vehicle: [o for o in order_ids if o in orders]
        for vehicle, order_ids in given.items()
        if vehicle in vehicles
    }
    return solve(problem, matrix, settings, initial_routes=routes)


def alone_reason(problem: Problem, matrix: TravelMatrix, order: Order) -> UnassignedReason | None:
    """Why no vehicle could serve this order even on a route of its own (None: one could)."""
    if not problem.vehicles:
        return UnassignedReason.NO_VEHICLE
    fitting = [v for v in problem.vehicles if v.capacity >= order.demand]
    if not fitting:
        return UnassignedReason.OVER_CAPACITY
    o = problem.order_index(order.id)
    reachable = False
    for vehicle in fitting:
        earliest, latest = _shift(problem, vehicle)
        d = problem.depot_index(vehicle.depot)
        e = problem.depot_index(vehicle.return_depot)
        there, back = matrix.durations[d][o], matrix.durations[o][e]
        start = max(earliest + there, order.window.start)
        if start > order.window.end:
            continue
        reachable = True
        # Leaving later, if the shift allows, trims the wait at the customer.
        departure = min(max(earliest, order.window.start - there), start - there)
        home = start + order.service + back
        duration = home - departure
        if home <= latest and (vehicle.max_duration is None or duration <= vehicle.max_duration):
            return None
    return UnassignedReason.SHIFT_TOO_SHORT if reachable else UnassignedReason.WINDOW_UNREACHABLE


def _shift(problem: Problem, vehicle: Vehicle) -> tuple[float, float]:
    """When the vehicle may leave its depot and must be back, shift and opening hours together."""
    start = problem.depots[problem.depot_index(vehicle.depot)].opening
    end = problem.depots[problem.depot_index(vehicle.return_depot)].opening
    return max(vehicle.shift.start, start.start), min(vehicle.shift.end, end.end)


class _Model:
    def __init__(self, problem: Problem, matrix: TravelMatrix, settings: SolverSettings) -> None:
        self.problem, self.matrix, self.settings = problem, matrix, settings
        self.started = time.monotonic()  # the time limit covers building the model too
        self.scale = settings.scale
        self.reasons: dict[str, UnassignedReason] = {}
        served: list[Order] = []
        for order in problem.orders:
            reason = alone_reason(problem, matrix, order)
            if reason is None:
                served.append(order)
            else:
                self.reasons[order.id] = reason
        self.orders = served
        # A vehicle that cannot even drive from its depot to its end depot within its shift,
        # the depots' hours and its maximum duration would make the whole model infeasible
        # (no plan at all, every order dropped): it is left out, as if off shift.
        self.vehicles = tuple(v for v in problem.vehicles if self._can_run(v))
        # Model node k is problem point self.points[k]: the depots some vehicle starts or ends at
        # (any other depot would be a node the solver could visit), then the servable orders.
        used = {problem.depot_index(d) for v in self.vehicles for d in (v.depot, v.return_depot)}
        depots = sorted(used)
        self.depot_node = {problem.depots[i].id: k for k, i in enumerate(depots)}
        self.points = depots + [problem.order_index(o.id) for o in served]
        self.n_depots = len(depots)

    # -- scaling ---------------------------------------------------------------------------
    def _up(self, value: float) -> int:
        return math.ceil(value * self.scale - 1e-9)

    def _down(self, value: float) -> int:
        return math.floor(value * self.scale + 1e-9)

    def _can_run(self, vehicle: Vehicle) -> bool:
        """Whether the vehicle's empty route (depot to end depot) fits its time rules, in the
        model's integers."""
        start = self.problem.depot_index(vehicle.depot)
        end = self.problem.depot_index(vehicle.return_depot)
        trip = 0 if start == end else self._up(self.matrix.durations[start][end])
        earliest, latest = _shift(self.problem, vehicle)
        if self._up(earliest) + trip > self._down(latest):
            return False
        return vehicle.max_duration is None or trip <= self._down(vehicle.max_duration)

    def _cost_ratios(self) -> tuple[Decimal, list[Decimal]]:
        """Cost per km of each vehicle relative to the cheapest (non-free) one."""
        rates = [v.cost_per_km.amount for v in self.vehicles]
        positive = [r for r in rates if r > 0]
        reference = min(positive) if positive else Decimal(1)
        return reference, [r / reference for r in rates]

    def solve(self, initial_routes: Mapping[str, Sequence[str]] | None) -> Plan:
        vehicles = self.vehicles
        if not vehicles or not self.orders:
            return self._plan({})
        starts = [self.depot_node[v.depot] for v in vehicles]
        ends = [self.depot_node[v.return_depot] for v in vehicles]
        manager = pywrapcp.RoutingIndexManager(len(self.points), len(vehicles), starts, ends)
        routing = pywrapcp.RoutingModel(manager)
        reference = self._add_costs(routing)
        self._add_capacity(routing)
        minutes = self._add_time(routing, manager)
        self._add_disjunctions(routing, manager, reference)
        params = self._parameters()
        if self.settings.cpu_time_limit_s is not None:
            deadline = time.process_time() + self.settings.cpu_time_limit_s
            cpu_limit = routing.solver().CustomLimit(lambda: time.process_time() > deadline)
            routing.AddSearchMonitor(cpu_limit)
        solution = None
        if initial_routes:
            solution = self._from_routes(routing, manager, initial_routes, params)
        if solution is None:
            solution = routing.SolveWithParameters(params)
        if solution is None:
            return self._plan({})
        routes: dict[str, tuple[float, list[str]]] = {}
        for v, vehicle in enumerate(vehicles):
            index = solution.Value(routing.NextVar(routing.Start(v)))
            visits: list[str] = []
            while not routing.IsEnd(index):
                visits.append(self.orders[manager.IndexToNode(index) - self.n_depots].id)
                index = solution.Value(routing.NextVar(index))
            if visits:
                departure = solution.Value(minutes.CumulVar(routing.Start(v))) / self.scale
                routes[vehicle.id] = (departure, visits)
        return self._plan(routes)

    def _add_costs(self, routing: Any) -> Decimal:
        """Arc costs (one registered matrix per distinct rate) and fixed costs per vehicle."""
        nodes, scale = self.points, self.scale
        self.km = np.asarray(self.matrix.distances, dtype=float)[np.ix_(nodes, nodes)]
        self.distance = np.rint(self.km * scale).astype(np.int64).tolist()
        reference, ratios = self._cost_ratios()
        callbacks: dict[Decimal, int] = {}
        for v, ratio in enumerate(ratios):
            if ratio not in callbacks:
                costs = (
                    self.distance
                    if ratio == 1
                    else np.rint(self.km * self.scale * float(ratio)).astype(np.int64).tolist()
                )
                callbacks[ratio] = routing.RegisterTransitMatrix(costs)
            routing.SetArcCostEvaluatorOfVehicle(callbacks[ratio], v)
        self.fixed = [int(v.fixed_cost.amount / reference * scale) for v in self.vehicles]
        for v, cost in enumerate(self.fixed):
            routing.SetFixedCostOfVehicle(cost, v)
        self.max_arc_cost = max(max(row) for row in self.distance) * int(max(ratios) + 1)
        return reference

    def _add_capacity(self, routing: Any) -> None:
        demand = [0] * self.n_depots + [o.demand for o in self.orders]
        capacities = [v.capacity for v in self.vehicles]
        callback = routing.RegisterUnaryTransitVector(demand)
        routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, "load")

    def _add_time(self, routing: Any, manager: Any) -> Any:
        """Windows, shifts and maximum route duration; waiting is allowed anywhere."""
        problem, nodes = self.problem, self.points
        service = np.array([0] * self.n_depots + [self._up(o.service) for o in self.orders])
        minutes = np.asarray(self.matrix.durations, dtype=float)[np.ix_(nodes, nodes)]
        # Rounded up, so integer feasibility implies real feasibility; service at the origin.
        scaled = np.ceil(minutes * self.scale - 1e-9).astype(np.int64) + service[:, None]
        np.fill_diagonal(scaled, 0)
        travel = scaled.tolist()
        vehicles = self.vehicles
        horizon = max(
            [self._down(_shift(problem, v)[1]) for v in vehicles]
            + [self._down(o.window.end) for o in self.orders]
            + [0]
        )
        routing.AddDimension(routing.RegisterTransitMatrix(travel), horizon, horizon, False, "time")
        clock = routing.GetDimensionOrDie("time")
        for k, order in enumerate(self.orders, start=self.n_depots):
            window = clock.CumulVar(manager.NodeToIndex(k))
            window.SetRange(self._up(order.window.start), self._down(order.window.end))
        for v, vehicle in enumerate(vehicles):
            earliest, latest = _shift(problem, vehicle)
            clock.CumulVar(routing.Start(v)).SetRange(self._up(earliest), self._down(latest))
            clock.CumulVar(routing.End(v)).SetRange(self._up(earliest), self._down(latest))
            if vehicle.max_duration is not None:
                clock.SetSpanUpperBoundForVehicle(self._down(vehicle.max_duration), v)
            # Come back as early as the route allows, then leave as late as that allows: no
            # idle shift, and no route pushed to the end of the shift (the finalizer sets the
            # variables in the order they were added).
            routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(v)))
            routing.AddVariableMaximizedByFinalizer(clock.CumulVar(routing.Start(v)))
        return clock

    def _add_disjunctions(self, routing: Any, manager: Any, reference: Decimal) -> None:
        """Each order may be dropped at its penalty; a must-serve order at far more than any
        insertion could cost and than every optional order's penalty together, so it is only
        dropped when it cannot be fitted at all, never to make room for optional ones."""
        optional = {
            o.id: int(o.drop_penalty.amount / reference * self.scale)
            for o in self.orders
            if o.drop_penalty is not None
        }
        must = 100 * (2 * self.max_arc_cost + max(self.fixed, default=0))
        must += sum(optional.values()) + 1
        for k, order in enumerate(self.orders, start=self.n_depots):
            routing.AddDisjunction([manager.NodeToIndex(k)], optional.get(order.id, must))

    def _from_routes(
        self,
        routing: Any,
        manager: Any,
        initial_routes: Mapping[str, Sequence[str]],
        params: object,
    ) -> Any:
        node_of = {o.id: k for k, o in enumerate(self.orders, start=self.n_depots)}
        routes = [
            [manager.NodeToIndex(node_of[o]) for o in initial_routes.get(v.id, ()) if o in node_of]
            for v in self.vehicles
        ]
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes(routes, True)
        if start is None:
            return None
        return routing.SolveFromAssignmentWithParameters(start, params)

    def _parameters(self) -> object:
        s = self.settings
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = getattr(FirstSolution, s.first_solution)
        params.local_search_metaheuristic = getattr(Metaheuristic, s.metaheuristic)
        params.guided_local_search_lambda_coefficient = s.guided_local_search_lambda
        params.ls_operator_neighbors_ratio = s.neighbors_ratio
        params.use_multi_armed_bandit_concatenate_operators = s.bandit_operators
        # What is left of the limit after building the model, less a little for reading the plan.
        left = s.time_limit_s * 0.98 - (time.monotonic() - self.started)
        params.time_limit.FromMilliseconds(max(10, int(left * 1000)))
        params.log_search = s.log_search
        for name, value in s.overrides:
            if hasattr(params.local_search_operators, name):
                on = BOOL_TRUE if value else BOOL_FALSE
                setattr(params.local_search_operators, name, on)
            else:
                setattr(params, name, value)
        return params

    def _plan(self, routes: Mapping[str, tuple[float, list[str]]]) -> Plan:
        problem = self.problem
        vehicles = {v.id: v for v in problem.vehicles}
        planned: list[Route] = [
            schedule(problem, self.matrix, vehicles[vid], departure, visits)
            for vid, (departure, visits) in routes.items()
        ]
        routed = {o for r in planned for o in r.order_ids}
        unassigned = [
            Unassigned(o.id, self.reasons.get(o.id, UnassignedReason.NO_ROOM))
            for o in problem.orders
            if o.id not in routed
        ]
        distance = sum(r.distance for r in planned)
        return Plan(
            tuple(planned), tuple(unassigned), plan_cost(problem, planned, unassigned), distance
        )
