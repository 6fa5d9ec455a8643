"""Settlement: what a distributor is owed for a day, and whether a provider's records agree.

A day's batch is the customer payments (and credit repayments) received in the distributor's
currency on that local day, less the refunds the rails gave back that day (whichever day their
payment was received), the rail fees the providers kept and the platform's commission on what is
left and on the cash taken at pay-on-delivery doors that reached its depot that day (handed in
by a driver, or taken at the depot itself; what a driver still holds is on the road, and is
counted the day he hands it in). The depot is the distributor's own: it keeps those notes, so
they are never paid out again by bank. A day whose refunds and commission exceed what came in on
the rails owes the difference, carried into the next day's batch (never a negative payout).
Reconciliation compares the payments and refunds we recorded on a rail with the rows of the
provider's statement, by the provider's own reference (a refund: the payment it gives back, with
a negative amount).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from core.money import Money


class SettlementError(Exception):
    """Base of the settlement context's errors."""


class DayNotOverError(SettlementError):
    """A day is settled once, so only once it is over in the distributor's time zone."""


class CatchUpTooLongError(SettlementError):
    """More unsettled days lie before a day than one run settles: the message names the day to
    settle first (it settles the oldest of them, in order)."""

    def __init__(self, message: str, settle_first: date) -> None:
        super().__init__(message)
        self.settle_first = settle_first


class FirstDayTooFarBackError(SettlementError):
    """The first day settled is where every later run catches up from: one typed years back
    would leave every later day refused by the catch-up limit."""


class SettlementBusyError(SettlementError):
    """A settlement run (or another payout answer) of the distributor is in progress: a payout
    answer is recorded only when none is, so it cannot land in the middle of a run."""


class StatementFormatError(SettlementError):
    """A provider statement row that cannot be read; the message names the line."""


@dataclass(frozen=True, slots=True)
class Distributor:
    name: str
    currency: str
    commission_rate: Decimal  # the platform's share of what it collected
    payout_rail: str  # where the distributor is paid (e.g. "nibss", "mpesa")
    timezone: str  # whose midnight ends the day


@dataclass(frozen=True, slots=True)
class Collected:
    """One payment we recorded: on which rail, under the provider's reference; a refund is
    recorded under its payment's reference, with a negative amount."""

    rail: str
    external_ref: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Batch:
    distributor: str
    day: date
    gross: Money
    fees: Money
    commission: Money
    net: Money  # what the day's payout owes the distributor; negative: what it owes (carried)
    payments: int
    refunds: Money
    carried: Money  # what the days before still owed back (negative), netted out of this one
    cash: Money  # door cash that reached its depot that day: kept there, only its commission
    # counted (its rail payments are `gross`)
    hand_ins: int  # how many arrivals made it up (a driver's hand-over, a door at the depot)


@dataclass(frozen=True, slots=True)
class CashDay:
    """Where a day's cash taken at the doors is now: what the drivers still hold is on the road;
    the rest was handed in at the depot (or taken there)."""

    collected: Money
    held_by_drivers: Money
    handed_in: Money
    orders: int = 0  # the doors it was taken at


def still_held(day: Money, later: Money, holds: Money) -> Money:
    """Of what a driver took on a day, what he still holds: he hands his oldest cash in first,
    so what he holds is his latest takings — those after the day (`later`) before any of it."""
    left = holds - later
    if left.amount <= 0:
        return Money.zero(day.currency)
    return left if left.amount < day.amount else day


def batch_for(
    distributor: Distributor,
    day: date,
    payments: Sequence[Collected],
    fees: Iterable[Money],
    *,
    refunds: Iterable[Money] = (),
    carried: Money | None = None,
    cash: Sequence[Money] = (),
) -> Batch:
    """Gross in on the rails less refunds, less fees and the commission on what was kept on
    the rails and at the depot (`cash`, one amount per arrival; rounded half-up once), plus what
    the previous day carried (zero or negative), is what is paid out: the depot's cash is
    already the distributor's, so only its commission comes out of the payout.

    A refund takes its commission back with it: the platform keeps no share of a sale it
    gave back, so the commission is on gross and cash less refunds (negative when refunds
    exceed them)."""
    zero = Money.zero(distributor.currency)
    gross = sum((p.amount for p in payments), zero)
    at_doors = sum(cash, zero)
    refunded = sum(refunds, zero)
    fee_total = sum(fees, zero)
    carry = carried or zero
    kept = gross + at_doors - refunded
    commission = Money(kept.amount * distributor.commission_rate, distributor.currency)
    return Batch(
        distributor.name,
        day,
        gross,
        fee_total,
        commission,
        gross - refunded - fee_total - commission + carry,
        len(payments),
        refunded,
        carry,
        at_doors,
        len(cash),
    )


@dataclass(frozen=True, slots=True)
class StatementRow:
    external_ref: str
    amount: Money


class Match(StrEnum):
    MATCHED = "matched"
    MISSING_OURS = "missing_on_our_side"  # the provider has it, we never recorded it
    MISSING_THEIRS = "missing_on_their_side"  # we recorded it, the provider does not know it
    AMOUNT_MISMATCH = "amount_mismatch"


