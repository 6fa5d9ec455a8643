"""A driver paid on M-Pesa, which pays whole shillings: over any run of days, every shilling
sent is a whole one, and what was sent plus what is carried is exactly what was earned."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.app.payouts import pays_whole_units, whole_units_due
from core.money import Money
from core.region import RegionCode

DAYS = st.lists(
    st.decimals(min_value=Decimal("0.00"), max_value=Decimal("5000.00"), places=2), max_size=30
)


@given(DAYS)
def test_sent_plus_carried_is_what_was_earned_and_sent_is_whole_shillings(
    days: list[Decimal],
) -> None:
    earned_before = Decimal(0)
    total_sent = Decimal(0)
    carried = Money(Decimal(0), "KES")
    for earned in days:
        sent, carried = whole_units_due(earned_before, Money(earned, "KES"))
        assert sent.amount == sent.amount.to_integral_value()
        assert sent.amount >= 0
        assert Decimal(0) <= carried.amount < 1
        earned_before += earned
        total_sent += sent.amount
        assert total_sent + carried.amount == earned_before


def test_only_mpesa_pays_whole_units() -> None:
    """NIP pays kobo and Paystack Transfers pay cents: Lagos and Cape Town carry nothing."""
    assert pays_whole_units(RegionCode.NAIROBI)
    assert not pays_whole_units(RegionCode.LAGOS)
    assert not pays_whole_units(RegionCode.CAPE_TOWN)
