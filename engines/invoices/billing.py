"""Orders meet the money: an order placed gets its invoice and its hold on the ledger (on the
credit line when bought on credit), delivery makes the debt final, cancellation (or the goods
coming back undelivered) releases it, and goods coming back after delivery release a credit
order's credit and reverse any order's VAT.
An invoice is never changed: a cancelled order's invoice is credited in full, what did not
arrive of a partly delivered order is credited, and what arrived and came back, each by a
credit note.

A bus subscriber (events arrive at least once): every step is idempotent by the order
reference, so a redelivered event changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Protocol

import structlog

from core.bus import EventBus, EventEnvelope
from core.money import Money
from engines.credit import CreditError, CreditService, CreditStatus
from engines.invoices.model import CreditNote, KeptLine
from engines.invoices.service import InvoiceService, issue_for_order, issue_for_order_placed
from engines.ledger import Books, TransferRefusedError, TransferResult
from engines.orders import Order, OrderService, OrderStatus, RestPolicy
from engines.orders.events import OrderDelivered, OrderPlaced, OrderStatusChanged

log = structlog.get_logger(__name__)

CREDIT_METHOD = "CREDIT"
ACCOUNT_CREDIT_METHOD = "ACCOUNT_CREDIT"


class CreditNoteNotice(Protocol):
    """Tells the retailer of a credit note for goods she did not get or gave back, once per
    note (it is called again with the same note when an event is redelivered), with what
    becomes of her money: `owed`, what she owes on credit now (a credit order's return);
    `refunds`, whether what she paid for the note's goods is given back (not for a rest kept
    for its back-order)."""

    async def __call__(
        self, note: CreditNote, *, owed: Money | None = None, refunds: bool = True
    ) -> None: ...


class OrderBilling:
    def __init__(
        self,
        invoices: InvoiceService,
        books: Books,
        orders: OrderService,
        credit: CreditService | None = None,
        *,
        told: CreditNoteNotice | None = None,
    ) -> None:
        self._invoices = invoices
        self._books = books
        self._orders = orders
        self._credit = credit
        self._told = told

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderPlaced.topic, "order-billing", self.on_placed)
        bus.subscribe(OrderStatusChanged.topic, "order-billing", self.on_status_changed)
        bus.subscribe(OrderDelivered.topic, "order-billing", self.on_delivered)

    async def on_placed(self, envelope: EventEnvelope) -> None:
        event = OrderPlaced.model_validate(envelope.data)
        # her number now (she may have changed it since the event was queued), not the event's
        customer = (await self._orders.get(event.reference)).customer
        total = Money(Decimal(event.total), event.currency)
        due = None
        if event.payment_method == CREDIT_METHOD and self._credit is not None:
            try:
                # the checkout authorised it already: this returns the same credit
                due = (await self._credit.authorise(event.reference, customer, total)).due_on
            except CreditError:
                log.warning("billing.credit_refused_after_placement", order=event.reference)
        elif event.payment_method == ACCOUNT_CREDIT_METHOD and event.back_order_of is None:
            # Paid from the credit on her account: its hold is that payment, so it is taken only
            # where her credit covers it, whether this or the checkout comes first (a plain hold
            # here would let the checkout find it taken and spend her credit twice). Refused, the
            # checkout finds it so too and cancels the order.
            try:
                await self._books.order_paid_from_credit(event.reference, customer, total)
            except TransferRefusedError:
                log.warning("billing.account_credit_short", order=event.reference)
        else:
            await self._books.order_placed(event.reference, customer, total)
        invoice = issue_for_order_placed(event, due_on=due)
        await self._invoices.issue(replace(invoice, customer=customer))
        if (await self._orders.get(event.reference)).status is OrderStatus.CANCELLED:
            # The cancellation was handled first and found no hold to release: release the one
            # just taken (the same void, so whichever runs second changes nothing).
            await self._release(event.reference)

    async def on_status_changed(self, envelope: EventEnvelope) -> None:
        event = OrderStatusChanged.model_validate(envelope.data)
        if event.status == "delivered":
            order = await self._orders.get(event.reference)
            partly = any(
                li.delivered_quantity is not None and li.delivered_quantity < li.quantity
                for li in order.lines
            )
            if self._credit is not None:
                # bought on credit: its term runs from today, the day the goods arrived
                await self._credit.delivered(event.reference, event.occurred_at)
                if partly:
                    await self._credit.delivered_in_part(event.reference, order.total)
            # a partial delivery posts only what arrived; the rest of the hold is released
            await self._books.order_delivered(
                event.reference, order.tax, order.total if partly else None
            )
            if partly and await self._orders.back_order(order) is None:
                # the rest released: what she paid for it that no rail gives back is hers (a
                # rest kept for its back-order is that order's money)
                await self._spend_kept(order)
        elif event.status == "returned" and event.previous == "delivered":
            order = await self._orders.get(event.reference)
            # delivered on credit, then all brought back: the credit is released (its VAT too);
            # the credit note's text tells her what she owes now (one text for the return)
            on_credit = self._credit is not None and (
                await self._credit.returned(
                    event.reference, order.tax, quiet=self._told is not None
                )
                is not None
            )
            if not on_credit:
                await self._books.order_returned(
                    event.reference, order.customer, order.total, order.tax
                )
            # what she had (a short delivery's note credited the rest) is credited, once
            note = await self._invoices.credit_returned(
                event.reference, _kept(order), _totals(order), event.occurred_at
            )
            if note is None:
                log.warning("billing.return_without_invoice", order=event.reference)
            else:
                await self._tell(note, owed=await self._owed(order) if on_credit else None)
            await self._spend_kept(order)
        elif event.status == "cancelled" or (
            event.status == "returned" and event.previous == "dispatched"
        ):
            # Brought back before it was delivered: nothing is owed, as for a cancelled order.
            await self._credit_cancelled(event)
            await self._release(event.reference)
            await self._spend_kept(await self._orders.get(event.reference))

    async def _spend_kept(self, order: Order) -> None:
        """What the order's end or a short delivery left on her account as her credit (cash
        paid at its door, a rail without refunds, her account credit it was paid from, transfers
        short of it) repays what she owes on credit at once, not at the next credit pass, by the
        pass's own rule; money a rail is still to give back is not hers to spend (the books
        leave it out)."""
        if self._credit is not None:
            await self._credit.spend_account_credit(order.customer, order.total.currency)

    async def _release(self, reference: str) -> None:
        """Nothing is owed: release the order's hold (on the credit line too), if it has one."""
        if self._credit is not None:
            await self._credit.cancel(reference)  # releases the hold too
            return
        try:
            await self._books.order_cancelled(reference)
        except TransferRefusedError as refused:
            if refused.result is not TransferResult.PENDING_TRANSFER_NOT_FOUND:
                raise

    async def _credit_cancelled(self, event: OrderStatusChanged) -> None:
        # Topics are not ordered against each other: the cancellation may be handled before
        # the placement, so the invoice is made here if it is not there yet (the same one).
        if await self._invoices.for_order(event.reference) is None:
            order = await self._orders.get(event.reference)
            await self._invoices.issue(issue_for_order(order))
        await self._invoices.credit_cancelled(event.reference, event.occurred_at)

    async def on_delivered(self, envelope: EventEnvelope) -> None:
        """A partial delivery: the invoice's undelivered part is credited (once)."""
        event = OrderDelivered.model_validate(envelope.data)
        if all(line.delivered >= line.ordered for line in event.lines):
            return
        order = await self._orders.get(event.reference)
        note = await self._invoices.credit_undelivered(
            event.reference, _kept(order), _totals(order), event.occurred_at
        )
        if note is None:
            log.warning("billing.partial_delivery_without_invoice", order=event.reference)
        else:
            await self._tell(note, refunds=event.rest != RestPolicy.BACKORDER.value)

    async def _tell(
        self, note: CreditNote, *, owed: Money | None = None, refunds: bool = True
    ) -> None:
        # after the note is committed: a crash before it is told is told on the redelivery
        if self._told is not None and note.total.amount > 0:
            await self._told(note, owed=owed, refunds=refunds)

    async def _owed(self, order: Order) -> Money:
        """What the customer owes on credit, all her open credits together."""
        assert self._credit is not None
        return sum(
            (
                c.outstanding
                for c in await self._credit.credits(order.customer)
                if c.status is CreditStatus.OPEN
            ),
            Money.zero(order.total.currency),
        )


def _kept(order: Order) -> dict[str, KeptLine]:
    """What the customer kept of each line (by sku): the quantity delivered and its discount."""
    return {
        line.sku: KeptLine(
            line.quantity if line.delivered_quantity is None else line.delivered_quantity,
            line.discount,
        )
        for line in order.lines
    }


def _totals(order: Order) -> tuple[Money, Money, Money, Money]:
    return (order.subtotal, order.discount, order.tax, order.total)
