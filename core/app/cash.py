"""Cash taken at the door for pay-on-delivery orders, on the ledger: a bus subscriber between
orders, the gig platform and the books.

When such an order is delivered (its code proved on the drivers' IVR or app, or an operator
settled its door), she paid the driver what arrived: her receivable is cleared against that
driver's cash account (one per driver, in his region's currency), once per delivery however
often its event is relayed. A delivery no driver's route carried is taken at the depot. The
order itself was marked paid in the delivery's own transaction (engines.orders).
"""

from __future__ import annotations

from decimal import Decimal

import structlog

from core.app.money import DISTRIBUTORS
from core.bus import EventBus, EventEnvelope
from core.money import Money
from core.phone import Phone
from engines.gig import GigService
from engines.ledger import Books, chart
from engines.orders import OrderService, PaymentMethod
from engines.orders.events import OrderDelivered
from engines.settlement import Distributor

log = structlog.get_logger(__name__)


def distributor_for(currency: str) -> Distributor:
    """The distributor whose depot takes the cash of a region paying in `currency`."""
    return next(d for d in DISTRIBUTORS if d.currency == currency)


class CashCollection:
    def __init__(self, books: Books, orders: OrderService, gig: GigService) -> None:
        self._books = books
        self._orders = orders
        self._gig = gig

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderDelivered.topic, "cash-collection", self)

    async def __call__(self, envelope: EventEnvelope) -> None:
        event = OrderDelivered.model_validate(envelope.data)
        order = await self._orders.get(event.reference)
        if order.payment_method is not PaymentMethod.ON_DELIVERY:
            return
        # what she owes for what arrived (a short delivery's invoice less its credit note)
        collected = Money(Decimal(event.total), order.total.currency)
        if collected.amount <= 0:
            return
        driver = await self._gig.carrier(event.reference)
        if driver is None:
            log.warning("cash.collected_without_driver", order=event.reference)
            holder = chart.depot_cash(distributor_for(collected.currency).name, collected.currency)
        else:
            holder = chart.driver_cash(driver.phone, collected.currency)
        await self._books.cash_collected(event.reference, Phone(event.customer), collected, holder)
