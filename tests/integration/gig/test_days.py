"""Tasks are offered on their own day, in the region's time zone, within the driver's shift.

The fixture's clock starts at 09:00 UTC on 5 January 2026 (10:00 in Lagos)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from core.app.bootstrap import Services
from core.bus.tables import outbox
from core.gsm7 import gsm7_length
from core.phone import Phone
from core.region import RegionCode
from engines.gig import (
    CodeCheck,
    EarningKind,
    Escalation,
    GeoPoint,
    IncidentKind,
    StopStatus,
    Task,
    TaskStatus,
    Worker,
)
from engines.gig.events import TaskExpired
from engines.orders import OrderStatus
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, code_for, driver, order, route

_n = itertools.count(1)
OPERATOR = Phone("+2348039999999")  # the fixture's OMNIROUTE_OPERATOR_PHONE


def texts_to(deliveries: list[object]) -> list[str]:
    return [str(d.payload["reply"]["text"]) for d in deliveries]  # type: ignore[attr-defined]


async def task_at(services: Services, departure: datetime, **changes: object) -> Task:
    n = next(_n)
    ref = await order(services, NGOZI, f"k-day-{n}-{departure:%H%M}", quantity=1)
    planned = route(f"R-day-{n}", [(ref, NGOZI, "1 Main St")], services=services)
    return await services.gig.create_task(replace(planned, departure=departure, **changes))


async def test_at_half_past_eleven_in_lagos_only_todays_tasks_are_offered(
    services: Services,
) -> None:
    gig, clock = services.gig, services.clock
    clock.advance(13.5 * 3600)  # 22:30 UTC, 23:30 in Lagos, still the 5th everywhere
    await driver(services, EMEKA, "Emeka")
    await driver(services, BAYO, "Bayo", at=GeoPoint(6.5, 3.4))
    tonight = await task_at(services, datetime(2026, 1, 5, 22, 50, tzinfo=UTC))  # 23:50 Lagos
    # 23:40 UTC is still the 5th in UTC, but 00:40 on the 6th in Lagos: tomorrow's work.
    after_midnight = await task_at(services, datetime(2026, 1, 5, 23, 40, tzinfo=UTC))

    offers = await gig.allocate()
    assert [o.task_id for o in offers] == [tonight.id]

    # Emeka takes tonight's route and delivers it before midnight in Lagos.
    mine = next(o for o in offers)
    await gig.accept(mine.id)
    code = await code_for(services, NGOZI, tonight.stops[0].order_reference)
    result = await gig.confirm_delivery(tonight.id, mine.worker_id, code)
    assert result.outcome is CodeCheck.DELIVERED
    today = await gig.today(mine.worker_id)
    assert today.stops == 1
    assert today.total.amount > 0
    assert {e.earned_on for e in await gig.earnings(mine.worker_id)} == {date(2026, 1, 5)}

    # 23:10 UTC: the UTC date has not changed, Lagos's has.
    clock.advance(40 * 60)
    offers = await gig.allocate()
    assert [o.task_id for o in offers] == [after_midnight.id]
    # what Emeka hears as "today's earnings" after midnight in Lagos starts again at zero
    assert (await gig.today(mine.worker_id)).stops == 0


async def test_a_task_departing_after_the_shift_ends_waits_for_a_later_driver(
    services: Services,
) -> None:
    gig, clock = services.gig, services.clock
    await driver(services, EMEKA, "Emeka")  # on shift 08:00-18:00 UTC
    late = await task_at(services, clock.now() + timedelta(hours=10))  # 20:00 Lagos, same day
    assert await gig.allocate() == []
    bayo = await driver(services, BAYO, "Bayo")
    await gig.add_shift(
        bayo.id, clock.now() + timedelta(hours=9), clock.now() + timedelta(hours=13)
    )
    clock.advance(9.5 * 3600)  # Emeka's shift is over, Bayo's evening shift has started
    offers = await gig.allocate()
    assert [(o.task_id, o.worker_id) for o in offers] == [(late.id, bayo.id)]


async def test_a_nairobi_task_is_not_offered_to_a_lagos_driver(services: Services) -> None:
    await driver(services, EMEKA, "Emeka")
    await task_at(
        services,
        services.clock.now() + timedelta(minutes=30),
        region=RegionCode.NAIROBI,
    )
    assert await services.gig.allocate() == []


async def packed(services: Services, reference: str) -> None:
    for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
        await services.orders.advance(reference, status)


async def expired_events(services: Services) -> dict[str, dict[str, object]]:
    async with services.db.transaction() as s:
        rows = await s.execute(select(outbox).where(outbox.c.topic == TaskExpired.topic))
        return {r.envelope["data"]["reference"]: r.envelope["data"] for r in rows}


async def test_the_next_day_the_sweeper_closes_yesterdays_routes_nobody_started(
    services: Services,
) -> None:
    """Taken and never driven, or never taken: expired, with the reason; the driver is free for
    today's work and paid nothing for it. A route started (one door done) is handed over to an
    operator (see the next test)."""
    gig, clock = services.gig, services.clock
    emeka = await driver(services, EMEKA, "Emeka")
    soon = clock.now() + timedelta(minutes=30)
    taken = await task_at(services, soon)
    await packed(services, taken.stops[0].order_reference)
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    bayo = await driver(services, BAYO, "Bayo")
    ref = await order(services, NGOZI, "k-day-started-1", quantity=1)
    other = await order(services, NGOZI, "k-day-started-2", quantity=1)
    started = await gig.create_task(
        route(
            "R-day-started",
            [(ref, NGOZI, "1 Main St"), (other, NGOZI, "2 Main St")],
            services=services,
        )
    )
    [offer] = await gig.allocate()
    assert offer.worker_id == bayo.id
    await gig.accept(offer.id)
    code = await code_for(services, NGOZI, ref)
    assert (await gig.confirm_delivery(started.id, bayo.id, code)).outcome is CodeCheck.DELIVERED
    nobody = await task_at(services, soon)  # no driver free: it waits in the pool all day
    assert await gig.allocate() == []

    # 09:00 UTC the next day: Emeka is on shift again; the sweeper's pass.
    clock.advance(24 * 3600)
    now = clock.now()
    await gig.add_shift(emeka.id, now - timedelta(hours=1), now + timedelta(hours=9))
    today = await task_at(services, now + timedelta(minutes=30))
    offers = await gig.allocate()

    assert (await gig.task(taken.id)).status is TaskStatus.EXPIRED
    assert (await gig.task(nobody.id)).status is TaskStatus.EXPIRED
    assert (await gig.task(started.id)).status is TaskStatus.COMPLETED  # handed over
    # Emeka's app no longer shows yesterday's route in progress; he gets today's.
    assert await gig.current_task(emeka.id) is None
    assert [(t.reference, t.status) for t in await gig.tasks_of(emeka.id)] == [
        (taken.reference, TaskStatus.EXPIRED)
    ]
    assert [(o.task_id, o.worker_id) for o in offers] == [(today.id, emeka.id)]
    assert await gig.earnings(emeka.id) == []
    # The order Emeka never took out is back to packed, to be routed again.
    recalled = taken.stops[0].order_reference
    assert (await services.orders.get(recalled)).status is OrderStatus.PACKED
    events = await expired_events(services)
    assert set(events) == {taken.reference, nobody.reference}
    assert events[taken.reference]["reason"] == "not_started"
    assert events[taken.reference]["recalled"] == [recalled]
    assert events[taken.reference]["worker_id"] == str(emeka.id)
    assert events[nobody.reference]["reason"] == "not_taken"
    assert events[nobody.reference]["recalled"] == []
    # A second pass changes nothing.
    assert await gig.expire_stale_tasks() == []


async def first_door_delivered(services: Services, name: str) -> tuple[Worker, Task, str]:
    """Bayo on a two-door Lagos route departing at 10:30, the first door (Ngozi's) proved;
    returns him, the task and the order at the second door (Chidi's, still open)."""
    gig = services.gig
    bayo = await driver(services, BAYO, "Bayo")
    first = await order(services, NGOZI, f"k-{name}-1", quantity=1)
    second = await order(services, CHIDI, f"k-{name}-2", quantity=1)
    for reference in (first, second):
        await packed(services, reference)
    stops = [(first, NGOZI, "1 Main St"), (second, CHIDI, "9 Marina")]
    task = await gig.create_task(route(f"R-{name}", stops, services=services))
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    code = await code_for(services, NGOZI, first)
    assert (await gig.confirm_delivery(task.id, bayo.id, code)).outcome is CodeCheck.DELIVERED
    assert await gig.escalations() == []
    return bayo, task, second


async def test_a_route_started_but_not_finished_on_its_day_is_handed_to_an_operator(
    services: Services,
) -> None:
    """Bayo delivered the first door, then his phone died. The next morning the open door is
    escalated at 04:00 (not at midnight): the operator is alerted once, lists it, and settles it
    by hand; Bayo is free and paid for the door he proved, with no bonus for an unfinished route."""
    gig, clock = services.gig, services.clock
    bayo, task, second = await first_door_delivered(services, "unfinished")
    assert await gig.escalations() == []

    # 03:59 in Lagos the next morning: he may still be at a door after midnight.
    clock.advance((17 * 60 + 59) * 60)
    assert await gig.expire_stale_tasks() == []
    assert (await gig.task(task.id)).status is TaskStatus.ASSIGNED
    assert await gig.escalations() == []
    assert await services.notifications.for_recipient(OPERATOR) == []

    clock.advance(60)  # 04:00: the route goes to an operator
    assert await gig.expire_stale_tasks() == []  # handed over, not expired

    done = await gig.task(task.id)
    assert done.status is TaskStatus.COMPLETED
    assert [s.status for s in done.stops] == [StopStatus.DELIVERED, StopStatus.ESCALATED]
    assert await gig.incidents(task.id) == [IncidentKind.ROUTE_UNFINISHED.value]
    assert await gig.current_task(bayo.id) is None
    assert {e.kind for e in await gig.earnings(bayo.id)} == {EarningKind.STOP, EarningKind.DISTANCE}
    [alert] = texts_to(await services.notifications.for_recipient(OPERATOR))
    assert "route not finished on its day" in alert
    assert f"task {task.reference}, stop 2" in alert  # as `deliveries escalated` names it
    assert alert.endswith(f" Order: {second}.")  # what `deliveries resolve` takes
    assert await gig.escalations() == [
        Escalation(
            second, task.reference, 2, CHIDI, "9 Marina", IncidentKind.ROUTE_UNFINISHED, clock.now()
        )
    ]
    assert (await services.orders.get(second)).status is OrderStatus.DISPATCHED

    # The goods came back on the van: the operator settles the door.
    resolved = await gig.resolve_escalation(second, StopStatus.RETURNED)
    assert (resolved.position, resolved.already) == (2, False)
    assert (await services.orders.get(second)).status is OrderStatus.RETURNED
    assert await gig.escalations() == []
    assert (await gig.resolve_escalation(second, StopStatus.RETURNED)).already
    # Another pass alerts nobody again.
    assert await gig.expire_stale_tasks() == []
    assert len(await services.notifications.for_recipient(OPERATOR)) == 1


async def test_a_driver_still_at_doors_after_midnight_finishes_his_route_with_its_bonus(
    services: Services,
) -> None:
    """Bayo's last door is at half past midnight: the night's sweep leaves his route alone, he
    proves the door, and the route closes as finished, bonus included, with no operator."""
    gig, clock = services.gig, services.clock
    bayo, task, second = await first_door_delivered(services, "night")

    clock.advance(14.5 * 3600)  # 00:30 in Lagos, the next day
    assert await gig.expire_stale_tasks() == []
    assert await gig.escalations() == []

    code = await code_for(services, CHIDI, second)
    assert (await gig.confirm_delivery(task.id, bayo.id, code)).outcome is CodeCheck.DELIVERED
    done = await gig.task(task.id)
    assert done.status is TaskStatus.COMPLETED
    assert [s.status for s in done.stops] == [StopStatus.DELIVERED, StopStatus.DELIVERED]
    assert await gig.incidents(task.id) == []
    assert EarningKind.BONUS in {e.kind for e in await gig.earnings(bayo.id)}
    assert await services.notifications.for_recipient(OPERATOR) == []
    assert (await services.orders.get(second)).status is OrderStatus.DELIVERED


async def test_the_operator_is_reminded_once_a_day_of_deliveries_waiting_over_12_hours(
    services: Services,
) -> None:
    """Bayo's phone died after the first of seven doors. The six open doors go to the operator at
    04:00 (one alert). At 08:00 they have waited four hours: no reminder. Once they have waited
    twelve (16:00), a pass within the hour sends one SMS naming the oldest five and counting the
    sixth, once however often the sweeper passes; the next morning another; once settled, none."""
    gig, clock = services.gig, services.clock
    bayo = await driver(services, BAYO, "Bayo")
    refs = [await order(services, NGOZI, f"k-remind-{n}", quantity=1) for n in range(7)]
    for reference in refs:
        await packed(services, reference)
    stops = [(ref, NGOZI, f"{n} Main St") for n, ref in enumerate(refs, 1)]
    task = await gig.create_task(route("R-remind", stops, units=1, services=services))
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    code = await code_for(services, NGOZI, refs[0])
    assert (await gig.confirm_delivery(task.id, bayo.id, code)).outcome is CodeCheck.DELIVERED

    async def operator_texts() -> list[str]:
        return texts_to(await services.notifications.for_recipient(OPERATOR))

    clock.advance(18 * 3600)  # 04:00 in Lagos: the open doors are handed over
    await services.sweeper.tick()
    assert len(await gig.escalations()) == 6
    [alert] = await operator_texts()
    assert "route not finished on its day" in alert
    # six references would not fit one SMS with it: counted, and where to see them
    assert alert.endswith(" 6 orders: see omniroute deliveries escalated.")

    clock.advance(4 * 3600)  # 08:00: they have waited four hours
    await services.sweeper.tick()
    clock.advance(7 * 3600 + 59 * 60)  # 15:59
    await services.sweeper.tick()
    assert len(await operator_texts()) == 1

    clock.advance(61 * 60)  # 17:00: waited thirteen hours; the last look was an hour ago
    await services.sweeper.tick()
    await services.sweeper.tick()
    [_, reminder] = await operator_texts()
    assert "over 12 hours: 6 (" in reminder
    assert ", ".join(refs[1:6]) + " and 1 more)" in reminder
    assert refs[6] not in reminder
    assert "omniroute deliveries escalated" in reminder
    assert gsm7_length(reminder) <= 160  # one SMS

    clock.advance(15.5 * 3600)  # 08:30 the next morning: still waiting
    await services.sweeper.tick()
    await services.sweeper.tick()
    assert len(await operator_texts()) == 3

    for reference in refs[1:]:
        await gig.resolve_escalation(reference, StopStatus.DELIVERED)
    clock.advance(24 * 3600)
    await services.sweeper.tick()
    assert len(await operator_texts()) == 3
