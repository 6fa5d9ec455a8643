"""Money that arrived at a rail goes on the ledger: a bus subscriber between payments and books.

Lives in core.app because it joins two bounded contexts (payments emits, the ledger posts);
neither engine imports the other. Events arrive at least once; the posting is idempotent by
(rail, receipt), so a redelivered event posts nothing twice.
"""

from __future__ import annotations

from decimal import Decimal

from core.app.order_payments import ENDED, customer_of
from core.bus import EventBus, EventEnvelope
from core.money import Money
from core.phone import Phone
from engines.credit import CreditService, CreditStatus
from engines.ledger import Books, chart
from engines.orders import OrderService, PaymentMethod, UnknownOrderError
from engines.payments.events import PaymentFailed, PaymentSucceeded, UnmatchedFundsReceived

COLLECT = "collect"
REFUND = "refund"


class PaymentPosting:
    """A payment for an order bought on credit repays the credit line (oldest credit first);
    any other payment, and money that matched no payment, is money received against the
    customer's account."""

    def __init__(self, books: Books, credit: CreditService, orders: OrderService) -> None:
        self._books = books
        self._credit = credit
        self._orders = orders

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "payment-posting", self.on_succeeded)
        bus.subscribe(UnmatchedFundsReceived.topic, "payment-posting", self.on_unmatched)
        bus.subscribe(PaymentFailed.topic, "refund-failed-credit", self.on_failed)

    async def on_failed(self, envelope: EventEnvelope) -> None:
        """A refund the rail refused or failed leaves the money on her account, as her credit
        (it was never posted off it): while she owes on credit, it repays that at once."""
        event = PaymentFailed.model_validate(envelope.data)
        if event.direction == REFUND:
            customer = await customer_of(self._orders, event.order_reference, event.customer)
            await self._credit.spend_account_credit(customer, event.currency)

    async def on_succeeded(self, envelope: EventEnvelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.direction != COLLECT:
            return  # payouts are posted by the payout service when the rail confirms
        received = Money(Decimal(event.received), event.currency)
        customer = await customer_of(self._orders, event.order_reference, event.customer)
        receipt = event.receipt or event.intent_id
        if event.order_reference is not None and await self._on_credit(event.order_reference):
            await self._credit.repay(customer, received, event.provider, receipt)
        else:
            await self._books.post_payment_received(customer, received, event.provider, receipt)
            if received.amount > Decimal(event.amount) or await self._ended(event.order_reference):
                # paid more than the order, or for an order already cancelled or returned: what
                # no rail gives back is her credit, and repays what she owes (the books leave
                # out what a rail is still to give back)
                await self._credit.spend_account_credit(customer, received.currency)
        await self._fee(event.provider, event.fee, event.currency, receipt)

    async def on_unmatched(self, envelope: EventEnvelope) -> None:
        """A transfer into a customer's account that paid no order is still theirs: it repays
        what they owe on credit (oldest first, what is left kept on their account), else it is held
        at the rail, owed back to them (their account goes into credit). A part of an order's
        payment is posted as that order's payment (a credit order's repays its credit)."""
        event = UnmatchedFundsReceived.model_validate(envelope.data)
        customer = await customer_of(self._orders, event.order_reference, event.customer)
        received = Money(Decimal(event.amount), event.currency)
        receipt = event.receipt or str(event.event_id)
        if event.order_reference is not None:
            # A part of an order's payment: it pays that order, as the part completing it will.
            repays = await self._on_credit(event.order_reference)
        else:
            repays = await self.repays_credit(event)
        if repays:
            # money that named no order is receipted with what it paid (no plain receipt)
            tell = event.order_reference is None
            await self._credit.repay(customer, received, event.provider, receipt, tell=tell)
        else:
            await self._books.post_payment_received(customer, received, event.provider, receipt)
        await self._fee(event.provider, event.fee, event.currency, receipt)

    async def repays_credit(self, event: UnmatchedFundsReceived) -> bool:
        """Whether money that named no order repays credit: as it was taken the first time (a
        redelivered event follows it, whatever is owed now), else whether anything is owed on
        credit. The receipt SMS asks too: such money is receipted by the repayment's text."""
        customer, currency = Phone(event.customer), event.currency
        receipt = event.receipt or str(event.event_id)
        transfer = chart.transfer_id("payment", event.provider, receipt)
        posted = await self._books.ledger.get_transfer(transfer)
        if posted is not None:
            return posted.code == "repayment"
        return any(
            c.status is CreditStatus.OPEN and c.outstanding.currency == currency
            for c in await self._credit.credits(customer)
        )

    async def _fee(self, rail: str, fee: str | None, currency: str, receipt: str) -> None:
        """What the provider kept of the payment: it holds that much less for us, and the
        day's settlement nets it out of what the distributor is paid."""
        if fee is not None and Decimal(fee) > 0:
            await self._books.post_rail_fee(rail, Money(Decimal(fee), currency), receipt)

    async def _ended(self, reference: str | None) -> bool:
        if reference is None:
            return False
        try:
            order = await self._orders.get(reference)
        except UnknownOrderError:
            return False
        return order.status in ENDED

    async def _on_credit(self, reference: str) -> bool:
        try:
            order = await self._orders.get(reference)
        except UnknownOrderError:
            return False
        return order.payment_method is PaymentMethod.CREDIT
