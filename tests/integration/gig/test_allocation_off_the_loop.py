"""The offer solve (OR-Tools CP-SAT, up to 5 s) runs off the gateway's event loop: while it
weighs a big pool of drivers and routes, every other request is still answered at once."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from engines.gig import DeliveryRoute, GeoPoint, RouteStop
from tests.support.gig import LAGOS_DEPOT, NGOZI, driver

POOL = 110  # drivers and routes: a solve of seconds on this machine


@pytest.fixture
def any_database_url(database_url: str) -> str:
    """The loop is the point, not the database: SQLite only."""
    return database_url


async def test_other_requests_are_answered_while_the_offers_are_solved(
    services: Services,
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

    answered: list[float] = []
    solving = asyncio.create_task(gig.allocate())
    started = time.perf_counter()
    while not solving.done():
        asked = time.perf_counter()
        await gig.worker_by_phone(Phone("+2348032000001"))  # another caller's request
        answered.append(time.perf_counter() - asked)
        await asyncio.sleep(0.02)
    took = time.perf_counter() - started

    assert len(await solving) == POOL  # every route offered, one driver each
    assert took > 1.5, f"the solve took {took:.2f}s: too small a pool to show anything"
    assert max(answered) < 0.5, f"a request waited {max(answered):.2f}s behind the solve"
