"""Nobody answers an offer: the dispatcher loop lets it lapse and offers the route to the next
best driver, without anyone calling in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode, zone
from engines.gig import DeliveryRoute, GeoPoint, Offer, OfferStatus, RouteStop
from tests.support.demo_template import seed_demo
from tests.support.gig import BAYO, EMEKA, NGOZI, driver, order, route


@pytest.fixture
async def services(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    clock = SteppedClock()
    settings = Settings(
        env="test",
        database_url=database_url,
        object_store_url=f"file://{tmp_path / 'objects'}",
        gig_sweep_seconds=0.02,
        driver_lines={"lagos": "+2342017000000", "nairobi": "+254709000000"},
        _env_file=None,
    )
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
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
    assert isinstance(services.clock, SteppedClock)
    services.clock.advance(301)
    first_again, second = await offers_when(services, task.id, 2)

    assert first_again.status is OfferStatus.EXPIRED
    assert second.worker_id == bayo.id
    assert second.status is OfferStatus.OPEN


async def texts_to(services: Services, phone: Phone) -> list[str]:
    return [
        str(d.payload["reply"]["text"])  # type: ignore[index]
        for d in await services.notifications.for_recipient(phone)
    ]


async def test_a_driver_offered_a_route_by_the_sweeper_is_texted_once_how_to_take_it(
    services: Services,
) -> None:
    """Emeka is not on the phone when the sweeper offers him the route: one SMS tells him how
    to take it before it lapses; lapsed, it goes to Bayo, who is texted too."""
    await driver(services, EMEKA, "Emeka", at=GeoPoint(6.46, 3.39))
    bayo = await driver(services, BAYO, "Bayo", at=GeoPoint(6.70, 3.60))
    ref = await order(services, NGOZI, "k-text")
    task = await services.gig.create_task(
        route("R-text", [(ref, NGOZI, "1 Main")], services=services)
    )
    leaves = f"{task.departure.astimezone(zone(RegionCode.LAGOS)):%H:%M}"
    services.sweeper.start()

    await offers_when(services, task.id, 1)
    await asyncio.sleep(0.1)  # more passes of the sweeper: nothing more is sent
    told = (
        f"OmniRoute: route {task.reference} (1 stop, leaves {leaves}): call +2342017000000"
        " and press 1 to accept within 5 minutes."
    )
    assert await texts_to(services, EMEKA) == [told]
    assert len(told) <= 160

    assert isinstance(services.clock, SteppedClock)
    services.clock.advance(301)
    _, second = await offers_when(services, task.id, 2)
    assert second.worker_id == bayo.id
    await asyncio.sleep(0.1)
    assert await texts_to(services, BAYO) == [told]
    assert await texts_to(services, EMEKA) == [told]


async def test_a_swahili_driver_is_texted_the_offer_in_swahili(services: Services) -> None:
    wanjiku = Phone("+254722000001")
    nairobi = GeoPoint(-1.2864, 36.8172)
    await driver(services, wanjiku, "Wanjiku", at=nairobi, region=RegionCode.NAIROBI, locale="sw")
    task = await services.gig.create_task(
        DeliveryRoute(
            "R-NBO-TEXT",
            RegionCode.NAIROBI,
            nairobi,
            services.clock.now(),
            tuple(
                RouteStop(f"NBO-{n}", Phone("+254711000001"), "Moi Avenue", nairobi, 1, Decimal(2))
                for n in range(3)
            ),
        )
    )
    [offer] = await services.gig.allocate()  # the sweeper's pass
    now = f"{offer.offered_at.astimezone(zone(RegionCode.NAIROBI)):%H:%M}"
    assert await texts_to(services, wanjiku) == [
        f"OmniRoute: safari {task.reference} (vituo 3, inaondoka {now}): piga +254709000000"
        " ubonyeze 1 kuikubali ndani ya dakika 5."
    ]


async def test_an_offer_made_while_the_driver_is_on_the_line_is_not_texted(
    services: Services,
) -> None:
    """He called in and hears the offer on the IVR; one made after he declined another is
    heard there too: no SMS either time."""
    emeka = await driver(services, EMEKA, "Emeka", at=GeoPoint(6.46, 3.39))
    for n in (1, 2):
        ref = await order(services, NGOZI, f"k-line-{n}")
        await services.gig.create_task(
            route(f"R-line-{n}", [(ref, NGOZI, "1 Main")], services=services)
        )
    [offer] = await services.gig.allocate(calling=emeka.id)
    assert offer.worker_id == emeka.id
    [again] = await services.gig.decline(offer.id)
    assert again.worker_id == emeka.id
    assert await texts_to(services, EMEKA) == []
