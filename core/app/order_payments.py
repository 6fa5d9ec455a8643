"""An order's checkout payments and whether their rail gives money back: what the refunders
(core.app.refunds), the credit-note texts (core.app.subscribers) and `omniroute orders return`
all read the same way."""

from __future__ import annotations

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


def can_refund(payments: PaymentService, provider: str) -> bool:
    """Whether the rail a payment came by can give money back (MTN MoMo cannot)."""
    return hasattr(payments.rail(provider), "refund")
