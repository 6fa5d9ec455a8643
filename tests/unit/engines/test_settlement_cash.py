"""Hypothesis: whatever a driver took day after day and whatever he handed in (never more than
he took), the settlement's split of each day's cash is what handing the oldest cash in first
leaves: each day's cash is what he still holds of it plus what was handed in, neither below
zero, and what he still holds of all the days is what he holds."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.money import Money
from engines.settlement import still_held

amounts = st.decimals(min_value=Decimal(0), max_value=Decimal("50000.00"), places=2)


def ngn(amount: Decimal) -> Money:
    return Money(amount, "NGN")


@given(days=st.lists(amounts, min_size=1, max_size=8), percent=st.integers(0, 100))
def test_the_cash_on_the_road_plus_what_was_handed_in_is_what_was_collected(
    days: list[Decimal], percent: int
) -> None:
    took = sum(days, Decimal(0))
    handed = min((took * percent / 100).quantize(Decimal("0.01")), took)
    holds = ngn(took - handed)

    # the oracle: his hand-overs paid off the oldest days first
    left = handed
    expected = []
    for day in days:
        paid = min(left, day)
        left -= paid
        expected.append(ngn(day - paid))

    on_the_road = [
        still_held(ngn(day), ngn(sum(days[n + 1 :], Decimal(0))), holds)
        for n, day in enumerate(days)
    ]
    assert on_the_road == expected
    for day, held in zip(days, on_the_road, strict=True):
        assert Money.zero("NGN") <= held <= ngn(day)  # so handed in is day - held, never < 0
    assert sum(on_the_road, Money.zero("NGN")) == holds
