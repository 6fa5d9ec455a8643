"""Who gets which route: the assignment a dispatcher would defend."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engines.gig import GeoPoint, TaskCandidate, WorkerCandidate, allocate

DEPOT = GeoPoint(6.455, 3.384)


def worker(
    km_east: float = 0.0, capacity: int = 40, rating: str = "4.5", earned: str = "0"
) -> WorkerCandidate:
    return WorkerCandidate(
        uuid.uuid4(),
        GeoPoint(DEPOT.lat, DEPOT.lon + km_east / 110.6),
        capacity,
        Decimal(rating),
        Decimal(earned),
    )


def task(units: int = 10) -> TaskCandidate:
    return TaskCandidate(uuid.uuid4(), DEPOT, units)


def test_the_nearest_driver_gets_the_route() -> None:
    near, far = worker(km_east=1), worker(km_east=12)
    route = task()
    assert allocate([far, near], [route]) == {route.task_id: near.worker_id}


def test_goods_that_do_not_fit_go_to_the_bigger_vehicle() -> None:
    bike, van = worker(km_east=1, capacity=5), worker(km_east=8, capacity=300)
    route = task(units=30)
    assert allocate([bike, van], [route]) == {route.task_id: van.worker_id}


def test_a_driver_who_earned_less_today_wins_a_close_call() -> None:
    busy = worker(km_east=2, earned="9000")
    idle = worker(km_east=3, earned="1000")
    route = task()
    assert allocate([busy, idle], [route]) == {route.task_id: idle.worker_id}


def test_fairness_weighs_a_driver_against_the_drivers_of_the_same_market() -> None:
    # Two Nairobi drivers (shillings) and, on shift at the same time, a Lagos driver whose
    # naira would swamp a mean over everyone: the Nairobi driver who earned less still wins.
    busy = replace(worker(km_east=2, earned="900"), market="nairobi")
    idle = replace(worker(km_east=3, earned="100"), market="nairobi")
    lagos = replace(worker(km_east=40, capacity=5, earned="60000"), market="lagos")
    route = task()
    assert allocate([busy, idle, lagos], [route]) == {route.task_id: idle.worker_id}


def test_as_many_routes_as_possible_are_given_out() -> None:
    """Greedy would give the only big van the small route; the plan keeps it for the big one."""
    van = worker(km_east=1, capacity=300)
    bike = worker(km_east=9, capacity=10)
    small, big = task(units=5), task(units=100)
    assert allocate([van, bike], [small, big]) == {
        small.task_id: bike.worker_id,
        big.task_id: van.worker_id,
    }


def test_a_declined_pair_is_never_proposed_again() -> None:
    only = worker()
    route = task()
    assert allocate([only], [route], {(only.worker_id, route.task_id)}) == {}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 30), st.integers(1, 60)), min_size=0, max_size=6),
    st.lists(st.integers(1, 60), min_size=0, max_size=6),
)
def test_each_route_to_one_driver_and_each_driver_one_route_that_fits(
    drivers: list[tuple[float, int]], units: list[int]
) -> None:
    workers = [worker(km_east=km, capacity=cap) for km, cap in drivers]
    tasks = [task(u) for u in units]
    plan = allocate(workers, tasks, time_limit_s=2)
    assert len(set(plan.values())) == len(plan)
    by_id = {w.worker_id: w for w in workers}
    units_of = {t.task_id: t.units for t in tasks}
    for task_id, worker_id in plan.items():
        assert units_of[task_id] <= by_id[worker_id].capacity_units
