"""Drivers, routes and delivery codes for the gig tests and the drivers' IVR journeys."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from engines.gig import (
    DeliveryRoute,
    DocumentKind,
    GeoPoint,
    Offer,
    OfferStatus,
    Onboard,
    RouteStop,
    Task,
    TaskStatus,
    Vehicle,
    VehicleKind,
    Worker,
)
from engines.gig.repository import SqlGigRepository
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.wms import PathPolicy

LAGOS_DEPOT = GeoPoint(6.4550, 3.3841)
EMEKA = Phone("+2348031000001")
BAYO = Phone("+2348031000002")
NGOZI = Phone("+2348030000001")
CHIDI = Phone("+2348030000002")
_CODE = re.compile(r"\b(\d{4})\b")


async def driver(
    services: Services,
    phone: Phone,
    name: str,
    *,
    capacity: int = 40,
    at: GeoPoint = LAGOS_DEPOT,
    region: RegionCode = RegionCode.LAGOS,
    locale: str | None = None,
) -> Worker:
    """An onboarded, documented driver on shift now, available at `at`."""
    gig = services.gig
    worker = await gig.onboard(
        Onboard(
            phone,
            name,
            "NIN12345678",
            region,
            Vehicle(VehicleKind.MOTORBIKE, "LAG-123-XY", capacity),
            locale,
        )
    )
    for kind in (DocumentKind.NATIONAL_ID, DocumentKind.DRIVING_LICENCE):
        await gig.upload_document(worker.id, kind, b"%PDF-1.4 scan", "application/pdf")
    now = services.clock.now()
    await gig.add_shift(worker.id, now - timedelta(hours=1), now + timedelta(hours=9))
    return await gig.set_available(worker.id, True, at)


async def order(services: Services, customer: Phone, key: str, quantity: int = 2) -> str:
    placed = await services.orders.place(
        PlaceOrder(
            customer=customer,
            region=RegionCode.LAGOS,
            lines=(CartLine("NDL-INDO-CHK", quantity),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key=key,
        )
    )
    return placed.reference


async def pick_and_pack(
    services: Services, references: Iterable[str], warehouse: str = "WH-LAGOS"
) -> None:
    """The warehouse walks each order's pick list to the end: the order is packed, and its
    route may be offered to a driver."""
    wms = services.warehouse
    for reference in references:
        pick = await wms.pick_list(warehouse, reference)
        _path, lines = await wms.path(pick.id, PathPolicy.OPTIMAL)
        for line in lines:
            await wms.confirm_pick(pick.id, line.position, line.quantity)


def route(
    route_id: str, stops: list[tuple[str, Phone, str]], *, units: int = 2, services: Services
) -> DeliveryRoute:
    """A route as the optimiser hands it over: stops in order, 3.5 km legs."""
    return DeliveryRoute(
        route_id=route_id,
        region=RegionCode.LAGOS,
        depot=LAGOS_DEPOT,
        departure=services.clock.now() + timedelta(minutes=30),
        stops=tuple(
            RouteStop(
                order_reference=ref,
                customer=customer,
                address=address,
                point=GeoPoint(6.46 + i / 100, 3.39 + i / 100),
                units=units,
                leg_km=Decimal("3.5"),
            )
            for i, (ref, customer, address) in enumerate(stops)
        ),
    )


async def code_for(services: Services, customer: Phone, reference: str) -> str:
    """The delivery code from the customer's SMS, as they would read it out."""
    for delivery in reversed(await services.notifications.for_recipient(customer)):
        reply = delivery.payload["reply"]
        assert isinstance(reply, dict)
        text = str(reply["text"])
        if reference in text:
            found = _CODE.search(text.replace(reference, ""))
            if found:
                return found.group(1)
    raise AssertionError(f"no delivery code SMS for {reference} to {customer}")


async def offered_in_a_race(services: Services, task: Task, worker_id: uuid.UUID) -> Offer:
    """What a second offer run (a replica, the sweeper) made while the driver was taken up."""
    now = services.clock.now()
    offer = Offer(
        uuid.uuid4(), task.id, worker_id, OfferStatus.OPEN, now, now + timedelta(minutes=5)
    )
    async with services.db.transaction() as s:
        repo = SqlGigRepository(s)
        assert await repo.move_task(task.id, TaskStatus.OPEN, TaskStatus.OFFERED)
        await repo.add_offer(offer)
    return offer
