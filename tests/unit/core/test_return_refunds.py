"""A paid order brought back after delivery is refunded from its payments, the oldest first:
whatever was charged, given back before, or is due for the goods that came back, the refunds
never give back more than was charged (nor more than the return is worth), and the same return
handled again asks for the same refunds."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.app.refunds import return_refunds, short_refund_due, unwound_back_order_due
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.orders import Order, OrderLine, OrderStatus, PaymentMethod
from engines.orders.model import split_delivery

CENT = Decimal("0.01")


def ngn(cents: int) -> Money:
    return Money(Decimal(cents) * CENT, "NGN")


payments = st.lists(
    st.integers(min_value=1, max_value=10**9).flatmap(
        lambda charged: st.tuples(st.just(charged), st.integers(min_value=0, max_value=charged))
    ),
    max_size=4,
)


@given(payments, st.integers(min_value=0, max_value=4 * 10**9))
def test_a_return_never_refunds_more_than_was_charged(
    paid: list[tuple[int, int]], due_cents: int
) -> None:
    charged = sum(c for c, _ in paid)
    given_back = sum(g for _, g in paid)
    left = [ngn(c - g) for c, g in paid]
    due = ngn(due_cents)

    parts = return_refunds(due, left)

    assert all(Money.zero("NGN") <= part <= rest for part, rest in zip(parts, left, strict=True))
    refunded = sum((p.amount for p in parts), Decimal(0))
    assert refunded + given_back * CENT <= charged * CENT
    assert refunded == min(due.amount, sum((r.amount for r in left), Decimal(0)))
    # handled again (a redelivered event): each payment's refund counts as what is left of it
    again = [part if part.amount > 0 else rest for part, rest in zip(parts, left, strict=True)]
    assert [p for p in return_refunds(due, again) if p.amount > 0] == [
        p for p in parts if p.amount > 0
    ]


@given(payments, st.data())
def test_a_short_delivery_then_a_return_never_refund_more_than_was_charged(
    paid: list[tuple[int, int]], data: st.DataObject
) -> None:
    """The first payment is the order's charge (any other a double charge); what arrived costs
    up to all of it. The short delivery gives back the rest, the return what arrived: together
    never more than was charged, of each payment or in all, and all of it when nothing else
    was given back."""
    if not paid:
        return
    charge = ngn(paid[0][0])
    arrived = ngn(data.draw(st.integers(min_value=0, max_value=paid[0][0])))
    left = [ngn(c - g) for c, g in paid]

    short = return_refunds(short_refund_due(charge, arrived), left)
    left_after = [rest - part for rest, part in zip(left, short, strict=True)]
    back = return_refunds(arrived, left_after)

    for (c, g), s, b in zip(paid, short, back, strict=True):
        assert Money.zero("NGN") <= s
        assert Money.zero("NGN") <= b
        assert (s + b).amount + g * CENT <= c * CENT
    refunded = sum((s.amount + b.amount for s, b in zip(short, back, strict=True)), Decimal(0))
    assert refunded <= charge.amount
    if all(g == 0 for _, g in paid):
        assert refunded == charge.amount  # she gets back all she paid for the order


@given(
    st.integers(min_value=2, max_value=40),
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=0, max_value=100),
    st.data(),
)
def test_a_back_order_born_paid_never_refunds_more_than_she_did_not_get(
    quantity: int, price_cents: int, discount_pct: int, data: st.DataObject
) -> None:
    """Short delivery with the rest kept for a back-order (born paid, nothing refunded), then
    the back-order cancelled or delivered short: what goes back plus what arrived costs is
    what she was charged, never more, and nothing is given back below zero."""
    first = data.draw(st.integers(min_value=0, max_value=quantity - 1))
    unit = ngn(price_cents)
    line = OrderLine("NDL-INDO-CHK", "Noodles", quantity, unit, ngn(0))
    line = replace(line, discount=Money(line.line_total.amount * discount_pct // 100, "NGN"))
    order = _order((line,))
    vat = Decimal("0.075")
    charge = split_delivery(order, {}, vat).delivered_amounts[3]  # what checkout charged
    split = split_delivery(order, {line.sku: first}, vat)
    arrived = split.delivered_amounts[3]
    back = replace(_order(split.rest), total=split.rest_amounts[3])

    cancelled = unwound_back_order_due(charge, [arrived], back.total)
    assert Money.zero("NGN") <= cancelled
    assert (cancelled + arrived).amount <= charge.amount

    second = data.draw(st.integers(min_value=0, max_value=split.rest[0].quantity))
    then = split_delivery(back, {line.sku: second}, vat).delivered_amounts[3]
    short = short_refund_due(charge, arrived + then)
    assert Money.zero("NGN") <= short
    assert (short + arrived + then).amount == max(charge.amount, (arrived + then).amount)


def _order(lines: tuple[OrderLine, ...]) -> Order:
    total = ngn(0)
    return Order(
        id=uuid.uuid4(),
        reference="ABC123",
        customer=Phone("+2348030000001"),
        region=RegionCode.LAGOS,
        lines=lines,
        subtotal=total,
        discount=total,
        tax=total,
        total=total,
        payment_method=PaymentMethod.PAYSTACK,
        status=OrderStatus.DISPATCHED,
        idempotency_key="k",
        created_at=datetime(2026, 12, 5, tzinfo=UTC),
    )
