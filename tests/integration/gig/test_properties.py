"""Invariants of the gig platform under any mix of offers, answers, lapses and deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.app.bootstrap import Services
from core.money import Money
from core.phone import Phone
from core.region import local_date
from engines.gig import (
    CodeCheck,
    GeoPoint,
    Offer,
    OfferClosedError,
    OfferStatus,
    Shift,
    Task,
    TaskStatus,
)
from engines.gig.repository import SqlGigRepository
from tests.support.gig import NGOZI, code_for, driver, order, route

_routes = itertools.count(1)
DRIVERS = [Phone(f"+23480310000{n:02d}") for n in range(1, 5)]

step = st.sampled_from(
    ["task", "tomorrow", "late", "allocate", "accept", "race", "decline", "lapse", "night"]
)


async def shifts(services: Services, worker_id: uuid.UUID) -> list[Shift]:
    async with services.db.transaction() as s:
        return await SqlGigRepository(s).shifts(worker_id)


async def drivers(services: Services) -> None:
    if await services.gig.worker_by_phone(DRIVERS[0]) is None:
        for n, phone in enumerate(DRIVERS):
            await driver(services, phone, f"Driver {n}", at=GeoPoint(6.45 + n / 50, 3.38))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(step, min_size=1, max_size=12))
async def test_a_task_is_assigned_to_one_driver_at_a_time(
    services: Services, steps: list[str]
) -> None:
    gig = services.gig
    await drivers(services)
    offered: list[tuple[Offer, Task]] = []
    for kind in steps:
        open_offers = [
            o
            for t in await gig.tasks()
            for o in await gig.offers(t.id)
            if o.status is OfferStatus.OPEN
        ]
        match kind:
            case "task":
                n = next(_routes)
                ref = await order(services, NGOZI, f"k-prop-{n}", quantity=1)
                await gig.create_task(
                    route(f"R-prop-{n}", [(ref, NGOZI, "1 Main St")], services=services)
                )
            case "tomorrow" | "late":
                # planned for tomorrow (Lagos), or for tonight after everyone's shift ends
                n = next(_routes)
                ref = await order(services, NGOZI, f"k-prop-{n}", quantity=1)
                planned = route(f"R-prop-{n}", [(ref, NGOZI, "1 Main St")], services=services)
                ahead = timedelta(days=1) if kind == "tomorrow" else timedelta(hours=12)
                await gig.create_task(replace(planned, departure=planned.departure + ahead))
            case "allocate":
                for offer in await gig.allocate():
                    offered.append((offer, await gig.task(offer.task_id)))
            case "night":
                services.clock.advance(3 * 3600)
            case "accept" if open_offers:
                with contextlib.suppress(OfferClosedError):
                    await gig.accept(open_offers[0].id)
            case "race" if open_offers:
                # The same offer accepted twice at once (a retried webhook): one wins.
                results = await asyncio.gather(
                    gig.accept(open_offers[0].id),
                    gig.accept(open_offers[0].id),
                    return_exceptions=True,
                )
                assert sum(not isinstance(r, BaseException) for r in results) <= 1
            case "decline" if open_offers:
                await gig.decline(open_offers[-1].id)
            case "lapse":
                services.clock.advance(301)
            case _:
                pass
    busy: Counter[object] = Counter()
    for task in await gig.tasks():
        offers = await gig.offers(task.id)
        live = [o for o in offers if o.status is OfferStatus.OPEN]
        accepted = [o for o in offers if o.status is OfferStatus.ACCEPTED]
        assert len(live) <= 1
        assert len(accepted) <= 1
        assert not (live and accepted)
        taken = task.status is TaskStatus.EXPIRED and accepted  # expired after it was taken
        if task.status in (TaskStatus.ASSIGNED, TaskStatus.COMPLETED) or taken:
            assert [o.worker_id for o in accepted] == [task.worker_id]
        else:
            assert task.worker_id is None
            assert (task.status is TaskStatus.OFFERED) == bool(live)
        if task.status is TaskStatus.ASSIGNED:
            busy[task.worker_id] += 1
    assert all(n == 1 for n in busy.values())  # nobody drives two routes at once
    for offer, task in offered:  # never offered outside its day, nor past the driver's shift
        assert local_date(task.region, offer.offered_at) == local_date(task.region, task.departure)
        shift_ends = {s.ends_at for s in await shifts(services, offer.worker_id)}
        assert any(offer.offered_at < end and task.departure < end for end in shift_ends)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.lists(st.booleans(), min_size=1, max_size=4)),
        min_size=1,
        max_size=3,
    )
)
async def test_earnings_sum_to_the_payouts(
    services: Services, routes: list[tuple[int, list[bool]]]
) -> None:
    """Whatever mix of right and wrong codes, settling pays exactly what was earned, once."""
    gig = services.gig
    await drivers(services)
    for stops, answers in routes:
        n = next(_routes)
        refs = [await order(services, NGOZI, f"k-pay-{n}-{i}", quantity=1) for i in range(stops)]
        task = await gig.create_task(
            route(
                f"R-pay-{n}",
                [(r, NGOZI, f"{i} Main St") for i, r in enumerate(refs)],
                services=services,
            )
        )
        offers = [o for o in await gig.allocate() if o.task_id == task.id]
        if not offers:
            continue
        await gig.accept(offers[0].id)
        worker_id = offers[0].worker_id
        answer = iter(itertools.cycle(answers))
        while (current := await gig.task(task.id)).status is TaskStatus.ASSIGNED:
            stop = current.next_stop
            assert stop is not None
            code = await code_for(services, NGOZI, stop.order_reference)
            typed = code if next(answer) else f"{(int(code) + 1) % 10000:04d}"
            result = await gig.confirm_delivery(task.id, worker_id, typed)
            assert result.outcome in set(CodeCheck)
        if next(answer):
            services.clock.advance(3600)
    day = services.clock.now().date()
    for phone in DRIVERS:
        worker = await gig.worker_by_phone(phone)
        assert worker is not None
        for earned_on in {e.earned_on for e in await gig.earnings(worker.id)} | {day}:
            await gig.settle(worker.id, earned_on)
        earned = await gig.earnings(worker.id)
        paid = await gig.payouts(worker.id)
        total_earned = sum((e.amount.amount for e in earned), start=Money.zero("NGN").amount)
        assert sum((p[1].amount for p in paid), start=Money.zero("NGN").amount) == total_earned
        assert all(e.payout_id is not None for e in earned)
        assert len({p[0] for p in paid}) == len(paid)
