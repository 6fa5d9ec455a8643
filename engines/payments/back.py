"""Where the money paid for an order went once the order was cancelled or returned: one rule
for every screen that says it (My orders and the one-order screen on USSD, SMS and WhatsApp,
the apps' `payment { refund }`), so none says "paid" or "refunded" for money she does not have
back.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from engines.orders.model import Order, OrderStatus, PaymentMethod
from engines.payments.model import (
    Direction,
    IntentStatus,
    PaymentIntent,
    refunded_in_full,
    sent_in_parts,
)

ENDED = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED})


class MoneyBack(StrEnum):
    ON_ITS_WAY = "on_its_way"  # a refund is asked of the rail (or about to be), not confirmed
    DELAYED = "delayed"  # the rail holds the refund until someone acts (`attention`)
    REFUNDED = "refunded"  # every payment that succeeded was given back in full, as confirmed
    KEPT = "kept"  # on her account, as credit: paid from it, or no rail gives it back


def money_back(order: Order, intents: Sequence[PaymentIntent]) -> MoneyBack | None:
    """Where the money of an order cancelled or returned is (None: the order is not one, or
    nothing shows she paid for it). `intents`: the order's payments; for a back-order born
    paid, its first order's (`Order.paid_by_original`: those paid for it, and its refunds are
    theirs, keyed `refund:<why>:<back-order>:<payment>`).

    Kept as her credit: paid from it; cash paid at the door (no rail gives it back); what
    transfers short of the order brought (none is a payment of its own); a payment whose
    refund failed (MTN MoMo has none) with no other asked since: the refund's posting never
    moved it off her account."""
    if order.status not in ENDED:
        return None
    if order.paid_at is None:
        return MoneyBack.KEPT if sent_in_parts(intents) is not None else None
    if order.payment_method in (PaymentMethod.ACCOUNT_CREDIT, PaymentMethod.ON_DELIVERY):
        return MoneyBack.KEPT
    if order.paid_by_original:
        mine = [
            i
            for i in intents
            if i.direction is Direction.REFUND
            and i.idempotency_key.split(":")[2:3] == [order.reference]
        ]
        if mine and all(r.status is IntentStatus.SUCCEEDED for r in mine):
            return MoneyBack.REFUNDED
        return _waiting(mine, kept=False)
    paid = [
        i
        for i in intents
        if i.direction is Direction.COLLECT and i.status is IntentStatus.SUCCEEDED
    ]
    if not paid:
        return None
    if refunded_in_full(intents):
        return MoneyBack.REFUNDED
    refunds = [i for i in intents if i.direction is Direction.REFUND]
    return _waiting(refunds, kept=any(p.received_in_parts.amount > 0 for p in paid))


def _waiting(refunds: Sequence[PaymentIntent], *, kept: bool) -> MoneyBack:
    """Money not all given back yet: on its way while a refund is open (delayed while the rail
    waits on someone), kept as her credit once one failed with none asked since (or when no
    rail can give it back, `kept`), on its way while none was asked yet."""
    asked = [r for r in refunds if r.is_open]
    if any(r.attention for r in asked):
        return MoneyBack.DELAYED
    if asked:
        return MoneyBack.ON_ITS_WAY
    if kept or any(r.status is IntentStatus.FAILED for r in refunds):
        return MoneyBack.KEPT
    return MoneyBack.ON_ITS_WAY
