"""Nobody answers an offer: the dispatcher loop lets it lapse and offers the route to the next
best driver, without anyone calling in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.app.bootstrap import Services, build_services
from core.app.demo import load_demo
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from engines.gig import GeoPoint, Offer, OfferStatus
from tests.support.gig import BAYO, EMEKA, NGOZI, driver, order, route


@pytest.fixture
async def services(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    clock = SteppedClock()
    settings = Settings(
        env="test",
        database_url=database_url,
        object_store_url=f"file://{tmp_path / 'objects'}",
        gig_sweep_seconds=0.02,
        _env_file=None,
    )
    built = build_services(settings, clock=clock, ids=RandomIds())
    await load_demo(built.db, clock.now())
    yield built
    await built.close()


async def offers_when(services: Services, task_id: object, count: int) -> list[Offer]:
    for _ in range(500):
        offers = await services.gig.offers(task_id)  # type: ignore[arg-type]
        if len(offers) >= count:
            return offers
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {count} offers after 5 s")


async def test_a_lapsed_offer_is_reoffered_by_the_sweeper(services: Services) -> None:
    emeka = await driver(services, EMEKA, "Emeka", at=GeoPoint(6.46, 3.39))
    bayo = await driver(services, BAYO, "Bayo", at=GeoPoint(6.70, 3.60))
    ref = await order(services, NGOZI, "k-sweep")
    task = await services.gig.create_task(
        route("R-sweep", [(ref, NGOZI, "1 Main")], services=services)
    )
    services.sweeper.start()

    [first] = await offers_when(services, task.id, 1)
    assert first.worker_id == emeka.id
    services.clock.advance(301)
    first_again, second = await offers_when(services, task.id, 2)

    assert first_again.status is OfferStatus.EXPIRED
    assert second.worker_id == bayo.id
    assert second.status is OfferStatus.OPEN
