"""The gig platform on SQLite and PostgreSQL: onboarding, offers, proofs of delivery and pay."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from core.app.bootstrap import Services
from core.money import Money
from core.phone import Phone
from core.region import RegionCode, local_date, zone
from engines.gig import (
    CodeCheck,
    DeliveryResult,
    DeliveryRoute,
    DocumentKind,
    Earning,
    EarningKind,
    GeoPoint,
    Incident,
    IncidentKind,
    InvalidWorkerError,
    OfferClosedError,
    OfferStatus,
    Onboard,
    Proof,
    RouteStop,
    StopStatus,
    TaskStateError,
    TaskStatus,
    Vehicle,
    VehicleKind,
    WorkerStatus,
)
from engines.gig.repository import SqlGigRepository
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.orders.repository import SqlOrderRepository
from tests.integration.gig.test_days import packed
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, code_for, driver, order, route

OPERATOR = Phone("+2348039999999")


def texts_to(deliveries: Sequence[object]) -> list[str]:
    return [str(d.payload["reply"]["text"]) for d in deliveries]  # type: ignore[attr-defined]


async def test_onboarding_checks_the_form_and_activates_with_the_documents(
    services: Services, tmp_path: Path
) -> None:
    gig = services.gig
    form = Onboard(
        EMEKA,
        "  Emeka   Okafor ",
        "nin 1234 5678",
        RegionCode.LAGOS,
        Vehicle(VehicleKind.MOTORBIKE, "lag-123-xy", 30),
    )
    with pytest.raises(InvalidWorkerError) as bad_plate:
        await gig.onboard(
            Onboard(
                EMEKA, "Emeka", "NIN12345678", RegionCode.LAGOS, Vehicle(VehicleKind.VAN, None, 300)
            )
        )
    assert bad_plate.value.field == "plate"
    worker = await gig.onboard(form)
    assert (worker.name, worker.national_id, worker.vehicle.plate) == (
        "Emeka Okafor",
        "NIN12345678",
        "LAG-123-XY",
    )
    assert worker.status is WorkerStatus.PENDING
    assert await gig.onboard(form) == worker  # once per phone

    with pytest.raises(InvalidWorkerError):
        await gig.upload_document(
            worker.id, DocumentKind.NATIONAL_ID, b"MZ..", "application/x-msdownload"
        )
    scan = await gig.upload_document(
        worker.id, DocumentKind.NATIONAL_ID, b"\xff\xd8jpeg", "image/jpeg"
    )
    assert (await gig.worker(worker.id)).status is WorkerStatus.PENDING  # licence missing
    await gig.upload_document(worker.id, DocumentKind.DRIVING_LICENCE, b"%PDF", "application/pdf")
    assert (await gig.worker(worker.id)).status is WorkerStatus.ACTIVE
    stored = tmp_path / "objects" / scan.object_key
    assert stored.read_bytes() == b"\xff\xd8jpeg"
    assert await gig.is_driver(EMEKA)
    assert not await gig.is_driver(NGOZI)


async def test_a_route_is_offered_to_the_best_driver_and_reoffered_when_declined(
    services: Services,
) -> None:
    gig = services.gig
    near = await driver(services, EMEKA, "Emeka", at=GeoPoint(6.46, 3.39))
    far = await driver(services, BAYO, "Bayo", at=GeoPoint(6.60, 3.50))
    ref = await order(services, NGOZI, "k-1")
    task = await gig.create_task(route("R-1", [(ref, NGOZI, "12 Broad St")], services=services))
    assert (
        await gig.create_task(route("R-1", [(ref, NGOZI, "12 Broad St")], services=services))
        == task
    )

    [offer] = await gig.allocate()
    assert offer.worker_id == near.id
    assert await gig.allocate() == []  # one offer per task at a time
    [reoffer] = await gig.decline(offer.id)
    assert reoffer.worker_id == far.id
    with pytest.raises(OfferClosedError):
        await gig.accept(offer.id)

    services.clock.advance(301)  # Bayo lets it lapse: back to Emeka? No, he declined it.
    assert await gig.allocate() == []
    assert [o.status for o in await gig.offers(task.id)] == [
        OfferStatus.DECLINED,
        OfferStatus.EXPIRED,
    ]
    assert (await gig.task(task.id)).status is TaskStatus.OPEN
    with pytest.raises(OfferClosedError):
        await gig.accept(reoffer.id)


async def test_capacity_and_fairness_decide_between_drivers(services: Services) -> None:
    gig = services.gig
    small = await driver(services, EMEKA, "Emeka", capacity=3, at=GeoPoint(6.46, 3.39))
    big = await driver(services, BAYO, "Bayo", capacity=40, at=GeoPoint(6.50, 3.42))
    ref = await order(services, NGOZI, "k-big", quantity=10)
    await gig.create_task(
        route("R-big", [(ref, NGOZI, "12 Broad St")], units=10, services=services)
    )
    [offer] = await gig.allocate()
    assert offer.worker_id == big.id  # ten cartons do not fit Emeka's motorbike box
    assert small.id != big.id


async def test_a_nairobi_route_goes_to_the_nairobi_driver_who_earned_less_today(
    services: Services,
) -> None:
    # Lagos drivers earn naira by the thousand; it must not drown the shillings Nairobi's
    # drivers are weighed by. Otieno is 1 km nearer, but Akinyi has earned far less today.
    gig = services.gig
    cbd = GeoPoint(-1.2864, 36.8172)
    otieno = await driver(
        services,
        Phone("+254722000011"),
        "Otieno",
        at=GeoPoint(-1.2864, 36.8262),
        region=RegionCode.NAIROBI,
    )
    akinyi = await driver(
        services,
        Phone("+254722000012"),
        "Akinyi",
        at=GeoPoint(-1.2864, 36.8352),
        region=RegionCode.NAIROBI,
    )
    emeka = await driver(services, EMEKA, "Emeka")  # in Lagos, on shift too
    placed = await services.orders.place(
        PlaceOrder(
            Phone("+254711000001"),
            RegionCode.NAIROBI,
            (CartLine("NDL-INDO-CHK", 1),),
            PaymentMethod.ON_DELIVERY,
            "nbo-fair-1",
        )
    )
    task = await gig.create_task(
        DeliveryRoute(
            "R-NBO-FAIR",
            RegionCode.NAIROBI,
            cbd,
            services.clock.now(),
            (
                RouteStop(
                    placed.reference,
                    Phone("+254711000001"),
                    "Moi Avenue 10",
                    cbd,
                    1,
                    Decimal("1.0"),
                ),
            ),
        )
    )
    today = local_date(RegionCode.NAIROBI, services.clock.now())
    async with services.db.transaction() as s:
        repo = SqlGigRepository(s)
        for who, amount, currency in (
            (otieno, "900", "KES"),
            (akinyi, "100", "KES"),
            (emeka, "60000", "NGN"),
        ):
            earning = Earning(
                uuid.uuid4(),
                who.id,
                task.id,
                EarningKind.STOP,
                Money(Decimal(amount), currency),
                today,
            )
            await repo.add_earning(earning, None)

    [offer] = await gig.allocate()

    assert offer.worker_id == akinyi.id


async def test_accepting_sends_codes_and_the_code_proves_each_delivery(services: Services) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    first = await order(services, NGOZI, "k-a")
    second = await order(services, CHIDI, "k-b")
    task = await gig.create_task(
        route(
            "R-day", [(first, NGOZI, "12 Broad St"), (second, CHIDI, "4 Marina")], services=services
        )
    )
    [offer] = await gig.allocate()
    accepted = await gig.accept(offer.id)
    assert accepted.status is TaskStatus.ASSIGNED
    assert accepted.worker_id == emeka.id
    code_a = await code_for(services, NGOZI, first)
    code_b = await code_for(services, CHIDI, second)
    [sms] = [t for t in texts_to(await services.notifications.for_recipient(NGOZI)) if code_a in t]
    assert sms.startswith(f"OmniRoute: Emeka is on the way with order {first}.")

    await gig.arrive(task.id, emeka.id)
    wrong = "0000" if code_a != "0000" else "1111"
    miss = await gig.confirm_delivery(task.id, emeka.id, wrong)
    assert (miss.outcome, miss.attempts_left) == (CodeCheck.WRONG, 2)
    hit = await gig.confirm_delivery(
        task.id, emeka.id, code_a, Proof("photos/door-12.jpg", GeoPoint(6.4601, 3.3902))
    )
    assert hit.outcome is CodeCheck.DELIVERED
    async with services.db.transaction() as s:
        proof = (
            await s.execute(
                text(
                    "SELECT photo_ref, proof_lat, proof_lon FROM gig_task_stops"
                    " WHERE task_id = :t AND position = 1"
                ),
                {"t": task.id if services.db.dialect == "postgresql" else task.id.hex},
            )
        ).one()
    assert tuple(proof) == ("photos/door-12.jpg", 6.4601, 3.3902)
    assert hit.earned == Money(Decimal("500") + Decimal("120") * Decimal("3.5"), "NGN")
    assert (await services.orders.get(first)).status in (OrderStatus.PLACED, OrderStatus.DELIVERED)

    last = await gig.confirm_delivery(task.id, emeka.id, code_b)
    assert last.task_completed
    assert last.earned == Money(Decimal("920") + Decimal("1500"), "NGN")  # with the route bonus
    assert (await gig.task(task.id)).status is TaskStatus.COMPLETED
    today = await gig.today(emeka.id)
    assert (today.total, today.stops) == (Money(Decimal("3340"), "NGN"), 2)

    payout = await gig.settle(emeka.id, services.clock.now().date())
    assert payout is not None
    assert payout.amount == today.total
    assert await gig.settle(emeka.id, services.clock.now().date()) is None  # nothing owed twice
    assert await gig.rate(task.id, 5)
    assert not await gig.rate(task.id, 1)
    assert (await gig.worker(emeka.id)).rating == Decimal("5.00")


async def test_three_wrong_codes_escalate_to_an_operator(services: Services) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    ref = await order(services, NGOZI, "k-x")
    task = await gig.create_task(route("R-x", [(ref, NGOZI, "12 Broad St")], services=services))
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    code = await code_for(services, NGOZI, ref)
    wrong = "0000" if code != "0000" else "1111"
    results = [await gig.confirm_delivery(task.id, emeka.id, wrong) for _ in range(3)]
    assert [r.outcome for r in results] == [CodeCheck.WRONG, CodeCheck.WRONG, CodeCheck.ESCALATED]
    finished = await gig.task(task.id)
    assert finished.stops[0].status is StopStatus.ESCALATED
    assert finished.status is TaskStatus.COMPLETED
    assert await gig.incidents(task.id) == [IncidentKind.CODE_FAILED.value]
    [alert] = texts_to(await services.notifications.for_recipient(OPERATOR))
    assert "three wrong delivery codes" in alert
    assert emeka.phone.e164 in alert
    assert [e.kind for e in await gig.earnings(emeka.id)] == []  # no proof, no pay


async def test_three_wrong_codes_as_the_database_connection_drops_still_text_the_operator_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third wrong code escalates the stop and that commits; the connection drops right
    after (a failover; a gateway killed there leaves the same). The operator's SMS went with
    the escalation, and the driver's app keying again neither escalates nor texts twice."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    ref = await order(services, NGOZI, "k-x-drop")
    task = await gig.create_task(
        route("R-x-drop", [(ref, NGOZI, "12 Broad St")], services=services)
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    code = await code_for(services, NGOZI, ref)
    wrong = "0000" if code != "0000" else "1111"
    for _ in range(2):
        await gig.confirm_delivery(task.id, emeka.id, wrong)

    async def connection_dropped(*args: Any, **kwargs: Any) -> bool:
        raise ConnectionResetError("connection to the database lost")

    # Anything opening a fresh transaction after the escalation's commit finds no database.
    monkeypatch.setattr(services.notifications, "queue", connection_dropped)
    monkeypatch.setattr(gig, "worker", connection_dropped)
    with contextlib.suppress(ConnectionResetError):
        await gig.confirm_delivery(task.id, emeka.id, wrong)
    monkeypatch.undo()
    with pytest.raises(TaskStateError):
        await gig.confirm_delivery(task.id, emeka.id, wrong)  # his app's retry

    assert (await gig.task(task.id)).stops[0].status is StopStatus.ESCALATED
    assert [e.order_reference for e in await gig.escalations()] == [ref]
    [alert] = texts_to(await services.notifications.for_recipient(OPERATOR))
    assert "three wrong delivery codes" in alert
    assert ref in alert


async def test_a_burst_of_guessed_codes_counts_every_guess_and_escalates_at_the_third(
    services: Services,
) -> None:
    # An app firing eight codes at once must not get eight tries at the customer's code.
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    ref = await order(services, NGOZI, "k-burst")
    task = await gig.create_task(route("R-burst", [(ref, NGOZI, "12 Broad St")], services=services))
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    code = await code_for(services, NGOZI, ref)
    guesses = [f"{(int(code) + k) % 10_000:04d}" for k in range(1, 9)]

    results = await asyncio.gather(
        *(gig.confirm_delivery(task.id, emeka.id, g) for g in guesses), return_exceptions=True
    )

    answered = [r.outcome for r in results if not isinstance(r, BaseException)]
    assert sorted(answered) == sorted([CodeCheck.WRONG, CodeCheck.WRONG, CodeCheck.ESCALATED])
    assert all(isinstance(r, (DeliveryResult, TaskStateError)) for r in results)
    stop = (await gig.task(task.id)).stops[0]
    assert (stop.status, stop.code_attempts) == (StopStatus.ESCALATED, 3)
    with pytest.raises(TaskStateError):  # the right code now comes too late
        await gig.confirm_delivery(task.id, emeka.id, code)
    assert await gig.incidents(task.id) == [IncidentKind.CODE_FAILED.value]


async def test_an_unanswered_offer_expires_and_goes_to_the_next_driver(services: Services) -> None:
    gig = services.gig
    await driver(services, EMEKA, "Emeka", at=GeoPoint(6.46, 3.39))
    bayo = await driver(services, BAYO, "Bayo", at=GeoPoint(6.70, 3.60))
    ref = await order(services, NGOZI, "k-e")
    await gig.create_task(route("R-e", [(ref, NGOZI, "12 Broad St")], services=services))
    [first] = await gig.allocate()
    services.clock.advance(timedelta(minutes=5).total_seconds())
    [second] = await gig.allocate()
    assert second.worker_id == bayo.id
    assert first.worker_id != bayo.id
    with pytest.raises(OfferClosedError):
        await gig.accept(first.id)
    assert (await gig.accept(second.id)).worker_id == bayo.id
    assert [e for e in await gig.earnings(bayo.id) if e.kind is EarningKind.BONUS] == []


async def test_a_failed_queueing_of_the_drivers_cancelled_stop_sms_is_sent_on_redelivery_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox refuses the driver's text once (a database blip after the stop came off):
    the event, redelivered, still takes the stop off and texts him, and only once."""
    gig = services.gig
    await driver(services, EMEKA, "Emeka")
    first = await order(services, NGOZI, "blip-a")
    second = await order(services, CHIDI, "blip-b")
    task = await gig.create_task(
        route(
            "R-blip",
            [(first, NGOZI, "12 Broad St"), (second, CHIDI, "4 Marina")],
            services=services,
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    leaves = f"{task.departure.astimezone(zone(RegionCode.LAGOS)):%H:%M}"

    queue_in = services.notifications.queue_in
    refused: list[str] = []

    async def refusing_once(s: object, message: Any, **kwargs: Any) -> bool:
        if message.to == EMEKA and not refused:
            refused.append(message.dedupe_key)
            raise ConnectionResetError("connection reset by peer")
        return await queue_in(s, message, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services.notifications, "queue_in", refusing_once)
    await services.orders.advance(second, OrderStatus.CANCELLED, reason="customer")
    with pytest.raises(ConnectionResetError):
        await gig.drop_order(second)  # the event's first delivery
    assert refused
    assert await gig.drop_order(second) is not None  # redelivered
    assert await gig.drop_order(second) is None  # and again: nothing more

    assert [s.order_reference for s in (await gig.task(task.id)).stops] == [first]
    told: list[object] = [*await services.notifications.for_recipient(EMEKA)]
    assert texts_to(told) == [
        f"OmniRoute: route {task.reference} (2 stops, leaves {leaves}): call the drivers' line"
        " and press 1 to accept within 5 minutes.",  # offered while he was not on the line
        f"OmniRoute: order {second} was cancelled. Skip stop 2 on route {task.reference}"
        " (4 Marina): do not deliver it.",
    ]


async def test_a_stop_cancelled_mid_route_pays_the_next_leg_from_the_stop_before_it(
    services: Services,
) -> None:
    """Three doors due north of the Lagos depot; the middle one cancels while Emeka drives.
    He drives from the first door straight to the third, and is paid for that drive, not for
    the leg from a door he never went to."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    wale = Phone("+2348030000003")
    refs = [await order(services, who, f"k-leg-{i}") for i, who in enumerate((NGOZI, CHIDI, wale))]
    north = [GeoPoint(lat, 3.3841) for lat in (6.50, 6.55, 6.60)]
    # as the planner measures legs: great-circle km times 1.3, to 100 m
    legs = [Decimal("6.5"), Decimal("7.2"), Decimal("7.2")]
    task = await gig.create_task(
        DeliveryRoute(
            "R-leg",
            RegionCode.LAGOS,
            GeoPoint(6.4550, 3.3841),
            services.clock.now() + timedelta(minutes=30),
            tuple(
                RouteStop(ref, who, f"{n} Ikorodu Road", point, 2, leg)
                for n, (ref, who, point, leg) in enumerate(
                    zip(refs, (NGOZI, CHIDI, wale), north, legs, strict=True), start=1
                )
            ),
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    first = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, NGOZI, refs[0]))
    assert first.earned == Money(Decimal("500") + Decimal("120") * Decimal("6.5"), "NGN")

    await services.orders.advance(refs[1], OrderStatus.CANCELLED, reason="customer")
    await services.relay.drain()
    now = await gig.task(task.id)
    assert [(s.order_reference, s.leg_km) for s in now.stops] == [
        (refs[0], Decimal("6.5")),
        (refs[2], Decimal("14.5")),  # 0.10 degrees of latitude, by road
    ]
    assert now.km == Decimal("21.0")
    last = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, wale, refs[2]))
    assert last.task_completed
    assert last.earned == Money(
        Decimal("500") + Decimal("120") * Decimal("14.5") + Decimal("1500"), "NGN"
    )


async def test_an_order_returned_at_its_door_tells_the_driver_it_was_returned(
    services: Services,
) -> None:
    """Emeka is at Ngozi's door when an operator returns her dispatched order: his SMS says it
    was returned and to bring it back, not that it was cancelled."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    first = await order(services, NGOZI, "ret-a")
    second = await order(services, CHIDI, "ret-b")
    for ref in (first, second):
        await packed(services, ref)
    task = await gig.create_task(
        route(
            "R-ret", [(first, NGOZI, "12 Broad St"), (second, CHIDI, "4 Marina")], services=services
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    await gig.arrive(task.id, emeka.id)

    await services.orders.advance(first, OrderStatus.RETURNED, reason="refused at the door")
    await services.relay.drain()

    assert texts_to(await services.notifications.for_recipient(EMEKA))[-1] == (
        f"OmniRoute: order {first} was returned. Skip stop 1 on route {task.reference}"
        " (12 Broad St): do not deliver it, bring it back to the warehouse."
    )


async def test_a_door_reached_before_its_order_was_returned_is_a_leg_driven_and_paid(
    services: Services,
) -> None:
    """Three doors due north of the Lagos depot; Emeka is at the middle one when an operator
    returns its order. He drove there: that leg is paid, and the last leg is still the drive
    from it, not the longer one from the first door he never drove."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    wale = Phone("+2348030000003")
    who = (NGOZI, CHIDI, wale)
    refs = [await order(services, w, f"k-reached-{i}") for i, w in enumerate(who)]
    for ref in refs:
        await packed(services, ref)
    north = [GeoPoint(lat, 3.3841) for lat in (6.50, 6.55, 6.60)]
    legs = [Decimal("6.5"), Decimal("7.2"), Decimal("7.2")]
    task = await gig.create_task(
        DeliveryRoute(
            "R-reached",
            RegionCode.LAGOS,
            GeoPoint(6.4550, 3.3841),
            services.clock.now() + timedelta(minutes=30),
            tuple(
                RouteStop(ref, w, f"{n} Ikorodu Road", point, 2, leg)
                for n, (ref, w, point, leg) in enumerate(
                    zip(refs, who, north, legs, strict=True), start=1
                )
            ),
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    await gig.confirm_delivery(task.id, emeka.id, await code_for(services, NGOZI, refs[0]))
    await gig.arrive(task.id, emeka.id)

    await services.orders.advance(refs[1], OrderStatus.RETURNED, reason="refused at the door")
    await services.relay.drain()
    assert [(s.order_reference, s.leg_km) for s in (await gig.task(task.id)).stops] == [
        (refs[0], Decimal("6.5")),
        (refs[2], Decimal("7.2")),  # from the door he reached
    ]
    last = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, wale, refs[2]))
    assert last.earned == Money(
        Decimal("500") + Decimal("120") * Decimal("7.2") + Decimal("1500"), "NGN"
    )
    paid = [e.amount.amount for e in await gig.earnings(emeka.id)]
    # two deliveries, three legs driven (6.5 + 7.2 + 7.2 km), the bonus
    assert sum(paid) == 2 * Decimal("500") + Decimal("120") * Decimal("20.9") + Decimal("1500")


async def test_a_problem_reported_twice_at_once_reaches_the_operator_once(
    services: Services,
) -> None:
    """Two presses (the IVR and the app, or a retried request, each naming the door) at the
    same moment: one report on record, one SMS to the operator, one door handed over and the
    door after it still Emeka's."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    ref = await order(services, NGOZI, "k-problem")
    later = await order(services, CHIDI, "k-problem-2")
    task = await gig.create_task(
        route("R-pb", [(ref, NGOZI, "12 Broad St"), (later, CHIDI, "4 Marina")], services=services)
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    reports = await asyncio.gather(
        *(
            gig.report_problem(task.id, emeka.id, IncidentKind.CUSTOMER_ABSENT, position=1)
            for _ in range(2)
        )
    )
    assert sorted(r.already for r in reports) == [False, True]
    assert reports[0].incident == reports[1].incident
    assert await gig.incidents(task.id) == [IncidentKind.CUSTOMER_ABSENT.value]
    [alert] = texts_to(await services.notifications.for_recipient(OPERATOR))
    assert "Emeka" in alert
    stops = (await gig.task(task.id)).stops
    assert [s.status for s in stops] == [StopStatus.ESCALATED, StopStatus.PENDING]
    [waiting] = await gig.escalations()
    assert (waiting.order_reference, waiting.reason) == (ref, IncidentKind.CUSTOMER_ABSENT)
    with pytest.raises(ValueError, match="a driver reports one of"):
        await gig.report_problem(task.id, emeka.id, IncidentKind.CODE_FAILED)


async def test_a_stop_reported_before_reports_handed_stops_over_lets_the_driver_go_on(
    services: Services,
) -> None:
    """A report on record from before this release left its stop open: reporting it again
    texts nobody, and hands the stop over now."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    ref = await order(services, NGOZI, "k-old-report")
    later = await order(services, CHIDI, "k-old-report-2")
    task = await gig.create_task(
        route("R-old", [(ref, NGOZI, "12 Broad St"), (later, CHIDI, "4 Marina")], services=services)
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    earlier = Incident(
        uuid.uuid4(), task.id, emeka.id, 1, IncidentKind.CUSTOMER_ABSENT, services.clock.now()
    )
    async with services.db.transaction() as s:
        await SqlGigRepository(s).add_incident(earlier)

    again = await gig.report_problem(task.id, emeka.id, IncidentKind.CUSTOMER_ABSENT, position=1)

    assert (again.already, again.incident.id) == (True, earlier.id)
    stops = (await gig.task(task.id)).stops
    assert [s.status for s in stops] == [StopStatus.ESCALATED, StopStatus.PENDING]
    assert [e.order_reference for e in await gig.escalations()] == [ref]
    assert texts_to(await services.notifications.for_recipient(OPERATOR)) == []


async def test_a_vehicle_problem_hands_every_open_door_over_and_frees_the_driver(
    services: Services,
) -> None:
    """The van breaks down after the first door: the two doors left go to the operator (one
    SMS), the route closes without its bonus, and each is settled as three wrong codes are."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    refs = [await order(services, c, f"k-van-{i}") for i, c in enumerate((NGOZI, CHIDI, NGOZI))]
    for ref in refs:
        await packed(services, ref)
    task = await gig.create_task(
        route("R-van", [(r, NGOZI, f"{i} Broad St") for i, r in enumerate(refs)], services=services)
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    proved = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, NGOZI, refs[0]))
    assert proved.outcome is CodeCheck.DELIVERED

    report = await gig.report_problem(task.id, emeka.id, IncidentKind.VEHICLE)

    assert (report.already, report.incident.position) == (False, 2)
    after = await gig.task(task.id)
    assert after.status is TaskStatus.COMPLETED
    assert [s.status for s in after.stops] == [
        StopStatus.DELIVERED,
        StopStatus.ESCALATED,
        StopStatus.ESCALATED,
    ]
    assert await gig.current_task(emeka.id) is None
    assert [(e.order_reference, e.reason) for e in await gig.escalations()] == [
        (refs[1], IncidentKind.VEHICLE),
        (refs[2], IncidentKind.VEHICLE),
    ]
    assert len(texts_to(await services.notifications.for_recipient(OPERATOR))) == 1
    assert [e.kind for e in await gig.earnings(emeka.id)] == [
        EarningKind.STOP,
        EarningKind.DISTANCE,
    ]
    # Asked again for the door it was reported at, after the route closed: the same report.
    again = await gig.report_problem(task.id, emeka.id, IncidentKind.VEHICLE, position=2)
    assert (again.already, again.incident) == (True, report.incident)

    resolved = await gig.resolve_escalation(refs[2], StopStatus.RETURNED)
    assert resolved.already is False
    assert (await services.orders.get(refs[2])).status is OrderStatus.RETURNED


async def test_a_drivers_earnings_add_up_by_route_over_his_regions_days(
    services: Services,
) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    ref = await order(services, NGOZI, "k-earned")
    task = await gig.create_task(route("R-ea", [(ref, NGOZI, "12 Broad St")], services=services))
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    proved = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, NGOZI, ref))
    assert proved.earned is not None
    day = local_date(RegionCode.LAGOS, services.clock.now())

    period = await gig.earned(emeka.id, day - timedelta(days=7), day)
    assert (period.total, period.stops) == (proved.earned, 1)
    [one] = period.tasks
    assert (one.reference, one.total, one.stops) == (task.reference, proved.earned, 1)
    before = await gig.earned(emeka.id, day - timedelta(days=7), day - timedelta(days=1))
    assert (before.total, before.tasks) == (Money(Decimal(0), "NGN"), ())


async def test_a_failed_queueing_of_a_delivery_code_is_sent_when_the_driver_accepts_again(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox refuses Chidi's code once (a database blip as Emeka takes the route): the
    route is not taken, Emeka's retry takes it, and each customer gets one code, which proves
    the delivery."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    first = await order(services, NGOZI, "code-blip-a")
    second = await order(services, CHIDI, "code-blip-b")
    task = await gig.create_task(
        route(
            "R-code-blip",
            [(first, NGOZI, "12 Broad St"), (second, CHIDI, "4 Marina")],
            services=services,
        )
    )
    [offer] = await gig.allocate()

    queue_in = services.notifications.queue_in
    refused: list[str] = []

    async def refusing_once(s: object, message: Any, **kwargs: Any) -> bool:
        if message.to == CHIDI and not refused:
            refused.append(message.dedupe_key)
            raise ConnectionResetError("connection reset by peer")
        return await queue_in(s, message, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services.notifications, "queue_in", refusing_once)
    with pytest.raises(ConnectionResetError):
        await gig.accept(offer.id)
    assert refused
    assert (await gig.task(task.id)).status is TaskStatus.OFFERED
    assert (await gig.accept(offer.id)).worker_id == emeka.id  # the driver taps accept again

    for customer, reference in ((NGOZI, first), (CHIDI, second)):
        told: list[object] = [*await services.notifications.for_recipient(customer)]
        [sms] = [t for t in texts_to(told) if "code" in t]
        assert reference in sms
    await gig.arrive(task.id, emeka.id)
    hit = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, NGOZI, first))
    assert hit.outcome is CodeCheck.DELIVERED
    last = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, CHIDI, second))
    assert last.outcome is CodeCheck.DELIVERED


