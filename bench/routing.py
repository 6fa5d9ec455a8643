"""The route optimiser on Solomon's 56 VRPTW instances, beside PyVRP, at the same time budget.

    python -m bench.routing [--time-limit 10] [--instances C1,R101,...] [--objective distance]
                            [--solvers ortools,pyvrp] [--data DIR] [--json FILE]

For each instance, each solver gets the same wall-clock budget on the same integer data
(distances x1000, travel times rounded up so a plan feasible in integers is feasible in real
arithmetic); every plan is then checked by `engines.routing.violations` (capacity, windows,
every customer exactly once) with the unrounded Euclidean distances, and its real length is
compared with the best-known solution of the same objective from `bks.csv`:
`mindist_distance` for `--objective distance` (fleet free up to 25), `vehicles`/`distance` for
`--objective vehicles` (fewest vehicles first). Prints one row per class and overall.

`--instances` takes names or prefixes (`C1` = C101..C109, `RC2`, `R101`); `--json` writes the
per-instance results. The data directory defaults to `OMNIROUTE_SOLOMON_DIR` or
`../shared/data/solomon` (read there, never copied into the repository).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from engines.routing import (
    EuclideanMatrix,
    Plan,
    Problem,
    Route,
    SolverSettings,
    TravelMatrix,
    Unassigned,
    UnassignedReason,
    parse_solomon,
    solve,
    vehicles_first,
    violations,
)
from engines.routing.model import plan_cost, schedule

CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
SCALE = 1000


@dataclass
class Result:
    instance: str
    solver: str
    vehicles: int
    distance: float
    feasible: bool
    bks_vehicles: int
    bks_distance: float
    seconds: float

    @property
    def gap(self) -> float:
        return 100 * (self.distance / self.bks_distance - 1)


def class_of(name: str) -> str:
    """C101 -> C1, RC208 -> RC2."""
    letters = name.rstrip("0123456789")
    return letters + name[len(letters)]


def data_dir(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    if "OMNIROUTE_SOLOMON_DIR" in os.environ:
        return Path(os.environ["OMNIROUTE_SOLOMON_DIR"])
    # ../shared/data/solomon from the checkout (or from a worktree one level further down).
    for parent in Path(__file__).resolve().parents[1:]:
        candidate = parent / "shared" / "data" / "solomon"
        if candidate.is_dir():
            return candidate
    sys.exit("Solomon data not found: pass --data DIR or set OMNIROUTE_SOLOMON_DIR")


def select(names: list[str], wanted: str | None) -> list[str]:
    if not wanted:
        return names
    prefixes = [w.strip().upper() for w in wanted.split(",") if w.strip()]
    return [n for n in names if any(_matches(n, p) for p in prefixes)]


def _matches(name: str, prefix: str) -> bool:
    if name == prefix:
        return True
    # "R1" must not pick RC101: a class prefix matches the class exactly.
    return prefix in CLASSES and class_of(name) == prefix


def solve_ortools(problem: Problem, matrix: TravelMatrix, seconds: float) -> Plan:
    return solve(problem, matrix, SolverSettings(time_limit_s=seconds))


def solve_pyvrp(problem: Problem, matrix: TravelMatrix, seconds: float) -> Plan:
    """PyVRP on the same integer data; its routes are re-scheduled and checked like ours."""
    from pyvrp import Model  # noqa: PLC0415 - a dev dependency of the benchmark only
    from pyvrp.stop import MaxRuntime  # noqa: PLC0415

    model = Model()
    depot = problem.depots[0]
    locations = [model.add_location(p.x, p.y) for p in problem.points]
    model.add_depot(
        locations[0], tw_early=_up(depot.opening.start), tw_late=_down(depot.opening.end)
    )
    for location, order in zip(locations[1:], problem.orders, strict=True):
        model.add_client(
            location,
            delivery=[order.demand],
            service_duration=_up(order.service),
            tw_early=_up(order.window.start),
            tw_late=_down(order.window.end),
        )
    vehicle = problem.vehicles[0]
    model.add_vehicle_type(
        num_available=len(problem.vehicles),
        capacity=[vehicle.capacity],
        fixed_cost=int(vehicle.fixed_cost.amount * SCALE),
        tw_early=_up(depot.opening.start),
        tw_late=_down(depot.opening.end),
    )
    for i, a in enumerate(locations):
        for j, b in enumerate(locations):
            if i != j:
                d = matrix.distances[i][j]
                model.add_edge(
                    a, b, distance=round(d * SCALE), duration=_up(matrix.durations[i][j])
                )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.solve(stop=MaxRuntime(seconds), display=False)
    routes: list[Route] = []
    fleet = iter(problem.vehicles)
    for route in result.best.routes():
        visits = [problem.orders[a.idx].id for a in route if a.is_client()]
        routes.append(schedule(problem, matrix, next(fleet), depot.opening.start, visits))
    routed = {o for r in routes for o in r.order_ids}
    unassigned = [
        Unassigned(o.id, UnassignedReason.NO_ROOM) for o in problem.orders if o.id not in routed
    ]
    distance = sum(r.distance for r in routes)
    cost = plan_cost(problem, routes, unassigned)
    return Plan(tuple(routes), tuple(unassigned), cost, distance)


def _up(value: float) -> int:
    return math.ceil(value * SCALE - 1e-9)


def _down(value: float) -> int:
    return math.floor(value * SCALE + 1e-9)


SOLVERS = {"ortools": solve_ortools, "pyvrp": solve_pyvrp}


def run(args: argparse.Namespace) -> list[Result]:
    root = data_dir(args.data)
    bks = {
        row["instance"]: row for row in csv.DictReader((root / "bks.csv").read_text().splitlines())
    }
    names = select(sorted(p.stem for p in root.glob("*.txt")), args.instances)
    if not names:
        sys.exit(f"no instance matches {args.instances!r} in {root}")
    results: list[Result] = []
    solvers = [s.strip() for s in args.solvers.split(",")]
    for name in names:
        instance = parse_solomon((root / f"{name}.txt").read_text())
        problem = instance.problem
        if args.objective == "vehicles":
            problem = vehicles_first(problem)
            bks_v, bks_d = int(bks[name]["vehicles"]), float(bks[name]["distance"])
        else:
            bks_v = int(bks[name]["mindist_vehicles"])
            bks_d = float(bks[name]["mindist_distance"])
        matrix = EuclideanMatrix().compute(problem.points)
        for solver in solvers:
            started = time.perf_counter()
            plan = SOLVERS[solver](problem, matrix, args.time_limit)
            seconds = time.perf_counter() - started
            broken = violations(problem, matrix, plan)
            feasible = not broken and not plan.unassigned
            result = Result(
                name, solver, plan.vehicles_used, plan.distance, feasible, bks_v, bks_d, seconds
            )
            results.append(result)
            flag = (
                "ok" if feasible else f"INFEASIBLE {broken[:2]} unassigned={len(plan.unassigned)}"
            )
            print(
                f"{name:6} {solver:8} {result.vehicles:3d} veh {result.distance:9.2f} "
                f"gap {result.gap:+6.2f}%  ({bks_v}/{bks_d:.2f})  {seconds:5.1f}s  {flag}",
                file=sys.stderr,
                flush=True,
            )
    return results


def table(results: list[Result], solvers: list[str]) -> str:
    lines = [
        "| class | n | "
        + " | ".join(f"{s} gap % | {s} vehicles (BKS) | {s} feasible" for s in solvers)
        + " | OR-Tools / PyVRP distance |",
        "|---|--:|" + "--:|--:|--:|" * len(solvers) + "--:|",
    ]
    names = sorted({r.instance for r in results})
    groups = [(c, [n for n in names if class_of(n) == c]) for c in CLASSES]
    groups = [(c, ns) for c, ns in groups if ns] + [("all", names)]
    for label, members in groups:
        cells = [label, str(len(members))]
        for solver in solvers:
            rs = [r for r in results if r.solver == solver and r.instance in members]
            cells.append(f"{statistics.fmean(r.gap for r in rs):+.2f}")
            veh = statistics.fmean(r.vehicles for r in rs)
            cells.append(f"{veh:.2f} ({statistics.fmean(r.bks_vehicles for r in rs):.2f})")
            cells.append(f"{sum(r.feasible for r in rs)}/{len(rs)}")
        if {"ortools", "pyvrp"} <= set(solvers):
            ours = {r.instance: r.distance for r in results if r.solver == "ortools"}
            theirs = {r.instance: r.distance for r in results if r.solver == "pyvrp"}
            ratios = [ours[n] / theirs[n] for n in members]
            cells.append(f"{statistics.fmean(ratios):.4f}")
        else:
            cells.append("")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument(
        "--instances", default=None, help="names or class prefixes, comma-separated"
    )
    parser.add_argument("--objective", choices=("distance", "vehicles"), default="distance")
    parser.add_argument("--solvers", default="ortools,pyvrp")
    parser.add_argument("--data", default=None, help="the Solomon directory")
    parser.add_argument("--json", default=None, help="write per-instance results here")
    args = parser.parse_args()
    results = run(args)
    solvers = [s.strip() for s in args.solvers.split(",")]
    print(
        f"Solomon VRPTW, objective {args.objective}, {args.time_limit:g} s per instance and solver"
    )
    print(table(results, solvers))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=1))


if __name__ == "__main__":
    main()
