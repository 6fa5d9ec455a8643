"""Refunds through the rails: give back (part of) an order's payment on the rail it came by,
and reverse its posting on the ledger once the rail says the money went back.

Joins payments, orders and the ledger, so it lives in the composition layer. The refund's
idempotency key is the caller's (the fulfilment workflow's activity key), so a retried activity
asks the rail once; the ledger posting is keyed on the refund intent, so a redelivered event
posts once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import ClassVar

import structlog

from core.app.order_payments import can_refund, checkout_payments, late_money, paid_for
from core.app.subscribers import CustomerSms
from core.bus import EventBus, EventEnvelope
from core.i18n import Translator
from core.money import Money
from engines.customers import CustomerService
from engines.ledger import Books
from engines.notifications import NotificationService
from engines.orders import Order, OrderService, OrderStatus, RestPolicy, UnknownOrderError
from engines.orders.events import OrderDelivered, OrderStatusChanged
from engines.payments import (
    Direction,
    IntentStatus,
    PaymentError,
    PaymentIntent,
    PaymentService,
    RefundRefusedError,
)
from engines.payments.events import PaymentFailed, PaymentSucceeded

log = structlog.get_logger(__name__)

DELIVERED = OrderStatus.DELIVERED.value


def pending_lines(refunds: list[PaymentIntent]) -> list[str]:
    """`omniroute refunds pending`: one line per refund still open, what it waits on after a
    colon, and a count."""
    lines = []
    for r in refunds:
        line = (
            f"{r.created_at:%Y-%m-%d %H:%M} {r.provider} {r.amount.format()} "
            f"order {r.order_reference or '-'} refund {r.id.hex} {r.status.value}"
        )
        lines.append(f"{line}: {r.attention}" if r.attention else line)
    waiting = sum(1 for r in refunds if r.attention)
    lines.append(f"{len(refunds)} refunds pending, {waiting} waiting on someone")
    return lines


class NothingToRefundError(Exception):
    """The order has no collected payment to give back."""


class RefundDesk:
    def __init__(self, payments: PaymentService) -> None:
        self._payments = payments

    async def refund_order(
        self, order_reference: str, amount: Money, *, key: str, reason: str = "Refund"
    ) -> PaymentIntent:
        """Refund `amount` of the order's collected payment (its first that succeeded);
        refused (RefundRefusedError) when less than `amount` is left of it."""
        paid = await self._first_paid(order_reference)
        return await self._payments.refund(paid.id, amount, key=f"refund:{key}", reason=reason)

    async def refund_up_to(
        self, order_reference: str, amount: Money, *, key: str, reason: str = "Refund"
    ) -> PaymentIntent:
        """Like `refund_order`, but an operator's earlier partial refund is taken into account:
        only what is left of `amount` goes back (an unwound order gives back what was paid,
        not more). NothingToRefundError when everything was given back already."""
        paid = await self._first_paid(order_reference)
        key = f"refund:{key}"
        left = await self._payments.left_to_refund(paid.id, key=key)
        if left.amount <= 0:
            raise NothingToRefundError(f"{order_reference}: its payment was given back already")
        if left.currency == amount.currency and left.amount < amount.amount:
            amount = left
        return await self._payments.refund(paid.id, amount, key=key, reason=reason)

    async def _first_paid(self, order_reference: str) -> PaymentIntent:
        intents = await self._payments.for_order(order_reference)
        paid = [
            i
            for i in intents
            if i.direction is Direction.COLLECT and i.status is IntentStatus.SUCCEEDED
        ]
        if not paid:
            raise NothingToRefundError(order_reference)
        return paid[0]


class DoubleChargeRefunder:
    """An order is charged once. "Pay again" offers a new payment only when every earlier one
    failed or expired, but an expired payment may still succeed late (money that arrives is
    never refused): when a second checkout payment of an order succeeds, the later-created
    one is refunded in full on its own rail (once: the refund is keyed on that payment)."""

    def __init__(self, payments: PaymentService) -> None:
        self._payments = payments

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "double-charge", self.on_succeeded)

    async def on_succeeded(self, envelope: EventEnvelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.direction != Direction.COLLECT.value or not event.order_reference:
            return
        intents = await self._payments.for_order(event.order_reference)
        paid = checkout_payments(intents, event.order_reference)
        for extra in paid[1:]:
            why = f"Order {event.order_reference} was paid twice"
            if await refund_what_is_left(self._payments, extra, f"refund:double:{extra.id}", why):
                log.warning("payments.double_charge_refunded", intent=str(extra.id))


async def refund_what_is_left(
    payments: PaymentService, paid: PaymentIntent, key: str, reason: str
) -> bool:
    """Refund all of `paid` that no earlier refund gave back (an operator's partial refund
    stays given), once per key. False when nothing was sent: nothing was left (logged), or
    the rail refused (logged for an operator)."""
    left = await payments.left_to_refund(paid.id, key=key)
    if left.amount <= 0:
        log.info("payments.nothing_left_to_refund", intent=str(paid.id), key=key)
        return False
    try:
        await payments.refund(paid.id, left, key=key, reason=reason)
    except PaymentError as exc:
        log.error("payments.refund_not_sent", intent=str(paid.id), key=key, error=str(exc))
        return False
    return True


class UnwoundOrderRefunder:
    """With workflows off (`OMNIROUTE_TEMPORAL=off`) no workflow unwinds an order, so a paid order
    that is cancelled, or returned before delivery, is refunded here: each collected checkout
    payment, all of it that was not given back yet, on its own rail, once (keyed on that
    payment; a redelivered event asks nothing twice)."""

    UNWOUND = frozenset({"cancelled", "returned"})

    def __init__(self, payments: PaymentService) -> None:
        self._payments = payments

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderStatusChanged.topic, "unwound-order-refund", self.on_status_changed)

    async def on_status_changed(self, envelope: EventEnvelope) -> None:
        event = OrderStatusChanged.model_validate(envelope.data)
        if event.status not in self.UNWOUND or event.previous == DELIVERED:
            return  # brought back after delivery: ReturnedOrderRefunder gives back what came back
        intents = await self._payments.for_order(event.reference)
        for paid in checkout_payments(intents, event.reference):
            why = f"Order {event.reference} {event.status}"
            await refund_what_is_left(self._payments, paid, f"refund:unwound:{paid.id}", why)


def return_refunds(due: Money, left: Sequence[Money]) -> list[Money]:
    """What each payment (oldest first, with what is `left` of it to give back) refunds of a
    return worth `due`: the oldest first, never more than is left of one, never more than
    `due` in all."""
    parts = []
    for each in left:
        part = min(max(each, Money.zero(due.currency)), due)
        parts.append(part)
        due = due - part
    return parts


async def returned_refunds(
    payments: PaymentService, orders: OrderService, order: Order
) -> list[tuple[PaymentIntent, str, Money]]:
    """What a return after delivery gives back of each checkout payment that paid for it
    (oldest first; a back-order born paid: its original's): the payment, the refund's key and
    the amount (zero: nothing of that one). Read again for a redelivery, it answers the same
    (what a key's refund took already counts as left for it)."""
    paid_by = await paid_for(payments, orders, order)
    paid = paid_by.payments
    keys = [f"refund:returned:{paid_by.tag}{p.id}" for p in paid]
    left = [await payments.left_to_refund(p.id, key=k) for p, k in zip(paid, keys, strict=True)]
    return list(zip(paid, keys, return_refunds(order.total, left), strict=True))


class OrderMoneySubscriber(CustomerSms):
    """What the subscribers over an order's money share: the payments and orders they read, and
    giving back parts of an order's payments on the rails they came in on, once per refund key,
    telling the customer by SMS what a rail refused (and, `only_refundable` off, what a rail
    without refunds keeps as her credit)."""

    def __init__(
        self,
        notifications: NotificationService,
        customers: CustomerService,
        translate: Translator,
        provider: str,
        *,
        payments: PaymentService,
        orders: OrderService,
        whatsapp: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(notifications, customers, translate, provider, whatsapp=whatsapp)
        self._payments = payments
        self._orders = orders

    async def _give_back(
        self,
        order: Order,
        refunds: Iterable[tuple[PaymentIntent, str, Money]],
        *,
        why: str,
        kind: str,
        message: str,
        key_prefix: str,
        tell_prefix: str,
        only_refundable: bool = True,
    ) -> None:
        """Refund each (payment, key, part); a part refused or failed at once stays her credit
        and is told (`message`, keyed `tell_prefix:` + the refund key after `key_prefix`), once."""
        for payment, key, part in refunds:
            if part.amount <= 0:
                continue
            try:
                refund = await self._payments.refund(payment.id, part, key=key, reason=why)
            except RefundRefusedError:
                log.warning(f"payments.{kind}_refund_raced", intent=str(payment.id))
                continue  # another refund (an operator's) took it meanwhile
            except PaymentError as exc:
                log.error(
                    f"payments.{kind}_refund_not_sent", intent=str(payment.id), error=str(exc)
                )
            else:
                if refund.status is not IntentStatus.FAILED:
                    continue
            if only_refundable and not can_refund(self._payments, payment.provider):
                continue  # the credit note's text says it stays her credit: one text, not two
            await self.send(
                payment.customer,
                f"{tell_prefix}:{key.removeprefix(key_prefix)}",
                message,
                order_key=order.idempotency_key,
                amount=part.format(),
                reference=order.reference,
            )


class ReturnedOrderRefunder(OrderMoneySubscriber):
    """A paid order delivered and then brought back: what was paid for the goods that came back
    (what was delivered: the whole order, or what arrived of a short delivery, whose rest
    ShortDeliveryRefunder gave back) is refunded on the rail it was paid on, the oldest
    checkout payment first, once (each refund keyed on its payment, so a redelivered event or
    a crash between steps asks no rail twice).
    Its order workflow has ended at delivery, so this runs with workflows on or off. Where the
    rail cannot give it back (MTN MoMo has no refund; the rail refused), it stays on the
    customer's account, where the return's reversal of the sale put it. A rail that has no
    refund is said so in the return's credit-note text (CreditNoteSms: one text per return); a
    rail that refused is told by its own SMS (on WhatsApp when she ordered there and her window
    is open), once."""

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderStatusChanged.topic, "returned-order-refund", self.on_status_changed)

    async def on_status_changed(self, envelope: EventEnvelope) -> None:
        event = OrderStatusChanged.model_validate(envelope.data)
        if event.status != OrderStatus.RETURNED.value or event.previous != DELIVERED:
            return
        order = await self._orders.get(event.reference)
        await self._give_back(
            order,
            await returned_refunds(self._payments, self._orders, order),
            why=f"Order {order.reference} returned after delivery",
            kind="return",
            message="sms.return_credited",
            key_prefix="refund:returned:",
            tell_prefix="return-credit",
        )


def short_refund_due(charged: Money, delivered: Money) -> Money:
    """What a short delivery gives back of an order paid upfront: what it was `charged` (its
    first checkout payment; a second is a double charge, given back whole) less what arrived
    costs (`delivered`, the order's total after the delivery); never below zero."""
    return max(charged - delivered, Money.zero(delivered.currency))


def unwound_back_order_due(charged: Money, earlier: Sequence[Money], total: Money) -> Money:
    """What a back-order born paid gives back when none of it arrives: what it costs (`total`),
    but never more than the original payment (`charged`) less what arrived of the orders
    before it (`earlier`, their delivered totals; VAT is rounded on each part)."""
    return min(total, short_refund_due(charged, sum(earlier, Money.zero(total.currency))))


class ShortDeliveryRefunder(OrderMoneySubscriber):
    """A paid order delivered short: what was paid for the goods that did not arrive (what it
    was charged less what the delivery says arrived costs) is refunded on the rail it was paid
    on, the oldest checkout payment first, once (keyed `refund:short:<payment>`; a redelivered
    event or a crash between steps asks no rail twice). A return later gives back the rest
    (ReturnedOrderRefunder): never more than was charged. Where the rail cannot give it back
    (MTN MoMo has no refund; the rail refused) it stays on her account, where the delivery's
    posting of only what arrived left it: the short delivery's credit-note text says so for a
    rail without refunds, a refusal gets its own SMS, once. The undelivered rest kept for a
    back-order is not refunded: its money is the back-order's."""

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderDelivered.topic, "short-delivery-refund", self.on_delivered)

    async def on_delivered(self, envelope: EventEnvelope) -> None:
        event = OrderDelivered.model_validate(envelope.data)
        if event.rest != RestPolicy.RELEASE.value:
            return  # delivered in full, or the rest kept for its back-order
        order = await self._orders.get(event.reference)
        paid_by = await paid_for(self._payments, self._orders, order)
        paid = paid_by.payments
        if not paid:
            return  # nothing paid upfront: she owes only what arrived
        # a back-order born paid: its original's payment paid for what arrived of both
        arrived = Money(Decimal(event.total), order.total.currency)
        due = short_refund_due(paid[0].amount, sum((o.total for o in paid_by.earlier), arrived))
        keys = [f"refund:short:{paid_by.tag}{p.id}" for p in paid]
        left = [
            await self._payments.left_to_refund(p.id, key=k)
            for p, k in zip(paid, keys, strict=True)
        ]
        await self._give_back(
            order,
            zip(paid, keys, return_refunds(due, left), strict=True),
            why=f"Order {order.reference} delivered short",
            kind="short",
            message="sms.short_credited",
            key_prefix="refund:short:",
            tell_prefix="short-credit",
        )


class CancelledBackOrderRefunder(OrderMoneySubscriber):
    """A back-order born paid (its original's payment paid for it) that is cancelled, or comes
    back before it was delivered: what was paid for it (its total) goes back on the rail the
    original was paid on, the oldest checkout payment first, once (keyed
    `refund:cancelled:<back-order>:<payment>`; a redelivered event asks no rail twice). Neither
    its workflow nor UnwoundOrderRefunder refunds it (it has no payment of its own), so this
    runs with workflows on or off. Where the rail cannot give it back (MTN MoMo; a refusal) it
    stays her credit, where the original's payment left it, and she is told so once by SMS."""

    UNWOUND = frozenset({OrderStatus.CANCELLED.value, OrderStatus.RETURNED.value})

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderStatusChanged.topic, "back-order-refund", self.on_status_changed)

    async def on_status_changed(self, envelope: EventEnvelope) -> None:
        event = OrderStatusChanged.model_validate(envelope.data)
        if event.status not in self.UNWOUND or event.previous == DELIVERED:
            return  # brought back after delivery: ReturnedOrderRefunder gives back what came back
        order = await self._orders.get(event.reference)
        if not order.paid_by_original:
            return  # an order's own payments: its workflow or UnwoundOrderRefunder
        paid_by = await paid_for(self._payments, self._orders, order)
        keys = [f"refund:cancelled:{paid_by.tag}{p.id}" for p in paid_by.payments]
        left = [
            await self._payments.left_to_refund(p.id, key=k)
            for p, k in zip(paid_by.payments, keys, strict=True)
        ]
        why = f"Back-order {order.reference} {event.status}"
        if not paid_by.payments:
            return
        earlier = [o.total for o in paid_by.earlier]
        due = unwound_back_order_due(paid_by.payments[0].amount, earlier, order.total)
        await self._give_back(
            order,
            zip(paid_by.payments, keys, return_refunds(due, left), strict=True),
            why=why,
            kind="back_order",
            message="sms.back_order_credited",
            key_prefix="refund:cancelled:",
            tell_prefix="back-order-credit",
            only_refundable=False,
        )


