"""A payment given back in parts on a rail that pays whole units (M-Pesa B2C): the parts never
pay back more than was charged, add up to the refund rounded down, and the cents are recorded."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.money import Money
from core.phone import Phone
from engines.payments import Direction, IntentStatus, Method, PaymentIntent
from engines.payments.model import whole_refund_part

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
JUMA = Phone("+254711000001")
CENT = Decimal("0.01")


def kes(cents: int) -> Money:
    return Money(Decimal(cents) * CENT, "KES")


def paid(cents: int) -> PaymentIntent:
    return PaymentIntent(
        id=uuid.UUID(int=1),
        idempotency_key="order:W62ACJ",
        fingerprint="f",
        direction=Direction.COLLECT,
        method=Method.MPESA,
        provider="mpesa",
        customer=JUMA,
        amount=kes(cents),
        status=IntentStatus.SUCCEEDED,
        created_at=NOW,
        updated_at=NOW,
        receipt="QKA1",
    )


def part(
    original: PaymentIntent, n: int, amount: Money, earlier: list[PaymentIntent]
) -> PaymentIntent:
    details = {"refund_of": str(original.id), **whole_refund_part(amount, original, earlier)}
    return replace(
        original,
        id=uuid.UUID(int=100 + n),
        idempotency_key=f"refund:part-{n}",
        direction=Direction.REFUND,
        amount=amount,
        status=IntentStatus.PROCESSING,
        details=details,
    )


def total(intents: list[PaymentIntent], name: str) -> Decimal:
    return sum((Decimal(i.details[name]) for i in intents), Decimal(0))


def test_two_half_shilling_parts_pay_100_then_101_not_101_twice() -> None:
    original = paid(1_000_00)
    first = replace(part(original, 1, kes(100_50), []), status=IntentStatus.SUCCEEDED)
    second = part(original, 2, kes(100_50), [first])

    assert (first.details["pays"], first.details["kept"]) == ("100", "0.50")
    assert (second.details["pays"], second.details["carried_in"], second.details["kept"]) == (
        "101",
        "0.50",
        "0.00",
    )


@given(
    original_cents=st.integers(min_value=100, max_value=500_000_00),
    steps=st.lists(
        st.tuples(st.sampled_from(["ask", "paid", "failed"]), st.floats(0.0, 1.0)),
        max_size=12,
    ),
)
def test_parts_never_pay_back_more_than_was_charged_and_the_cents_are_recorded(
    original_cents: int, steps: list[tuple[str, float]]
) -> None:
    """Parts asked, paid and failed in any order: each pays whole shillings; those paid never
    add up to more than they give back (plus, once all is given back, what M-Pesa's rounding
    up charged); and what they did not pay is recorded as kept."""
    original = paid(original_cents)
    charged = original.amount.amount.to_integral_value(rounding=ROUND_CEILING)
    refunds: list[PaymentIntent] = []
    last: set[uuid.UUID] = set()  # the parts that gave back all that was left
    for n, (what, share) in enumerate(steps):
        open_ = [r for r in refunds if r.status is IntentStatus.PROCESSING]
        if what == "ask":
            given = sum(
                (r.amount.amount for r in refunds if r.status is not IntentStatus.FAILED),
                Decimal(0),
            )
            left = int((original.amount.amount - given) / CENT)
            if left <= 0:
                continue
            cents = max(1, round(left * share))
            refunds.append(part(original, n, kes(cents), list(refunds)))
            if cents == left:
                last.add(refunds[-1].id)
        elif open_:
            chosen = open_[int(share * (len(open_) - 1))]
            status = IntentStatus.SUCCEEDED if what == "paid" else IntentStatus.FAILED
            refunds[refunds.index(chosen)] = replace(chosen, status=status)

    for r in refunds:
        pays = Decimal(r.details["pays"])
        assert pays == pays.to_integral_value()
        assert pays >= 0
        assert Decimal(r.details["kept"]) >= 0
    done = [r for r in refunds if r.status is IntentStatus.SUCCEEDED]
    given_back = sum((r.amount.amount for r in done), Decimal(0))
    paid_back = total(done, "pays")
    # M-Pesa's rounding up is the customer's too, given back with the part that takes the rest
    rounding = charged - original.amount.amount if last & {r.id for r in done} else 0
    assert paid_back <= given_back + rounding
    # nothing lost: what the parts gave back and did not pay is what they recorded as kept
    assert given_back - paid_back == total(done, "kept") - total(done, "carried_in")


@given(parts=st.lists(st.integers(min_value=1, max_value=10_000_00), min_size=1, max_size=8))
def test_parts_paid_in_turn_add_up_to_the_refund_rounded_down(parts: list[int]) -> None:
    original = paid(sum(parts) + 37)  # something is left: no part gives back all of it
    refunds: list[PaymentIntent] = []
    for n, cents in enumerate(parts):
        asked = part(original, n, kes(cents), refunds)
        refunds.append(replace(asked, status=IntentStatus.SUCCEEDED))

    refunded = sum((r.amount.amount for r in refunds), Decimal(0))
    assert total(refunds, "pays") == refunded.to_integral_value(rounding=ROUND_FLOOR)
    assert all(Decimal(r.details["kept"]) < 1 for r in refunds)
    # the rest, given back last, pays all that was charged
    rest = part(original, len(parts), kes(37), refunds)
    charged = original.amount.amount.to_integral_value(rounding=ROUND_CEILING)
    assert total([*refunds, rest], "pays") == charged