@dataclass(frozen=True, slots=True)
class ReconciliationLine:
    status: Match
    external_ref: str
    ours: Money | None
    theirs: Money | None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    rail: str
    day: date
    lines: tuple[ReconciliationLine, ...]

    def of(self, status: Match) -> list[ReconciliationLine]:
        return [line for line in self.lines if line.status is status]

    @property
    def clean(self) -> bool:
        return all(line.status is Match.MATCHED for line in self.lines)

    def to_csv(self) -> str:
        """status,external_ref,ours,theirs — for the finance team's spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["status", "external_ref", "ours", "theirs", "currency"])
        for line in self.lines:
            money = line.ours or line.theirs
            writer.writerow(
                [
                    line.status.value,
                    line.external_ref,
                    "" if line.ours is None else str(line.ours.amount),
                    "" if line.theirs is None else str(line.theirs.amount),
                    "" if money is None else money.currency,
                ]
            )
        return out.getvalue()


def reconcile(
    rail: str, day: date, ours: Sequence[Collected], theirs: Sequence[StatementRow]
) -> Reconciliation:
    """Match by the provider's reference, a payment with a payment and a refund (a negative
    amount, under its payment's reference) with a refund; each appears on exactly one line.
    Two refunds of one payment the same day are matched by their sum."""
    mine = _by_reference((p.external_ref, p.amount) for p in ours)
    their = _by_reference((r.external_ref, r.amount) for r in theirs)
    lines = []
    for ref, refund in sorted(mine.keys() | their.keys()):
        a, b = mine.get((ref, refund)), their.get((ref, refund))
        if a is None:
            status = Match.MISSING_OURS
        elif b is None:
            status = Match.MISSING_THEIRS
        elif a == b:
            status = Match.MATCHED
        else:
            status = Match.AMOUNT_MISMATCH
        lines.append(ReconciliationLine(status, ref, a, b))
    return Reconciliation(rail, day, tuple(lines))


def _by_reference(rows: Iterable[tuple[str, Money]]) -> dict[tuple[str, bool], Money]:
    """(reference, is a refund) → amount: a payment's row as given, a payment's refunds summed."""
    found: dict[tuple[str, bool], Money] = {}
    for ref, amount in rows:
        key = (ref, amount.amount < 0)
        earlier = found.get(key)
        found[key] = amount + earlier if key[1] and earlier is not None else amount
    return found


_REFERENCE = ("reference", "external_ref", "receipt", "receipt no")
_PORTAL_AMOUNTS = ("paid in", "withdrawn")  # M-Pesa's portal: money in, money out


def _column(name: str | None) -> str:
    """A header cell as compared: 'Receipt No.' and 'receipt no' are one column."""
    return (name or "").strip().lower().rstrip(".")


def parse_statement(text: str, currency: str) -> list[StatementRow]:
    """A provider statement as CSV: a header naming `reference` and `amount` columns, or the
    M-Pesa portal's statement as downloaded (the organisation's lines above the table, then
    `Receipt No.`, ..., `Transaction Status`, `Paid In`, `Withdrawn`, ...: money out is a
    negative row, and a row not `Completed` moved no money). Line numbers are the file's."""
    reader = csv.reader(io.StringIO(text))
    for cells in reader:
        fields = {_column(cell): i for i, cell in enumerate(cells)}
        ref_at = next((fields[k] for k in _REFERENCE if k in fields), None)
        if ref_at is not None and ("amount" in fields or "paid in" in fields):
            break
    else:
        raise StatementFormatError("the header needs a reference and an amount column")
    status_at, currency_at = fields.get("transaction status"), fields.get("currency")
    rows = []
    for cells in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if status_at is not None and _cell(cells, status_at).lower() != "completed":
            continue
        given = _cell(cells, currency_at).upper()
        if given and given != currency:
            raise StatementFormatError(f"line {number}: in {given}, not {currency}")
        if "amount" in fields:
            amount = _amount(_cell(cells, fields["amount"]), currency, number)
        else:
            paid_in, withdrawn = (_cell(cells, fields.get(k)) for k in _PORTAL_AMOUNTS)
            if not withdrawn or (paid_in and _amount(paid_in, currency, number).amount):
                amount = _amount(paid_in, currency, number)
            else:  # the portal shows money out as -50.00; a hand-made file may not
                out = _amount(withdrawn, currency, number)
                amount = out if out.amount <= 0 else -out
        ref = _cell(cells, ref_at)
        if not ref:
            raise StatementFormatError(f"line {number}: no reference")
        rows.append(StatementRow(ref, amount))
    return rows


def _cell(cells: list[str], at: int | None) -> str:
    return cells[at].strip() if at is not None and at < len(cells) else ""


def _amount(raw: str, currency: str, number: int) -> Money:
    raw = raw.replace(",", "")
    try:
        value = Decimal(raw)
        amount = Money(value, currency)
    except (InvalidOperation, ValueError) as exc:
        raise StatementFormatError(f"line {number}: not an amount: {raw!r}") from exc
    if amount.amount != value:  # rounding it would reconcile money the rail never moved
        raise StatementFormatError(f"line {number}: {raw} has more decimals than {currency} has")
    return amount
