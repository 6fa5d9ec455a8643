"""Pay again: when an order's checkout payment may be asked for anew, and under which key.

One rule for every channel that offers it (USSD/SMS/WhatsApp's My orders, the apps' payOrder):
only while the order is open and unpaid and every checkout payment of it failed or was
cancelled, so an order is never charged twice by asking again.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.money import Money
from engines.orders.model import Order, OrderStatus
from engines.payments.model import Direction, IntentStatus, PaymentIntent

# Orders that may still be paid (not cancelled, delivered, or returned).
PAYABLE = frozenset(
    {
        OrderStatus.PLACED,
        OrderStatus.CONFIRMED,
        OrderStatus.PICKING,
        OrderStatus.PACKED,
        OrderStatus.DISPATCHED,
    }
)
GAVE_UP = frozenset({IntentStatus.FAILED, IntentStatus.CANCELLED})


def payable_again(order: Order, intents: Sequence[PaymentIntent]) -> bool:
    """An open, unpaid order whose every checkout payment failed or expired: a new payment
    may be asked for. While one is still open (or one succeeded) none is, so an order is never
    charged twice by asking again."""
    key = f"order:{order.reference}"
    collected = [
        i
        for i in intents
        if i.direction is Direction.COLLECT
        and (i.idempotency_key == key or i.idempotency_key.startswith(f"{key}:"))
    ]
    return (
        order.status in PAYABLE
        and order.paid_at is None
        and bool(collected)
        and all(i.status in GAVE_UP for i in collected)
    )


def again_key(order: Order, intents: Sequence[PaymentIntent]) -> str:
    """Keyed by how many payments came before: a repeated request asks once."""
    return f"order:{order.reference}:again:{len(intents)}"


def repayment_key(order_reference: str, owed: Money, intents: Sequence[PaymentIntent]) -> str:
    """One repayment per credit and amount, so a retried screen (or a double tap) asks once;
    one the customer cancelled (or that failed) is asked again under the next key, as Pay
    again does. `intents` are the credit order's payments."""
    key = f"repay:{order_reference}:{owed.amount}"
    tried = [i for i in intents if i.idempotency_key.split(":again:")[0] == key]
    still_open = [i for i in tried if i.status not in GAVE_UP]
    if still_open:
        return still_open[-1].idempotency_key
    return f"{key}:again:{len(tried)}" if tried else key
