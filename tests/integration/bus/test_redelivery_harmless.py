"""Every production consumer's effect is keyed: an event delivered again changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from core.app.bootstrap import Services
from core.bus.tables import outbox, processed_events
from core.db import metadata
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder

NGOZI = Phone("+2348030000001")
IGNORED = {outbox.name, processed_events.name}


async def everything(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    async with services.db.transaction() as s:
        return {
            table.name: sorted(
                (tuple(map(str, row)) for row in await s.execute(select(table))), key=str
            )
            for table in metadata.sorted_tables
            if table.name not in IGNORED
        }


async def test_every_event_delivered_again_to_every_consumer_changes_nothing(
    services: Services,
) -> None:
    """A relay crashed after publishing but before marking sent (or a Kafka consumer before
    its commit): the whole outbox is delivered a second time. No SMS, ledger entry, invoice,
    credit note or route change is made twice."""
    orders = services.orders
    kept, dropped = [
        await orders.place(
            PlaceOrder(
                customer=NGOZI,
                region=RegionCode.LAGOS,
                lines=(CartLine("DRK-WATR-75", 2),),
                payment_method=PaymentMethod.ON_DELIVERY,
                idempotency_key=key,
            )
        )
        for key in ("kept", "dropped")
    ]
    for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
        await orders.advance(kept.reference, status)
    await orders.advance(kept.reference, OrderStatus.DISPATCHED)
    await orders.deliver(kept.reference, {"DRK-WATR-75": 1})
    await orders.advance(dropped.reference, OrderStatus.CANCELLED)
    await services.relay.drain()
    once = await everything(services)
    for effects in ("deliveries", "invoices", "credit_notes", "ledger_transfers"):
        assert once[effects], effects

    async with services.db.transaction() as s:
        await s.execute(update(outbox).values(sent_at=None))
    assert await services.relay.drain() > 5

    assert await everything(services) == once
