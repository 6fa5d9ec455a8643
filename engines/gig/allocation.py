"""Who gets which task: an assignment problem solved with OR-Tools CP-SAT.

Each (worker, task) pair that may go together has a cost; the solver first gives out as many
tasks as it can (each worker at most one, each task at most one) and, among those plans, takes
the cheapest. A pair is impossible when the task's goods do not fit the vehicle or the worker
has already declined or let an offer for it expire.

The cost, in points (integers for the solver):
* distance: 10 points per km from the worker to the task's first stop (or its depot);
* rating: 40 points per star below five, so good service wins close calls;
* fairness: 100 points times how far the worker's earnings today are above the day's mean of
  the workers of the same market (earnings in one currency), as a fraction of that mean (below
  the mean lowers the cost), so the day's money spreads out;
* capacity: 1 point per 10 % of the vehicle left empty, so a van is not sent for a parcel a
  motorbike could carry.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ortools.sat.python import cp_model

from engines.gig.model import GeoPoint

KM_POINTS = 10
STAR_POINTS = 40
FAIRNESS_POINTS = 100
EMPTY_POINTS_PER_TENTH = 1
ASSIGN_BONUS = 1_000_000  # one more task given out always beats any saving in cost


@dataclass(frozen=True, slots=True)
class WorkerCandidate:
    worker_id: uuid.UUID
    position: GeoPoint | None
    capacity_units: int
    rating: Decimal
    earned_today: Decimal
    # Whose mean the earnings are weighed against: the worker's market (a naira and a shilling
    # do not average; nor do Lagos and Nairobi drivers compete for a task).
    market: str = ""


@dataclass(frozen=True, slots=True)
class TaskCandidate:
    task_id: uuid.UUID
    start: GeoPoint
    units: int


def pair_cost(worker: WorkerCandidate, task: TaskCandidate, mean_earned: Decimal) -> int | None:
    """The pair's cost in points, or None when it cannot be."""
    if task.units > worker.capacity_units:
        return None
    km = worker.position.km_to(task.start) if worker.position is not None else 50.0
    cost = KM_POINTS * km
    cost += STAR_POINTS * float(Decimal(5) - worker.rating)
    if mean_earned > 0:
        cost += FAIRNESS_POINTS * float((worker.earned_today - mean_earned) / mean_earned)
    empty = 1 - task.units / worker.capacity_units
    cost += EMPTY_POINTS_PER_TENTH * 10 * empty
    return round(cost)


def allocate(
    workers: Sequence[WorkerCandidate],
    tasks: Sequence[TaskCandidate],
    excluded: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
    *,
    time_limit_s: float = 5.0,
) -> dict[uuid.UUID, uuid.UUID]:
    """task id -> worker id for the best plan (see the module docstring)."""
    if not workers or not tasks:
        return {}
    earned: dict[str, list[Decimal]] = {}
    for w in workers:
        earned.setdefault(w.market, []).append(w.earned_today)
    means = {market: sum(amounts, Decimal(0)) / len(amounts) for market, amounts in earned.items()}
    model = cp_model.CpModel()
    chosen: dict[tuple[int, int], cp_model.IntVar] = {}
    objective = []
    for i, worker in enumerate(workers):
        for j, task in enumerate(tasks):
            if (worker.worker_id, task.task_id) in excluded:
                continue
            cost = pair_cost(worker, task, means[worker.market])
            if cost is None:
                continue
            var = model.new_bool_var(f"w{i}t{j}")
            chosen[i, j] = var
            objective.append((cost - ASSIGN_BONUS) * var)
    if not chosen:
        return {}
    for i in range(len(workers)):
        model.add_at_most_one(v for (wi, _), v in chosen.items() if wi == i)
    for j in range(len(tasks)):
        model.add_at_most_one(v for (_, tj), v in chosen.items() if tj == j)
    model.minimize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1  # deterministic, and the machine is shared
    status = solver.solve(model)
    if solver.status_name(status) not in ("OPTIMAL", "FEASIBLE"):
        return {}
    return {
        tasks[j].task_id: workers[i].worker_id
        for (i, j), var in chosen.items()
        if solver.boolean_value(var)
    }
