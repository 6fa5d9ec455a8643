"""Events a newer release wrote are read by this one: a rolling deploy loses nothing."""

from __future__ import annotations

from sqlalchemy import select, update

from core.app.bootstrap import Services
from core.bus.tables import outbox
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.orders.events import OrderPlaced

NGOZI = Phone("+2348030000001")


async def test_an_event_with_a_field_added_by_a_newer_release_is_handled_once(
    services: Services,
) -> None:
    order = await services.orders.place(
        PlaceOrder(
            customer=NGOZI,
            region=RegionCode.LAGOS,
            lines=(CartLine("DRK-WATR-75", 1),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key="newer-release",
        )
    )
    # The next release adds an optional field to OrderPlaced and writes it before this one stops.
    async with services.db.transaction() as s:
        row = (
            await s.execute(
                select(outbox.c.id, outbox.c.envelope).where(outbox.c.topic == OrderPlaced.topic)
            )
        ).one()
        envelope = dict(row.envelope)
        envelope["data"] = {**envelope["data"], "gift_note": "Happy birthday"}
        await s.execute(update(outbox).where(outbox.c.id == row.id).values(envelope=envelope))

    await services.relay.drain()
    await services.relay.drain()

    texts = await services.notifications.for_recipient(NGOZI)
    assert len(texts) == 1
    assert texts[0].dedupe_key.startswith("order-placed-sms:")
    assert order.reference in str(texts[0].payload)
    assert await services.relay.unsent() == 0
