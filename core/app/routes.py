"""`omniroute routes solve`: one routing instance from a file, the plan as JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path

from engines.routing import (
    EuclideanMatrix,
    Plan,
    RoutingError,
    SolverSettings,
    parse_solomon,
    solve,
    vehicles_first,
    violations,
)

FORMATS = ("solomon",)
OBJECTIVES = ("distance", "vehicles")


def solve_file(
    path: Path, *, time_limit: float, vehicles: int | None, objective: str
) -> dict[str, object]:
    """Solve and check the plan; raises RoutingError (bad file or plan), naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RoutingError(f"{path}: not a Solomon instance: not a text file") from exc
    try:
        instance = parse_solomon(text, vehicles=vehicles)
    except RoutingError as exc:
        raise RoutingError(f"{path}: {exc}") from exc
    problem = instance.problem if objective == "distance" else vehicles_first(instance.problem)
    matrix = EuclideanMatrix().compute(problem.points)
    plan = solve(problem, matrix, SolverSettings(time_limit_s=time_limit))
    broken = violations(problem, matrix, plan)
    if broken:  # never print a plan the checker rejects as if it were an answer
        raise RoutingError("solver returned an infeasible plan: " + "; ".join(broken[:3]))
    return as_json(plan)


def as_json(plan: Plan) -> dict[str, object]:
    return {
        "vehicles": plan.vehicles_used,
        "distance": round(plan.distance, 6),
        "routes": [[_id(o) for o in r.order_ids] for r in plan.routes if r.stops],
        "unassigned": [_id(u.order_id) for u in plan.unassigned],
        "unassigned_reasons": {u.order_id: u.reason.value for u in plan.unassigned},
    }


def _id(order_id: str) -> int | str:
    """Solomon customers are numbers; print them as numbers."""
    return int(order_id) if order_id.isdigit() else order_id


def print_plan(plan: dict[str, object]) -> None:
    print(json.dumps(plan))
