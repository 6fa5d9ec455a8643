"""A cancelled order's payment is owed back whole: whatever an operator gave back of it before
(confirmed, on its way, or failed) and wherever its unwind's refund is (not asked, on its way,
confirmed, failed), what is still to be asked, what is on its way, what came back and what is
kept as her credit add up to what she paid, none of it negative: never spendable twice, never
lost (RefundsInFlight's OwedBack)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.app.money import OwedBack
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.orders import Order, OrderLine, OrderStatus, PaymentMethod
from engines.payments import Direction, IntentStatus, Method, PaymentIntent

NGOZI = Phone("+2348030000001")
AT = datetime(2026, 12, 5, tzinfo=UTC)
CENT = Decimal("0.01")
SETTLED = (IntentStatus.PROCESSING, IntentStatus.SUCCEEDED, IntentStatus.FAILED)


def ngn(cents: int) -> Money:
    return Money(Decimal(cents) * CENT, "NGN")


def intent(
    key: str, amount: Money, status: IntentStatus, of: PaymentIntent | None
) -> PaymentIntent:
    return PaymentIntent(
        id=uuid.uuid4(),
        idempotency_key=key,
        fingerprint="f",
        direction=Direction.COLLECT if of is None else Direction.REFUND,
        method=Method.PAYSTACK,
        provider="paystack",
        customer=NGOZI,
        amount=amount,
        status=status,
        created_at=AT,
        updated_at=AT,
        order_reference="ABC123",
        details={} if of is None else {"refund_of": str(of.id)},
    )


CANCELLED = Order(
    id=uuid.uuid4(),
    reference="ABC123",
    customer=NGOZI,
    region=RegionCode.LAGOS,
    lines=(OrderLine("NDL-INDO-CHK", "Noodles", 3, ngn(100), ngn(0)),),
    subtotal=ngn(0),
    discount=ngn(0),
    tax=ngn(0),
    total=ngn(0),
    payment_method=PaymentMethod.PAYSTACK,
    status=OrderStatus.CANCELLED,
    idempotency_key="k",
    created_at=AT,
)


@given(
    st.integers(min_value=100, max_value=10**9),
    st.lists(st.tuples(st.integers(1, 10**9), st.sampled_from(SETTLED)), max_size=3),
    st.sampled_from([None, *SETTLED]),
)
def test_a_cancelled_orders_payment_is_owed_back_whole_never_twice(
    charged: int, operator: list[tuple[int, IntentStatus]], unwind: IntentStatus | None
) -> None:
    paid = intent("order:ABC123", ngn(charged), IntentStatus.SUCCEEDED, None)
    refunds = []
    left = charged
    for n, (cents, status) in enumerate(operator):  # each within what is left, as the rail's
        if min(cents, left) > 0:
            refunds.append(intent(f"refund:op-{n}", ngn(min(cents, left)), status, paid))
            left -= min(cents, left) if status is not IntentStatus.FAILED else 0
    if unwind is not None and left > 0:  # the unwind's refund: all that is left
        refunds.append(intent(f"refund:unwound:{paid.id}", ngn(left), unwind, paid))

    owed = OwedBack([paid, *refunds], lambda provider: True)
    owed.unwound(CANCELLED)

    to_ask = sum(owed.parts, Decimal(0))
    by_status = {
        s: sum((r.amount.amount for r in refunds if r.status is s), Decimal(0)) for s in SETTLED
    }
    kept = sum(
        (
            r.amount.amount
            for r in refunds
            if r.status is IntentStatus.FAILED and r.idempotency_key.startswith("refund:unwound:")
        ),
        Decimal(0),
    )
    assert to_ask >= 0
    on_its_way = by_status[IntentStatus.PROCESSING]
    assert to_ask + on_its_way + by_status[IntentStatus.SUCCEEDED] + kept == charged * CENT
