"""A driver is on one route at a time: offers to one driver are exclusive, whoever makes them
(replicas, the offer sweeper, a decline), and accepting is refused while he is on a route."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from core.app.bootstrap import Services, build_services
from core.ids import RandomIds
from engines.gig import DriverBusyError, OfferStatus, Task, TaskStatus
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, driver, offered_in_a_race, order, route


async def test_a_driver_on_a_route_cannot_accept_another(services: Services) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    first = await gig.create_task(
        route(
            "R-1", [(await order(services, NGOZI, "b-1"), NGOZI, "1 Broad St")], services=services
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    second = await gig.create_task(
        route("R-2", [(await order(services, CHIDI, "b-2"), CHIDI, "2 Marina")], services=services)
    )
    late = await offered_in_a_race(services, second, emeka.id)

    with pytest.raises(DriverBusyError) as refused:
        await gig.accept(late.id)

    assert refused.value.busy_with == first.reference
    assert [t.id for t in await gig.tasks(TaskStatus.ASSIGNED)] == [first.id]
    # the route he could not take is back in the pool, for another driver
    assert (await gig.task(second.id)).status is TaskStatus.OPEN
    assert [o.status for o in await gig.offers(second.id)] == [OfferStatus.DECLINED]
    bayo = await driver(services, BAYO, "Bayo")
    [again] = await gig.allocate()
    assert (again.task_id, again.worker_id) == (second.id, bayo.id)


async def test_two_accepts_at_once_give_the_driver_one_route(services: Services) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    tasks = [
        await gig.create_task(
            route(
                f"R-{n}",
                [(await order(services, who, f"a-{n}"), who, "Broad St")],
                services=services,
            )
        )
        for n, who in ((1, NGOZI), (2, CHIDI))
    ]
    offers = [await offered_in_a_race(services, t, emeka.id) for t in tasks]
    other = build_services(services.settings, clock=services.clock, ids=RandomIds())
    try:
        results = await asyncio.gather(
            gig.accept(offers[0].id), other.gig.accept(offers[1].id), return_exceptions=True
        )
    finally:
        await other.close()

    taken = [r for r in results if isinstance(r, Task)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(taken) == 1, results
    assert len(refused) == 1
    assert isinstance(refused[0], DriverBusyError)
    assert refused[0].busy_with == taken[0].reference
    assert len(await gig.tasks(TaskStatus.ASSIGNED)) == 1


async def test_offer_runs_at_once_give_a_driver_one_offer(services: Services) -> None:
    gig = services.gig
    drivers = [await driver(services, EMEKA, "Emeka"), await driver(services, BAYO, "Bayo")]
    for n in range(4):
        who = NGOZI if n % 2 else CHIDI
        await gig.create_task(
            route(
                f"R-{n}",
                [(await order(services, who, f"o-{n}"), who, "Broad St")],
                services=services,
            )
        )
    replicas = [
        build_services(services.settings, clock=services.clock, ids=RandomIds()) for _ in range(3)
    ]
    try:
        # the replicas' sweepers, and a route planned meanwhile that offers again
        await asyncio.gather(*(r.gig.allocate() for r in replicas), gig.allocate())
    finally:
        for r in replicas:
            await r.close()

    open_offers = [
        o for t in await gig.tasks() for o in await gig.offers(t.id) if o.status is OfferStatus.OPEN
    ]
    per_driver = Counter(o.worker_id for o in open_offers)
    assert set(per_driver) == {d.id for d in drivers}
    assert max(per_driver.values()) == 1
