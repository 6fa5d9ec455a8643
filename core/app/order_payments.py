"""An order's checkout payments (or the cash taken at its door) and whether their rail gives
money back: what the refunders (core.app.refunds), the credit-note texts (core.app.subscribers)
and `omniroute orders return` all read the same way."""

from __future__ import annotations

from dataclasses import dataclass

from core.phone import Phone
from engines.orders import Order, OrderService, OrderStatus, PaymentMethod, UnknownOrderError
from engines.payments import Direction, IntentStatus, PaymentIntent, PaymentService


def checkout_payments(intents: list[PaymentIntent], reference: str) -> list[PaymentIntent]:
    """The order's collected checkout payments (and their Pay again), not credit repayments."""
    key = f"order:{reference}"
    return sorted(
        (
            i
            for i in intents
            if i.direction is Direction.COLLECT
            and i.status is IntentStatus.SUCCEEDED
            and (i.idempotency_key == key or i.idempotency_key.startswith(f"{key}:"))
        ),
        key=lambda i: (i.created_at, str(i.id)),
    )


ENDED = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED})


def late_money(order: Order, paid: PaymentIntent) -> bool:
    """A checkout payment that came for an order already cancelled or returned: the late money
    refunder gives it back, or tells her it is kept as her credit (a credit repayment that
    names the order is not one: it pays her credit line down)."""
    return order.status in ENDED and bool(checkout_payments([paid], order.reference))


def cash_taken(order: Order) -> bool:
    """Whether she paid a pay-on-delivery order in cash at its door (it was delivered): no
    rail gives that back, so what she gives back of it stays on her account as credit."""
    return order.payment_method is PaymentMethod.ON_DELIVERY and order.paid_at is not None


def can_refund(payments: PaymentService, provider: str) -> bool:
    """Whether the rail a payment came by can give money back (MTN MoMo cannot)."""
    return hasattr(payments.rail(provider), "refund")


@dataclass(frozen=True, slots=True)
class PaidFor:
    """The checkout payments that paid for an order: its own, or, for a back-order born paid,
    its original's (`earlier`: the delivered orders before it, first placed first). `tag`
    keeps a back-order's refunds of those payments apart from the original's ("" for an
    order's own payments, "<REF>:" for a back-order's)."""

    payments: list[PaymentIntent]
    tag: str
    earlier: list[Order]


async def paid_for(payments: PaymentService, orders: OrderService, order: Order) -> PaidFor:
    if not order.paid_by_original:
        own = checkout_payments(await payments.for_order(order.reference), order.reference)
        return PaidFor(own, "", [])
    *earlier, _ = await orders.lineage(order)
    first = earlier[0] if earlier else order
    paid = checkout_payments(await payments.for_order(first.reference), first.reference)
    return PaidFor(paid, f"{order.reference}:", earlier)


async def customer_of(orders: OrderService, reference: str | None, named: str) -> Phone:
    """Whose money an event about order `reference` moves: the order's customer now, not the
    one the event `named` when it was queued (she may have changed her number since; her
    bill, payments and credit are all under the new one). An event of no order, or of an
    order not known here, is the customer it names."""
    if reference is not None:
        try:
            return (await orders.get(reference)).customer
        except UnknownOrderError:
            pass
    return Phone(named)
