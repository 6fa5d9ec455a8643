"""Pick paths: the order a picker walks a pick list's locations, and how far that is.

Three policies on the parallel-aisle layout of `model.walk`: S-shape (traverse every aisle that
has a pick), largest gap (enter each middle aisle from the front and from the back, never
crossing its largest gap), and a near-optimal tour found by OR-Tools' routing solver over the
exact shortest-walk distances. All start and end at the dock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby, pairwise

from ortools.constraint_solver import (
    pywrapcp,
    routing_enums_pb2,
)

from engines.wms.model import Layout, Point, dock, walk

SCALE = 100  # the solver works in whole centimetres
EXACT_LIMIT = 10  # Held-Karp: 10 stops is 10 * 2^10 * 10 steps, a few milliseconds


class PathPolicy(StrEnum):
    S_SHAPE = "s_shape"
    LARGEST_GAP = "largest_gap"
    OPTIMAL = "optimal"


@dataclass(frozen=True, slots=True)
class PickPath:
    policy: PathPolicy
    stops: tuple[Point, ...]  # pick points in visiting order (each once)
    distance: float  # metres from the dock back to the dock


def pick_path(
    layout: Layout, points: Sequence[Point], policy: PathPolicy, *, time_limit_ms: int = 500
) -> PickPath:
    unique = tuple(sorted(set(points), key=lambda p: (p.x, p.y)))
    match policy:
        case PathPolicy.S_SHAPE:
            stops, distance = _s_shape(layout, unique)
        case PathPolicy.LARGEST_GAP:
            stops, distance = _largest_gap(layout, unique)
        case _:
            stops = _optimal(layout, unique, time_limit_ms)
            distance = tour_length(layout, stops)
    return PickPath(policy, tuple(stops), distance)


def tour_length(layout: Layout, stops: Sequence[Point]) -> float:
    """Dock -> stops in order -> dock, each leg the shortest walk."""
    route = [dock(layout), *stops, dock(layout)]
    return sum(walk(layout, a, b) for a, b in pairwise(route))


def _aisles(points: Sequence[Point]) -> list[tuple[float, list[Point]]]:
    return [
        (x, sorted(group, key=lambda p: p.y)) for x, group in groupby(points, key=lambda p: p.x)
    ]


def _across(layout: Layout, aisles: Sequence[tuple[float, list[Point]]]) -> float:
    """Walking along the cross-aisles: out from the dock to the far aisle and back."""
    xs = [x for x, _ in aisles]
    return 2 * (max(*xs, layout.dock_x) - min(*xs, layout.dock_x))


def _s_shape(layout: Layout, points: Sequence[Point]) -> tuple[list[Point], float]:
    """Every aisle with a pick is walked end to end, alternating direction; with an odd number
    of aisles the last one is entered from the front and left the same way."""
    aisles = _aisles(points)
    if not aisles:
        return [], 0.0
    stops: list[Point] = []
    vertical = 0.0
    for i, (_x, picks) in enumerate(aisles):
        last_odd = i == len(aisles) - 1 and len(aisles) % 2 == 1
        if last_odd:
            stops.extend(picks)
            vertical += 2 * picks[-1].y
        else:
            stops.extend(picks if i % 2 == 0 else reversed(picks))
            vertical += layout.depth
    return stops, _across(layout, aisles) + vertical


def _largest_gap(layout: Layout, points: Sequence[Point]) -> tuple[list[Point], float]:
    """Hall's largest-gap: the first and last aisles are walked through; each aisle between is
    entered from the back for the picks beyond its largest gap and from the front for the rest."""
    aisles = _aisles(points)
    if not aisles:
        return [], 0.0
    if len(aisles) == 1:
        picks = aisles[0][1]
        return list(picks), _across(layout, aisles) + 2 * picks[-1].y
    first, *middle, last = aisles
    back_parts: list[list[Point]] = []
    front_parts: list[list[Point]] = []
    vertical = 2 * layout.depth
    for _x, picks in middle:
        ys = [0.0, *(p.y for p in picks), layout.depth]
        gaps = [ys[i + 1] - ys[i] for i in range(len(ys) - 1)]
        cut = max(range(len(gaps)), key=lambda i: gaps[i])  # picks[:cut] from the front
        front_parts.append(picks[:cut])
        back_parts.append(picks[cut:])
        vertical += 2 * (layout.depth - gaps[cut])
    stops = list(first[1])
    for part in back_parts:  # along the back, left to right, dipping into each aisle
        stops.extend(reversed(part))
    stops.extend(reversed(last[1]))
    for part in reversed(front_parts):  # along the front, right to left
        stops.extend(part)
    return stops, _across(layout, aisles) + vertical


def _optimal(layout: Layout, points: Sequence[Point], time_limit_ms: int) -> list[Point]:
    """A travelling-salesman tour over exact walking distances: proven optimal by dynamic
    programming up to EXACT_LIMIT stops, else OR-Tools routing with guided local search."""
    if len(points) <= 1:
        return list(points)
    nodes = [dock(layout), *points]
    matrix = [[round(walk(layout, a, b) * SCALE) for b in nodes] for a in nodes]
    if len(points) <= EXACT_LIMIT:
        return [nodes[i] for i in _held_karp(matrix)]
    manager = pywrapcp.RoutingIndexManager(len(nodes), 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def cost(i: int, j: int) -> int:
        return int(matrix[manager.IndexToNode(i)][manager.IndexToNode(j)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(cost))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(time_limit_ms)
    # Start from the shorter of the two classic policies' orders: the search then never
    # returns a longer walk than they do, and has less ground to cover.
    index_of = {p: i for i, p in enumerate(nodes)}
    seeds = [_s_shape(layout, points)[0], _largest_gap(layout, points)[0]]
    best = min(seeds, key=lambda stops: tour_length(layout, stops))
    routing.CloseModelWithParameters(params)
    initial = routing.ReadAssignmentFromRoutes([[index_of[p] for p in best]], True)
    solution = routing.SolveFromAssignmentWithParameters(initial, params)
    if solution is None:  # never for a single-vehicle tour, but keep a valid answer
        return list(points)
    order: list[Point] = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(nodes[manager.IndexToNode(index)])
        index = solution.Value(routing.NextVar(index))
    return order


def _held_karp(matrix: Sequence[Sequence[int]]) -> list[int]:
    """The shortest tour from node 0 through all others and back (Held-Karp, O(n^2 2^n))."""
    n = len(matrix) - 1
    full = (1 << n) - 1
    # best[mask][j]: shortest walk from the dock through `mask`, ending at stop j (in mask).
    best: list[dict[int, tuple[int, int]]] = [{} for _ in range(full + 1)]
    for j in range(n):
        best[1 << j][j] = (matrix[0][j + 1], -1)
    for mask in range(1, full + 1):
        for j, (cost, _prev) in best[mask].items():
            for k in range(n):
                if mask & (1 << k):
                    continue
                nxt = mask | (1 << k)
                candidate = cost + matrix[j + 1][k + 1]
                if k not in best[nxt] or candidate < best[nxt][k][0]:
                    best[nxt][k] = (candidate, j)
    last = min(best[full], key=lambda j: best[full][j][0] + matrix[j + 1][0])
    order: list[int] = []
    mask = full
    while last != -1:
        order.append(last + 1)
        mask, last = mask & ~(1 << last), best[mask][last][1]
    return list(reversed(order))
