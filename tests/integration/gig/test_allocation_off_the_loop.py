"""The offer solve (OR-Tools CP-SAT, up to 5 s) runs off the gateway's event loop: while it
weighs the pool of drivers and routes, every other request is still answered.

Proved without timing: the solve waits, in its own thread, until the loop has answered another
caller's request. On the loop, the solve would hold the loop and that request could never run."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from collections.abc import Collection, Sequence
from datetime import timedelta
from decimal import Decimal

import pytest

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from engines.gig import DeliveryRoute, GeoPoint, RouteStop, allocation
from engines.gig import service as gig_service
from tests.support.gig import LAGOS_DEPOT, NGOZI, driver

POOL = 12  # drivers and routes
PATIENCE = 10.0  # seconds the solve waits for the loop before it gives up and says so


@pytest.fixture
def any_database_url(database_url: str) -> str:
    """The loop is the point, not the database: SQLite only."""
    return database_url


async def test_other_requests_are_answered_while_the_offers_are_solved(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    gig = services.gig
    spread = random.Random(60)
    for n in range(POOL):
        at = GeoPoint(6.40 + spread.random() / 5, 3.30 + spread.random() / 5)
        await driver(services, Phone(f"+23480320{n:05d}"), f"Driver {n}", capacity=10, at=at)
        stop = GeoPoint(6.40 + spread.random() / 5, 3.30 + spread.random() / 5)
        await gig.create_task(
            DeliveryRoute(
                f"R-BIG-{n}",
                RegionCode.LAGOS,
                LAGOS_DEPOT,
                services.clock.now() + timedelta(minutes=30),
                (RouteStop(f"ORD-{n}", NGOZI, "Allen Avenue", stop, 1 + n % 10, Decimal(3)),),
            )
        )

    loop_answered = threading.Event()
    solving_started = threading.Event()
    saw_the_loop: list[bool] = []

    def patient_solve(
        workers: Sequence[allocation.WorkerCandidate],
        tasks: Sequence[allocation.TaskCandidate],
        excluded: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
    ) -> dict[uuid.UUID, uuid.UUID]:
        solving_started.set()
        saw_the_loop.append(loop_answered.wait(PATIENCE))
        return allocation.allocate(workers, tasks, excluded)

    monkeypatch.setattr(gig_service, "allocate", patient_solve)

    solving = asyncio.create_task(gig.allocate())
    assert await asyncio.to_thread(solving_started.wait, PATIENCE)
    assert await gig.worker_by_phone(Phone("+2348032000001"))  # another caller's request
    loop_answered.set()

    assert len(await solving) == POOL  # every route offered, one driver each
    assert saw_the_loop == [True], "the solve held the event loop: no other request ran"
