"""The stated credit rules: limits from history, terms, reminders, late fees, FIFO repayments."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money
from engines.credit import (
    CreditHistory,
    CreditOrder,
    CreditStatus,
    DeliveredOrder,
    ReminderKind,
    apply_repayment,
    charge_late_fee,
    decide_limit,
    falls_due,
    late_fee_due,
    late_fee_owed,
    reduced_to,
    reminder_due,
)
from engines.credit.model import is_overdue, returned

TODAY = date(2026, 6, 1)


def ngn(amount: int | str) -> Money:
    return Money(Decimal(amount), "NGN")


def orders(*days_ago_and_amounts: tuple[int, int]) -> list[DeliveredOrder]:
    return [DeliveredOrder(TODAY - timedelta(days=d), ngn(a)) for d, a in days_ago_and_amounts]


def test_no_credit_before_three_orders_over_thirty_days() -> None:
    assert decide_limit(
        CreditHistory(orders((40, 90_000), (20, 90_000))), "NGN", TODAY
    ).limit == ngn(0)
    young = CreditHistory(orders((29, 90_000), (20, 90_000), (1, 90_000)))
    assert decide_limit(young, "NGN", TODAY).limit == ngn(0)


def test_limit_is_half_a_usual_month_rounded_down_to_a_thousand() -> None:
    # NGN 270,500 in 90 days = 90,166.67 a month; half is 45,083.33 -> 45,000, 7-day term
    decision = decide_limit(
        CreditHistory(orders((80, 100_000), (50, 100_000), (10, 70_500))), "NGN", TODAY
    )
    assert decision.limit == ngn(45_000)
    assert decision.term_days == 7


def test_orders_older_than_ninety_days_count_for_history_not_for_the_amount() -> None:
    decision = decide_limit(
        CreditHistory(orders((200, 9_000_000), (60, 30_000), (30, 30_000))), "NGN", TODAY
    )
    assert decision.limit == ngn(10_000)  # 60,000 / 3 months / 2


@pytest.mark.parametrize(("count", "term"), [(3, 7), (5, 14), (9, 14), (10, 30)])
def test_longer_terms_come_with_more_orders(count: int, term: int) -> None:
    history = CreditHistory(orders(*[(35 + i, 60_000) for i in range(count)]))
    assert decide_limit(history, "NGN", TODAY).term_days == term


def test_late_repayments_halve_the_limit_and_anything_overdue_stops_it() -> None:
    base = orders((80, 120_000), (50, 120_000), (10, 120_000))
    assert decide_limit(CreditHistory(base), "NGN", TODAY).limit == ngn(60_000)
    late = CreditHistory(base, late_repayments=[TODAY - timedelta(days=20)])
    assert decide_limit(late, "NGN", TODAY).limit == ngn(30_000)
    long_ago = CreditHistory(base, late_repayments=[TODAY - timedelta(days=200)])
    assert decide_limit(long_ago, "NGN", TODAY).limit == ngn(60_000)
    assert decide_limit(CreditHistory(base, overdue_now=True), "NGN", TODAY).limit == ngn(0)


def test_the_limit_is_capped() -> None:
    huge = CreditHistory(orders((80, 90_000_000), (50, 1), (10, 1)))
    assert decide_limit(huge, "NGN", TODAY).limit == ngn(2_000_000)


def _credit(
    due: date,
    outstanding: int = 10_000,
    *,
    late_fee_charged: bool = False,
    reminded_due_soon: bool = False,
    reminded_overdue: bool = False,
) -> CreditOrder:
    return CreditOrder(
        "W62ACJ",
        ngn(10_000),
        ngn(outstanding),
        due,
        CreditStatus.OPEN,
        late_fee_charged=late_fee_charged,
        reminded_due_soon=reminded_due_soon,
        reminded_overdue=reminded_overdue,
    )


def test_reminders_come_two_days_before_and_the_day_after_once_each() -> None:
    due = date(2026, 6, 10)
    assert reminder_due(_credit(due), date(2026, 6, 7)) is None
    assert reminder_due(_credit(due), date(2026, 6, 8)) is ReminderKind.DUE_SOON
    assert reminder_due(_credit(due, reminded_due_soon=True), date(2026, 6, 9)) is None
    assert reminder_due(_credit(due, reminded_due_soon=True), date(2026, 6, 10)) is None
    assert reminder_due(_credit(due, reminded_due_soon=True), date(2026, 6, 11)) is (
        ReminderKind.OVERDUE
    )
    assert reminder_due(_credit(due, reminded_overdue=True), date(2026, 6, 20)) is None


def test_an_undelivered_credit_is_not_due_until_its_term_after_delivery() -> None:
    waiting = CreditOrder("W62ACK", ngn(10_000), ngn(10_000), None, CreditStatus.OPEN, term_days=14)
    months_later = date(2026, 9, 1)
    assert reminder_due(waiting, months_later) is None
    assert late_fee_due(waiting, months_later) is None
    assert not is_overdue(waiting, months_later)
    arrived = falls_due(waiting, date(2026, 6, 3))
    assert arrived.due_on == date(2026, 6, 17)
    assert falls_due(arrived, date(2026, 6, 9)) == arrived  # a second report moves nothing
    # a repayment pays what is due before what is not
    paid, _ = apply_repayment([waiting, _credit(date(2026, 6, 10))], ngn(10_000), TODAY)
    assert [(c.order_reference, c.status) for c in paid] == [
        ("W62ACJ", CreditStatus.REPAID),
        ("W62ACK", CreditStatus.OPEN),
    ]


def test_the_late_fee_is_two_percent_of_what_is_owed_after_three_days_grace_once() -> None:
    due = date(2026, 6, 10)
    assert late_fee_due(_credit(due, 7_500), date(2026, 6, 13)) is None
    assert late_fee_due(_credit(due, 7_500), date(2026, 6, 14)) == ngn(150)
    assert late_fee_due(_credit(due, 7_500, late_fee_charged=True), date(2026, 6, 30)) is None


@given(
    amounts=st.lists(st.integers(1, 50_000), min_size=1, max_size=5),
    paid=st.integers(1, 300_000),
)
def test_a_repayment_pays_the_oldest_first_and_nothing_is_lost(
    amounts: list[int], paid: int
) -> None:
    credits = [
        CreditOrder(f"R{i}", ngn(a), ngn(a), TODAY + timedelta(days=i), CreditStatus.OPEN)
        for i, a in enumerate(amounts)
    ]
    updated, left = apply_repayment(credits, ngn(paid), TODAY)
    owed_before = sum(amounts)
    owed_after = sum(c.outstanding.amount for c in updated)
    assert owed_after + (paid - left.amount) == owed_before
    assert left.amount == max(paid - owed_before, 0)
    # once one credit is still open, every later one is untouched
    open_seen = False
    for before, after in zip(credits, updated, strict=True):
        if open_seen:
            assert after == before
        if after.outstanding.amount > 0:
            open_seen = True
        assert (after.status is CreditStatus.REPAID) == (after.outstanding.amount == 0)


def test_a_credit_delivered_in_part_owes_less_and_what_was_repaid_still_counts() -> None:
    due = TODAY + timedelta(days=7)
    credit = CreditOrder("PART01", ngn(10_000), ngn(6_000), due, CreditStatus.OPEN)  # 4,000 repaid
    smaller = reduced_to(credit, ngn(7_000), TODAY)
    assert (smaller.amount, smaller.outstanding, smaller.status) == (
        ngn(7_000),
        ngn(3_000),
        CreditStatus.OPEN,
    )
    covered = reduced_to(credit, ngn(3_000), TODAY)  # repaid more than now owed
    assert (covered.outstanding, covered.status, covered.repaid_on) == (
        ngn(0),
        CreditStatus.REPAID,
        TODAY,
    )
    assert reduced_to(smaller, ngn(7_000), TODAY) == smaller  # once


def test_a_fee_owed_on_a_credit_partly_paid_is_still_paid_before_the_principal() -> None:
    """A fee brought in after part of the principal was paid (migration 0022): what is owed
    beyond the principal says nothing of it, so the fee owed is kept apart."""
    credit = replace(
        _credit(date(2026, 5, 1), 3_200), late_fee_charged=True, fee_outstanding=ngn(200)
    )
    assert late_fee_owed(credit) == ngn(200)
    [part], _ = apply_repayment([credit], ngn(150), TODAY)
    assert (late_fee_owed(part), part.outstanding) == (ngn(50), ngn(3_050))
    [rest], _ = apply_repayment([part], ngn(1_000), TODAY)
    assert (late_fee_owed(rest), rest.outstanding) == (ngn(0), ngn(2_050))
    charged = charge_late_fee(_credit(date(2026, 5, 1)), ngn(200))
    assert (late_fee_owed(charged), charged.outstanding) == (ngn(200), ngn(10_200))


def test_a_whole_return_releases_the_goods_but_not_a_late_fee() -> None:
    due = date(2026, 6, 10)
    released = returned(_credit(due, 4_000))
    assert (released.amount, released.outstanding) == (ngn(0), ngn(0))
    assert released.status is CreditStatus.CANCELLED
    assert not is_overdue(released, date(2026, 7, 1))
    charged = charge_late_fee(_credit(due), ngn(200))
    with_fee = returned(charged)
    assert (with_fee.outstanding, late_fee_owed(with_fee)) == (ngn(200), ngn(200))
    assert with_fee.status is CreditStatus.OPEN
    repaid = replace(_credit(due, 0), status=CreditStatus.REPAID, repaid_on=due)
    assert returned(repaid) == replace(repaid, amount=ngn(0))
