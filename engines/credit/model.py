"""Retailer credit (buy now, pay later): the stated rules, pure.

Credit limit (decided from the retailer's delivered orders, re-decided whenever asked):
  * no limit until the retailer has at least MIN_ORDERS delivered orders and the first of
    them is at least MIN_HISTORY_DAYS old;
  * otherwise LIMIT_SHARE (50 %) of the average monthly delivered value over the last
    WINDOW_DAYS (90) days — i.e. half of one month's usual buying — rounded down to the
    currency's step and capped at the currency's ceiling;
  * halved for every repayment that was late (made after its due date) in the last 180 days,
    counted from the day it was made; nil while anything is overdue.
Terms: 7 days for everyone with a limit, 14 days from 5 delivered orders, 30 days from 10.
Due date: the day the goods were delivered (in the region's time zone) plus the term; a credit
order not delivered yet has no due date (it is "due N days after delivery"), so nothing about it
is late: no reminder, no overdue block, no late fee.
Reminders: "due soon" REMIND_DAYS_BEFORE (2) days before the due date, "overdue" the day after;
each once per credit.
Overdue: a credit unpaid the day after its due date blocks new credit orders; after
GRACE_DAYS (3) more days a late fee of LATE_FEE_RATE (2 %) of what is still owed is charged,
once per credit: it is added to what is owed on that credit (the retailer is told by SMS, and BAL
shows it), so the credit is repaid only once its fee is paid too. What is still owed of the fee
is kept on the credit (`fee_outstanding`).
Repayments: the oldest credit first (by due date); within a credit, its late fee first, then its
principal (as a lender applies a payment: charges before capital). What is left over stays on
the credit line for the next credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from core.money import Money

MIN_ORDERS = 3
MIN_HISTORY_DAYS = 30
WINDOW_DAYS = 90
LIMIT_SHARE = Decimal("0.5")
LATE_LOOKBACK_DAYS = 180
REMIND_DAYS_BEFORE = 2
GRACE_DAYS = 3
LATE_FEE_RATE = Decimal("0.02")

# Rounded down to a step a person can say; capped at what a distributor risks on one shop.
STEPS = {"NGN": Decimal(1000), "KES": Decimal(100), "ZAR": Decimal(10)}
CEILINGS = {"NGN": Decimal(2_000_000), "KES": Decimal(200_000), "ZAR": Decimal(20_000)}


class CreditError(Exception):
    """Base of the credit context's errors."""


class CreditRefusedReason(StrEnum):
    NO_CREDIT = "no_credit"  # no limit (yet)
    OVERDUE = "overdue"  # something is overdue: no new credit until it is paid
    INSUFFICIENT = "insufficient"  # the order is more than what is left of the limit


class CreditRefusedError(CreditError):
    def __init__(self, reason: CreditRefusedReason, available: Money) -> None:
        super().__init__(f"{reason.value} (available {available})")
        self.reason = reason
        self.available = available


TERMS = (7, 14, 30)


@dataclass(frozen=True, slots=True)
class DeliveredOrder:
    delivered_on: date
    total: Money


@dataclass(frozen=True, slots=True)
class CreditHistory:
    orders: Sequence[DeliveredOrder]
    late_repayments: Sequence[date] = ()  # the days credits were repaid late on
    overdue_now: bool = False


@dataclass(frozen=True, slots=True)
class CreditDecision:
    limit: Money
    term_days: int
    reason: str  # why, for the operator: "3 orders, NGN 90,000.00 in 90 days"


def decide_limit(history: CreditHistory, currency: str, today: date) -> CreditDecision:
    """The credit limit and term the rule gives this history (see the module docstring)."""
    zero = Money.zero(currency)
    orders = [o for o in history.orders if o.total.currency == currency]
    if history.overdue_now:
        return CreditDecision(zero, 0, "overdue")
    if len(orders) < MIN_ORDERS:
        return CreditDecision(zero, 0, f"{len(orders)} delivered orders, {MIN_ORDERS} needed")
    first = min(o.delivered_on for o in orders)
    if (today - first).days < MIN_HISTORY_DAYS:
        return CreditDecision(zero, 0, f"history of {(today - first).days} days")
    since = today - timedelta(days=WINDOW_DAYS)
    recent = sum((o.total.amount for o in orders if o.delivered_on > since), Decimal(0))
    monthly = recent / (Decimal(WINDOW_DAYS) / 30)
    limit = monthly * LIMIT_SHARE
    late = [d for d in history.late_repayments if (today - d).days <= LATE_LOOKBACK_DAYS]
    for _ in late:
        limit /= 2
    step = STEPS.get(currency, Decimal(1))
    limit = min(
        (limit / step).to_integral_value(rounding=ROUND_FLOOR) * step, CEILINGS.get(currency, limit)
    )
    term = 30 if len(orders) >= 10 else 14 if len(orders) >= 5 else 7
    reason = f"{len(orders)} orders, {Money(recent, currency)} in {WINDOW_DAYS} days"
    if late:
        reason += f", {len(late)} late"
    return CreditDecision(Money(limit, currency), term if limit > 0 else 0, reason)


def due_on(delivered_on: date, term_days: int) -> date:
    return delivered_on + timedelta(days=term_days)


