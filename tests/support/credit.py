"""A retailer with enough delivered orders for a credit line, for the tests that buy on credit."""

from __future__ import annotations

import itertools

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.phone import Phone
from core.region import region_for_phone
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder

DAY = 86_400
DELIVERED = (
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.DISPATCHED,
    OrderStatus.DELIVERED,
)
_keys = itertools.count(1)


async def credit_history(
    services: Services, clock: SteppedClock, customer: str, sku: str = "NDL-INDO-CHK"
) -> None:
    """Three delivered orders of ten cartons over forty days: enough for a credit line."""
    for _ in range(3):
        order = await services.orders.place(
            PlaceOrder(
                Phone(customer),
                region_for_phone(Phone(customer)).code,
                (CartLine(sku, 10),),
                PaymentMethod.ON_DELIVERY,
                f"history-{next(_keys)}",
            )
        )
        for status in DELIVERED:
            await services.orders.advance(order.reference, status)
        clock.advance(20 * DAY)
