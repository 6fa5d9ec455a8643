"""Two `routes plan` runs at once for one region (a cron and an operator, two replicas): the
database lets one plan and tells the other, and no order ends up on two routes."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from core.app.bootstrap import Services, build_services
from core.app.dispatch_plan import (
    PlanInProgressError,
    plan_day_command,
    tomorrow,
)
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.region import RegionCode
from engines.gig import GeoPoint, TaskStatus
from tests.integration.dispatch.test_dispatch_plan import lagos_warehouse, planner
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, driver, order


async def test_two_plans_at_once_one_plans_the_other_is_told(services: Services) -> None:
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    bayo = await driver(services, BAYO, "Bayo", capacity=40, at=GeoPoint(6.46, 3.39))
    day = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)
    for worker in (emeka, bayo):
        await services.gig.add_shift(worker.id, seven, seven + timedelta(hours=10))
    placed = {await order(services, NGOZI, "c-1"), await order(services, CHIDI, "c-2")}
    # a second replica: its own engine and connections on the same database
    other = build_services(services.settings, clock=services.clock, ids=RandomIds())
    try:
        results = await asyncio.gather(
            planner(services).plan(RegionCode.LAGOS, day, time_limit_s=1),
            planner(other).plan(RegionCode.LAGOS, day, time_limit_s=1),
            return_exceptions=True,
        )
    finally:
        await other.close()

    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], PlanInProgressError)
    assert "lagos" in str(refused[0])
    live = await services.gig.tasks(TaskStatus.OPEN, TaskStatus.OFFERED, TaskStatus.ASSIGNED)
    on_routes = Counter(s.order_reference for t in live for s in t.stops)
    assert set(on_routes) == placed
    assert max(on_routes.values()) == 1  # never one order on two routes

    # once the first run is done the day can be planned again (it re-plans nothing new)
    again = await planner(services).plan(RegionCode.LAGOS, day, time_limit_s=1)
    assert again.tasks_created == 0


@pytest.mark.parametrize("n", [3])
async def test_many_plans_at_once_never_crash(services: Services, n: int) -> None:
    await lagos_warehouse(services)
    emeka = await driver(services, EMEKA, "Emeka", capacity=40)
    day = (services.clock.now() + timedelta(days=1)).date()
    seven = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)
    await services.gig.add_shift(emeka.id, seven, seven + timedelta(hours=10))
    placed = {await order(services, NGOZI, "m-1"), await order(services, CHIDI, "m-2")}
    replicas = [
        build_services(services.settings, clock=services.clock, ids=RandomIds()) for _ in range(n)
    ]
    try:
        results = await asyncio.gather(
            *(planner(r).plan(RegionCode.LAGOS, day, time_limit_s=1) for r in replicas),
            return_exceptions=True,
        )
    finally:
        for r in replicas:
            await r.close()
    assert all(
        not isinstance(r, BaseException) or isinstance(r, PlanInProgressError) for r in results
    ), results
    live = await services.gig.tasks(TaskStatus.OPEN, TaskStatus.OFFERED, TaskStatus.ASSIGNED)
    on_routes = Counter(s.order_reference for t in live for s in t.stops)
    assert set(on_routes) == placed
    assert max(on_routes.values()) == 1


def test_the_command_says_so_in_one_line_and_exits_2(
    any_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", any_database_url)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL", "off")
    services = build_services(Settings(_env_file=None))
    day = tomorrow(RegionCode.LAGOS, services.clock.now())

    async def hold() -> None:  # another run is planning Lagos right now
        assert services.route_plans is not None
        await services.route_plans.claim("lagos", day, services.clock.now(), timedelta(hours=1))
        await services.close()

    asyncio.run(hold())

    assert plan_day_command(RegionCode.LAGOS, day, 1) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("omniroute routes plan: a plan for lagos")


async def test_a_claim_left_by_a_run_that_died_is_taken_over_after_its_lease(
    services: Services,
) -> None:
    store = services.route_plans
    assert store is not None
    day = tomorrow(RegionCode.LAGOS, services.clock.now())
    now = services.clock.now()
    taken, dead = await store.claim("lagos", day, now, timedelta(minutes=15))
    assert taken  # ...and the run is killed before it releases it

    held, standing = await store.claim("lagos", day, now + timedelta(minutes=10), timedelta(1))
    assert not held
    assert standing.holder == dead.holder
    with pytest.raises(PlanInProgressError):
        await planner(services).plan(RegionCode.LAGOS, day, time_limit_s=1)

    assert isinstance(services.clock, SteppedClock)
    services.clock.advance(16 * 60)
    report = await planner(services).plan(RegionCode.LAGOS, day, time_limit_s=1)
    assert report.day == day
    # and released when done: the next run plans too
    await planner(services).plan(RegionCode.LAGOS, day, time_limit_s=1)
