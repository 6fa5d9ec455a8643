"""Planning a Lagos morning through the planner, with road times from an OSRM table service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from engines.routing import (
    GreatCircleMatrix,
    OsrmTableMatrix,
    Problem,
    RoutePlanner,
    SolverSettings,
    TimeWindow,
    UnassignedReason,
    violations,
)
from tests.support.providers.osrm import FakeOsrm
from tests.unit.engines.routing.factory import depot, order, problem, vehicle

QUICK = SolverSettings(time_limit_s=0.3)
MORNING = TimeWindow(480, 720)  # 08:00-12:00, minutes


def lagos_morning() -> Problem:
    ikeja = depot("ikeja", 3.3515, 6.6018, opening=TimeWindow(420, 1080))
    shops = [
        order("yaba", 3.3792, 6.5095, demand=3, window=MORNING),
        order("surulere", 3.3571, 6.4969, demand=4, window=MORNING),
        order("ikoyi", 3.4336, 6.4541, demand=2, window=MORNING),
        order("ogba", 3.3420, 6.6280, demand=5, window=TimeWindow(480, 540)),
        order("island", 2.9, 6.4, demand=1, window=MORNING),  # no road reaches it
    ]
    fleet = [vehicle("van1", depot_id="ikeja", shift=TimeWindow(450, 960), capacity=20)]
    fleet.append(replace(fleet[0], id="van2"))
    return problem([ikeja], shops, fleet)


@pytest.fixture
async def osrm() -> AsyncIterator[FakeOsrm]:
    fake = FakeOsrm(island_west_of=3.0)
    await fake.start()
    yield fake
    await fake.close()


async def test_a_plan_over_road_times_serves_every_reachable_shop(osrm: FakeOsrm) -> None:
    p = lagos_morning()
    planner = RoutePlanner(OsrmTableMatrix(osrm.url), QUICK)
    plan, matrix = await planner.plan(p)
    assert violations(p, matrix, plan) == []
    assert {u.order_id: u.reason for u in plan.unassigned} == {
        "island": UnassignedReason.WINDOW_UNREACHABLE
    }
    assert len(osrm.requests) == 1


async def test_replanning_after_a_van_breaks_down_keeps_every_shop_served() -> None:
    full = lagos_morning()
    p = replace(full, orders=full.orders[:4])  # the mainland shops
    planner = RoutePlanner(GreatCircleMatrix(), QUICK)
    plan, _ = await planner.plan(p)
    used = plan.routes[0].vehicle_id
    without = replace(p, vehicles=tuple(v for v in p.vehicles if v.id != used))
    again, matrix = await planner.replan(without, plan)
    assert violations(without, matrix, again) == []
    assert used not in {r.vehicle_id for r in again.routes}
    assert again.unassigned == ()