async def test_orders_left_behind_by_a_blip_as_the_driver_accepts_are_dispatched_on_his_retry(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database drops the connection once as Chidi's order is moved to dispatched, after
    Emeka took the route: the acceptance is undone with it, so his retry is not refused (offer
    closed) and both customers' orders read 'dispatched', each with one code."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    first = await order(services, NGOZI, "dispatch-blip-a")
    second = await order(services, CHIDI, "dispatch-blip-b")
    for reference in (first, second):
        for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
            await services.orders.advance(reference, status)
    task = await gig.create_task(
        route(
            "R-dispatch-blip",
            [(first, NGOZI, "12 Broad St"), (second, CHIDI, "4 Marina")],
            services=services,
        )
    )
    [offer] = await gig.allocate()

    set_status = SqlOrderRepository.set_status
    refused: list[str] = []

    async def refusing_once(
        repo: SqlOrderRepository, moved: Any, was: OrderStatus, now: Any = None
    ) -> None:
        if moved.reference == second and moved.status is OrderStatus.DISPATCHED and not refused:
            refused.append(moved.reference)
            raise ConnectionResetError("connection reset by peer")
        await set_status(repo, moved, was, now)

    monkeypatch.setattr(SqlOrderRepository, "set_status", refusing_once)
    with pytest.raises(ConnectionResetError):
        await gig.accept(offer.id)
    assert refused
    assert (await gig.accept(offer.id)).worker_id == emeka.id  # the driver taps accept again

    assert (await gig.task(task.id)).status is TaskStatus.ASSIGNED
    for customer, reference in ((NGOZI, first), (CHIDI, second)):
        assert (await services.orders.get(reference)).status is OrderStatus.DISPATCHED
        told: list[object] = [*await services.notifications.for_recipient(customer)]
        [sms] = [t for t in texts_to(told) if "code" in t]
        assert reference in sms


async def test_a_door_proved_as_the_database_connection_drops_still_delivers_the_order(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The right code is keyed and the stop's proof commits; the order's own write comes next,
    and the connection drops there (a failover; a gateway killed there leaves the same). Keyed
    again, the code is refused as the stop is closed: the order must not be left out for
    delivery for good (no invoice made final, no delivered SMS, no credit term started)."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    ref = await order(services, NGOZI, "k-door-drop")
    await packed(services, ref)
    task = await gig.create_task(route("R-drop", [(ref, NGOZI, "12 Broad St")], services=services))
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    assert (await services.orders.get(ref)).status is OrderStatus.DISPATCHED
    code = await code_for(services, NGOZI, ref)

    async def connection_dropped(*args: Any, **kwargs: Any) -> None:
        raise ConnectionResetError("connection to the database lost")

    monkeypatch.setattr(services.orders, "advance", connection_dropped)
    with contextlib.suppress(ConnectionResetError):
        await gig.confirm_delivery(task.id, emeka.id, code)
    monkeypatch.undo()
    with pytest.raises(TaskStateError):
        await gig.confirm_delivery(task.id, emeka.id, code)  # his app's retry

    assert (await gig.task(task.id)).status is TaskStatus.COMPLETED
    assert (await services.orders.get(ref)).status is OrderStatus.DELIVERED