class CreditStatus(StrEnum):
    OPEN = "open"
    REPAID = "repaid"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class CreditOrder:
    order_reference: str
    amount: Money
    outstanding: Money
    due_on: date | None  # None until the goods are delivered: the term runs from delivery
    status: CreditStatus
    late_fee_charged: bool = False
    reminded_due_soon: bool = False
    reminded_overdue: bool = False
    repaid_on: date | None = None
    term_days: int = 0
    # what is still owed of its late fee (part of `outstanding`, paid before the principal)
    fee_outstanding: Money | None = None

    @property
    def repaid_late(self) -> bool:
        return (
            self.repaid_on is not None and self.due_on is not None and self.repaid_on > self.due_on
        )


def falls_due(credit: CreditOrder, delivered_on: date) -> CreditOrder:
    """The goods arrived on `delivered_on`: the term starts, once (a redelivered event or a
    second delivery report does not move the date)."""
    if credit.due_on is not None:
        return credit
    return replace(credit, due_on=due_on(delivered_on, credit.term_days))


def repayment_order(credit: CreditOrder) -> tuple[date, str]:
    """Oldest due first; credits not delivered yet (not due) after every due one."""
    return (credit.due_on or date.max, credit.order_reference)


def reduced_to(credit: CreditOrder, total: Money, today: date) -> CreditOrder:
    """The credit of an order delivered in part: only `total` is owed. What was repaid already
    counts against the smaller debt (a credit fully covered is repaid)."""
    if total >= credit.amount or credit.status is not CreditStatus.OPEN:
        return credit
    cut = credit.amount - total
    outstanding = credit.outstanding - cut
    if not outstanding.is_negative and outstanding.amount > 0:
        return replace(credit, amount=total, outstanding=outstanding)
    return replace(
        credit,
        amount=total,
        outstanding=Money.zero(total.currency),
        status=CreditStatus.REPAID,
        repaid_on=today,
    )


def returned(credit: CreditOrder) -> CreditOrder:
    """The goods of a delivered credit order all came back: nothing is owed for them. What was
    repaid of it stays on the credit line (for the next credit, as a repayment's rest does); a
    late fee charged on it is still owed (it was for paying late, not for the goods)."""
    zero = Money.zero(credit.amount.currency)
    if credit.status is not CreditStatus.OPEN:
        return replace(credit, amount=zero)
    fee = late_fee_owed(credit)
    if fee.amount > 0:
        return replace(credit, amount=zero, outstanding=min(credit.outstanding, fee))
    return replace(credit, amount=zero, outstanding=zero, status=CreditStatus.CANCELLED)


def is_overdue(credit: CreditOrder, today: date) -> bool:
    return (
        credit.status is CreditStatus.OPEN and credit.due_on is not None and today > credit.due_on
    )


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def reminder_due(credit: CreditOrder, today: date) -> ReminderKind | None:
    """Which reminder, if any, this credit should get today (each is sent once)."""
    if credit.status is not CreditStatus.OPEN or credit.due_on is None:
        return None
    if today > credit.due_on:
        return None if credit.reminded_overdue else ReminderKind.OVERDUE
    if (credit.due_on - today).days <= REMIND_DAYS_BEFORE and not credit.reminded_due_soon:
        return ReminderKind.DUE_SOON
    return None


def late_fee_due(credit: CreditOrder, today: date) -> Money | None:
    """The late fee to charge today, once, GRACE_DAYS after the due date."""
    if credit.status is not CreditStatus.OPEN or credit.late_fee_charged:
        return None
    if credit.due_on is None or (today - credit.due_on).days <= GRACE_DAYS:
        return None
    fee = Money(credit.outstanding.amount * LATE_FEE_RATE, credit.outstanding.currency)
    return fee if fee.amount > 0 else None


def charge_late_fee(credit: CreditOrder, fee: Money) -> CreditOrder:
    """The credit with its late fee charged: owed on it until a repayment pays it."""
    return replace(
        credit, outstanding=credit.outstanding + fee, late_fee_charged=True, fee_outstanding=fee
    )


def late_fee_owed(credit: CreditOrder) -> Money:
    """What is still owed of the credit's late fee. Kept apart rather than read as what is
    owed beyond the principal: a fee charged before fees were added to the debt was brought in
    later (migration 0022) on credits whose principal was partly or wholly paid meanwhile."""
    if credit.fee_outstanding is None:
        return Money.zero(credit.outstanding.currency)
    return credit.fee_outstanding


def apply_repayment(
    credits: Sequence[CreditOrder], amount: Money, today: date
) -> tuple[list[CreditOrder], Money]:
    """Pay the oldest due credits first, each its late fee before its principal; returns the
    updated credits and any amount left over."""
    left = amount
    out: list[CreditOrder] = []
    for credit in sorted(credits, key=repayment_order):
        if credit.status is not CreditStatus.OPEN or left.amount <= 0:
            out.append(credit)
            continue
        paid = min(left, credit.outstanding)
        outstanding = credit.outstanding - paid
        fee = late_fee_owed(credit)
        left = left - paid
        status = CreditStatus.REPAID if outstanding.amount == 0 else CreditStatus.OPEN
        out.append(
            replace(
                credit,
                outstanding=outstanding,
                status=status,
                repaid_on=today if status is CreditStatus.REPAID else None,
                fee_outstanding=None if fee.amount == 0 else fee - min(paid, fee),
            )
        )
    return out, left
