"""A driver paid on M-Pesa, which pays whole shillings: over any run of days, every shilling
sent is a whole one, and what was sent plus what is carried is exactly what was earned, though
some days' payouts fail for good (their money goes out with a later payout)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.app.payouts import pays_whole_units, whole_units_due
from core.money import Money
from core.region import RegionCode

EARNED = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("5000.00"), places=2)
DAYS = st.lists(st.tuples(EARNED, st.booleans()), max_size=30)


@given(DAYS)
def test_sent_plus_carried_is_what_was_earned_though_payouts_fail(
    days: list[tuple[Decimal, bool]],
) -> None:
    earned_before = sent_before = Decimal(0)
    carried = Money(Decimal(0), "KES")
    for earned, fails in days:
        sent, carried = whole_units_due(earned_before, sent_before, Money(earned, "KES"))
        assert sent.amount == sent.amount.to_integral_value()
        assert sent.amount >= 0
        earned_before += earned
        if not fails:
            assert Decimal(0) <= carried.amount < 1  # all but the cents went out
            sent_before += sent.amount
        assert sent_before + carried.amount + (sent.amount if fails else 0) == earned_before
    if days and not days[-1][1]:
        assert sent_before + carried.amount == earned_before


@given(st.lists(EARNED, min_size=1, max_size=30), EARNED)
def test_the_cents_payouts_rounded_down_one_by_one_go_out_with_the_next(
    before: list[Decimal], today: Decimal
) -> None:
    """Before cents were carried, each payout sent its own floor: the next one makes up what
    they lost, as it counts what they really sent."""
    really_sent = sum((d.quantize(Decimal(1), rounding=ROUND_FLOOR) for d in before), Decimal(0))
    sent, carried = whole_units_due(sum(before, Decimal(0)), really_sent, Money(today, "KES"))
    assert really_sent + sent.amount + carried.amount == sum(before, Decimal(0)) + today
    assert Decimal(0) <= carried.amount < 1


def test_only_mpesa_pays_whole_units() -> None:
    """NIP pays kobo and Paystack Transfers pay cents: Lagos and Cape Town carry nothing."""
    assert pays_whole_units(RegionCode.NAIROBI)
    assert not pays_whole_units(RegionCode.LAGOS)
    assert not pays_whole_units(RegionCode.CAPE_TOWN)
