"""A driver at a door and the route's expiry at the same moment: one of them wins, never both.

On PostgreSQL the two are separate transactions on separate connections; each here is held open
on its own connection at the moment the other runs. (SQLite has one writer at a time.)
The fixture's clock starts at 09:00 UTC on 5 January 2026 (10:00 in Lagos)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.app.bootstrap import Services
from core.db.migrate import upgrade
from engines.gig import Task, TaskStateError, TaskStatus, Worker
from engines.gig.model import StopStatus
from engines.gig.tables import gig_task_stops, gig_tasks
from tests.support.gig import EMEKA, NGOZI, driver, order, route
from tests.support.servers import PostgresServer

pytestmark = pytest.mark.real

HELD = 0.5  # how long the other transaction keeps the task's row: the step under test waits


@pytest.fixture
def any_database_url(postgres_server: PostgresServer, tmp_path: Path) -> str:
    """Only PostgreSQL: row locks are what this is about."""
    url = postgres_server.create_database(f"race{abs(hash(tmp_path)) % 10**8}")
    upgrade(url)
    return url


async def taken_yesterday(services: Services, key: str) -> tuple[Worker, Task]:
    """Emeka took a route yesterday and has not reached a door; now it is the next morning."""
    emeka = await driver(services, EMEKA, "Emeka")
    ref = await order(services, NGOZI, key)
    task = await services.gig.create_task(
        route(f"R-{key}", [(ref, NGOZI, "1 Main St")], services=services)
    )
    [offer] = await services.gig.allocate()
    await services.gig.accept(offer.id)
    services.clock.advance(24 * 3600)
    return emeka, task


@asynccontextmanager
async def holding(services: Services, task: Task) -> AsyncIterator[AsyncConnection]:
    """Another transaction with the task's row locked, committed when the block ends."""
    async with services.db.engine.connect() as conn:
        await conn.begin()
        await conn.execute(
            select(gig_tasks.c.id).where(gig_tasks.c.id == task.id).with_for_update()
        )
        yield conn
        await conn.commit()


async def test_a_door_reached_while_the_expiry_waits_keeps_the_route(services: Services) -> None:
    _emeka, task = await taken_yesterday(services, "race-arrive-first")
    async with holding(services, task) as arriving:
        expiring = asyncio.create_task(services.gig.expire_stale_tasks())
        await asyncio.sleep(HELD)
        assert not expiring.done()  # it waits for the driver's step to finish
        await arriving.execute(
            update(gig_task_stops)
            .where(gig_task_stops.c.task_id == task.id)
            .values(status=StopStatus.ARRIVED.value)
        )
    assert await asyncio.wait_for(expiring, 10) == []
    assert (await services.gig.task(task.id)).status is TaskStatus.ASSIGNED


async def test_a_driver_arriving_while_the_route_expires_is_told_it_is_over(
    services: Services,
) -> None:
    emeka, task = await taken_yesterday(services, "race-expire-first")
    async with holding(services, task) as expiring:
        arriving = asyncio.create_task(services.gig.arrive(task.id, emeka.id))
        await asyncio.sleep(HELD)
        assert not arriving.done()  # it waits for the expiry to finish
        await expiring.execute(
            update(gig_tasks)
            .where(gig_tasks.c.id == task.id)
            .values(status=TaskStatus.EXPIRED.value)
        )
    with pytest.raises(TaskStateError):
        await asyncio.wait_for(arriving, 10)
    stops = (await services.gig.task(task.id)).stops
    assert [s.status for s in stops] == [StopStatus.PENDING]
