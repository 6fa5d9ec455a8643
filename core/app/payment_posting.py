"""Money that arrived at a rail goes on the ledger: a bus subscriber between payments and books.

Lives in core.app because it joins two bounded contexts (payments emits, the ledger posts);
neither engine imports the other. Events arrive at least once; the posting is idempotent by
(rail, receipt), so a redelivered event posts nothing twice.
"""

from __future__ import annotations

from decimal import Decimal

from core.bus import EventBus, EventEnvelope
from core.money import Money
from core.phone import Phone
from engines.ledger import Books
from engines.payments.events import PaymentSucceeded

COLLECT = "collect"


class PaymentPosting:
    def __init__(self, books: Books) -> None:
        self._books = books

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "payment-posting", self.on_succeeded)

    async def on_succeeded(self, envelope: EventEnvelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.direction != COLLECT:
            return  # payouts are posted by the payout service when the rail confirms
        received = Money(Decimal(event.received), event.currency)
        await self._books.post_payment_received(
            Phone(event.customer), received, event.provider, event.receipt or event.intent_id
        )
