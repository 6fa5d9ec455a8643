"""Where the money paid for an order went once the order was cancelled or returned: one rule
for every screen that says it (My orders and the one-order screen on USSD, SMS and WhatsApp,
the apps' `payment { refund }`), so none says "paid" or "refunded" for money she does not have
back.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from engines.orders.model import Order, OrderStatus, PaymentMethod
from engines.payments.model import Direction, IntentStatus, PaymentIntent, refunded_in_full

ENDED = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED})


class MoneyBack(StrEnum):
    ON_ITS_WAY = "on_its_way"  # a refund is asked of the rail (or about to be), not confirmed
    REFUNDED = "refunded"  # every payment that succeeded was given back in full, as confirmed
    KEPT = "kept"  # back on her account, as credit (paid from it)


def money_back(order: Order, intents: Sequence[PaymentIntent]) -> MoneyBack | None:
    """Where the money of a paid order that was cancelled or returned is (None: the order is
    not one, or nothing shows it was paid on its rail). `intents`: the order's payments."""
    if order.paid_at is None or order.status not in ENDED:
        return None
    if order.payment_method is PaymentMethod.ACCOUNT_CREDIT:
        return MoneyBack.KEPT
    paid = [
        i
        for i in intents
        if i.direction is Direction.COLLECT and i.status is IntentStatus.SUCCEEDED
    ]
    if not paid:
        return None
    if refunded_in_full(intents):
        return MoneyBack.REFUNDED
    return MoneyBack.ON_ITS_WAY