class LateMoneyRefunder(OrderMoneySubscriber):
    """Money for an order that was already cancelled (or returned) when it came — an M-Pesa
    prompt paid after the cancel, a card or a transfer that landed late — is not kept: it goes
    back in full on its own rail, once (keyed on the payment, so a callback delivered twice or a
    redelivered event refunds nothing twice), and they are told it is being sent back, once per
    payment (an order that came back to the warehouse is not called cancelled). Where the rail
    cannot give it back (MTN MoMo has no refund; the rail refused), it stays on the customer's
    account, where the payment was posted, and they are told so by SMS, once."""

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "late-money-refund", self.on_succeeded)

    async def on_succeeded(self, envelope: EventEnvelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.direction != Direction.COLLECT.value or not event.order_reference:
            return
        try:
            order = await self._orders.get(event.order_reference)
        except UnknownOrderError:
            return
        paid = await self._payments.get(uuid.UUID(event.intent_id))
        if not late_money(order, paid):
            return  # an open order's (its workflow takes it from here), or a credit repayment
        if paid.received_in_parts.amount > 0:
            # Sent in parts: the earlier ones are only counted on this payment (no rail gives
            # them back) and a refund takes no more than the last transfer brought, so a refund
            # of the order is refused. All she sent for it stays on her account, where each part
            # was posted, as her parts do when the order is cancelled before the last: the
            # order's price told here, anything beyond it by the overpayment text.
            # "In all": the cancellation text may have named the parts already.
            await self.send(
                paid.customer,
                f"late-money-credit:{paid.id}",
                "sms.late_parts_credited",
                amount=paid.payable.format(),
                reference=order.reference,
            )
            return
        key = f"refund:late:{paid.id}"
        left = await self._payments.left_to_refund(paid.id, key=key)
        if left.amount <= 0:
            return  # given back already (the order's unwind, an operator)
        why = f"Order {order.reference} {order.status.value} before the payment came"
        try:
            refund = await self._payments.refund(paid.id, left, key=key, reason=why)
        except RefundRefusedError:
            return  # another refund (the order's unwind, a double charge) took it meanwhile
        except PaymentError as exc:
            log.error("payments.late_refund_not_sent", intent=str(paid.id), error=str(exc))
        else:
            if refund.status is not IntentStatus.FAILED:
                log.warning("payments.late_payment_refunded", intent=str(paid.id))
                said = "sms.late_payment_refunding"
                if order.status is OrderStatus.RETURNED:  # not cancelled: it came back to us
                    said = "sms.late_payment_refunding_returned"
                await self.send(
                    paid.customer,
                    f"late-money-refund:{paid.id}",
                    said,
                    amount=left.format(),
                    reference=order.reference,
                )
                return
        # Kept on the customer's account (the payment's posting credited it): say so, once.
        await self.send(
            paid.customer,
            f"late-money-credit:{paid.id}",
            "sms.late_payment_credited",
            amount=left.format(),
            reference=order.reference,
        )


class FailedRefundSms(OrderMoneySubscriber):
    """A refund the rail took and then failed (an M-Pesa B2C or reversal whose result says it
    did not go, a Paystack refund that failed): the money stays on her account, where the
    refund's posting never moved it, while the credit note told her it was being refunded. She
    is told it is kept as her credit, with the text the refunder sends for a refund refused at
    once (the same dedupe key, so a refusal, or a failure told twice, is one text). A rail
    without refunds (MoMo) is said so in the credit note's text: nothing more; but an unwound
    order's or a second payment's money, which no other text announces, is told here on such a
    rail too (the same one text, once per payment)."""

    TEXTS: ClassVar[dict[str, tuple[str, str]]] = {
        "refund:short:": ("short-credit:", "sms.short_credited"),
        "refund:returned:": ("return-credit:", "sms.return_credited"),
        "refund:cancelled:": ("back-order-credit:", "sms.back_order_credited"),
        "refund:late:": ("late-money-credit:", "sms.late_payment_credited"),
    }
    # Refunds no customer text announced, each told under its own key (once per refund):
    # an unwound order's (workflows off: UnwoundOrderRefunder; on: the workflow's refund, keyed
    # on its activity, "order-<REF>:refund") and a second payment's (DoubleChargeRefunder).
    OWN_TEXTS: ClassVar[dict[str, tuple[str, str]]] = {
        "refund:unwound:": ("unwound-credit:", "sms.unwound_credited"),
        "refund:order-": ("unwound-credit:order-", "sms.unwound_credited"),
        "refund:double:": ("double-charge-credit:", "sms.double_charge_credited"),
    }

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentFailed.topic, "failed-refund-sms", self.on_failed)

    async def on_failed(self, envelope: EventEnvelope) -> None:
        event = PaymentFailed.model_validate(envelope.data)
        if event.direction != Direction.REFUND.value:
            return
        refund = await self._payments.get(uuid.UUID(event.intent_id))
        key = refund.idempotency_key
        if refund.order_reference is None:
            return
        known = next(((p, t) for p, t in self.TEXTS.items() if key.startswith(p)), None)
        own = next(((p, t) for p, t in self.OWN_TEXTS.items() if key.startswith(p)), None)
        if known is not None:
            if not can_refund(self._payments, event.provider):
                return  # the credit note's (or the late refunder's) text said it stays her credit
            prefix, (dedupe, text) = known
            rest = key.removeprefix(prefix)
            # a back-order's refund of its original's payment is keyed "<back-order>:<payment>"
            reference = rest.split(":")[0] if ":" in rest else refund.order_reference
        elif own is not None:
            prefix, (dedupe, text) = own
            rest, reference = key.removeprefix(prefix), refund.order_reference
            if not can_refund(self._payments, event.provider):
                # every refund of it fails the same way: the payment kept is told once, whether
                # as a second payment or, later, as the cancelled order's
                dedupe, rest = "kept-credit:", str(refund.refund_of)
        else:
            return  # not a refund the customer is told of
        order = await self._orders.get(reference)
        await self.send(
            refund.customer,
            f"{dedupe}{rest}",
            text,
            order_key=order.idempotency_key,
            amount=refund.amount.format(),
            reference=order.reference,
        )


class RefundPosting:
    """A refund the rail confirmed reverses the payment's posting: the rail holds less, the
    customer's account is owed again what it had paid (once per refund)."""

    def __init__(self, books: Books, payments: PaymentService) -> None:
        self._books = books
        self._payments = payments

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "refund-posting", self.on_succeeded)

    async def on_succeeded(self, envelope: EventEnvelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.direction != Direction.REFUND.value:
            return
        refund = await self._payments.get(uuid.UUID(event.intent_id))
        original = await self._payments.get(refund.refund_of) if refund.refund_of else None
        payment_ref = (original.receipt or original.id.hex) if original else refund.id.hex
        await self._books.post_refund(
            refund.customer,  # her number now (the event's may be one she has changed since)
            Money(Decimal(event.received), event.currency),  # a reversal gives back all of it
            event.provider,
            refund.id.hex,
            payment_ref=payment_ref,
        )
