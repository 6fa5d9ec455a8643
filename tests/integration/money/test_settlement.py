"""Daily settlement per distributor, the reconciliation report, and payouts held until confirmed."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.ledger import Books, LedgerService, TransferRefusedError, TransferResult
from engines.settlement import (
    CatchUpTooLongError,
    DayNotOverError,
    Distributor,
    Match,
    PayoutService,
    SettlementService,
    StatementFormatError,
    StatementRow,
    parse_statement,
)

JUMA = Phone("+254711000001")
WANJIKU = Phone("+254711000002")
NAIROBI = Distributor("nairobi-central", "KES", Decimal("0.03"), "nibss", "Africa/Nairobi")
MONDAY = date(2026, 1, 5)  # the stepped clock starts at 09:00 UTC, 12:00 in Nairobi
HOUR = 3600


def kes(amount: str | int) -> Money:
    return Money(Decimal(amount), "KES")


@pytest.fixture
def settlement(services: Services, books: Books, clock: SteppedClock) -> SettlementService:
    return SettlementService(services.db, books, clock, RandomIds())


async def _monday_payments(books: Books, clock: SteppedClock) -> None:
    await books.post_payment_received(JUMA, kes("2500"), "mpesa", "QKA1")
    await books.post_payment_received(JUMA, kes("2500"), "mpesa", "QKA1")  # webhook twice
    await books.post_payment_received(WANJIKU, kes("1200.50"), "mpesa", "QKA2")
    await books.post_rail_fee("mpesa", kes("37.50"), "QKA1")
    clock.advance(11 * HOUR + 59 * 60)  # 23:59 in Nairobi: still Monday
    await books.post_payment_received(JUMA, kes("300"), "momo", "MM-9")
    clock.advance(2 * 60)  # 00:01 Tuesday
    await books.post_payment_received(WANJIKU, kes("999"), "mpesa", "QKB1")


async def test_a_day_settles_once_net_of_fees_and_commission(
    books: Books, clock: SteppedClock, settlement: SettlementService, ledger: LedgerService
) -> None:
    await _monday_payments(books, clock)
    batch = await settlement.settle_day(NAIROBI, MONDAY)
    assert batch.payments == 3
    assert batch.gross == kes("4000.50")
    assert batch.fees == kes("37.50")
    assert batch.commission == kes("120.02")  # 3 % of 4,000.50 = 120.015, half-up
    assert batch.net == kes("3842.98")
    assert await settlement.settle_day(NAIROBI, MONDAY) == batch  # a re-run posts nothing
    owed = await ledger.account("distributor:nairobi-central:KES")
    assert owed.balance == kes("3842.98")  # accrued; the payout is held, not yet gone
    assert owed.available == kes("3842.98")
    await settlement.payout_confirmed("nairobi-central", MONDAY)
    await settlement.payout_confirmed("nairobi-central", MONDAY)  # the bank's callback twice
    assert (await ledger.account("distributor:nairobi-central:KES")).balance == kes(0)
    assert (await ledger.account("rail:nibss:KES")).balance == kes("-3842.98")
    with pytest.raises(TransferRefusedError) as late:
        await settlement.payout_failed("nairobi-central", MONDAY)
    assert late.value.result is TransferResult.PENDING_TRANSFER_ALREADY_POSTED
    assert (await ledger.check()).balanced


async def test_a_failed_payout_is_released_and_still_owed(
    books: Books, clock: SteppedClock, settlement: SettlementService, ledger: LedgerService
) -> None:
    await _monday_payments(books, clock)
    await settlement.settle_day(NAIROBI, MONDAY)
    await settlement.payout_failed("nairobi-central", MONDAY)
    owed = await ledger.account("distributor:nairobi-central:KES")
    assert owed.balance == kes("3842.98")
    assert owed.balances.debits_pending == 0


async def test_a_refused_payout_is_carried_by_the_next_settlement_once(
    books: Books, clock: SteppedClock, settlement: SettlementService, ledger: LedgerService
) -> None:
    """The bank refused Monday's payout: Tuesday's settlement pays Monday's share with its own,
    in one payout, and Wednesday's pays neither again."""
    await _monday_payments(books, clock)  # ends 00:01 on Tuesday, 999 received
    monday = await settlement.settle_day(NAIROBI, MONDAY)
    await settlement.payout_failed("nairobi-central", MONDAY)
    clock.advance(24 * HOUR)  # 00:01 on Wednesday

    tuesday = await settlement.settle_day(NAIROBI, date(2026, 1, 6))
    assert tuesday.net == kes("969.03")  # 999 less 3 %
    held = await settlement.payout_held("nairobi-central", date(2026, 1, 6))
    assert held == monday.net + tuesday.net
    assert await settlement.settle_day(NAIROBI, date(2026, 1, 6)) == tuesday  # a re-run
    await settlement.payout_confirmed("nairobi-central", date(2026, 1, 6))

    assert (await ledger.account("distributor:nairobi-central:KES")).balance == kes(0)
    assert (await ledger.account("rail:nibss:KES")).balance == kes(0) - held
    clock.advance(24 * HOUR)
    await settlement.settle_day(NAIROBI, date(2026, 1, 7))
    assert await settlement.payout_held("nairobi-central", date(2026, 1, 7)) is None
    assert (await ledger.check()).balanced


async def test_reconciliation_names_every_difference(
    books: Books, clock: SteppedClock, settlement: SettlementService
) -> None:
    await _monday_payments(books, clock)
    statement = parse_statement(
        "Receipt,Amount,Completion Time\n"
        "QKA1,2500.00,2026-01-05 12:00:01\n"
        'QKA2,"1,200.00",2026-01-05 12:00:02\n'
        "QKZ9,50.00,2026-01-05 15:00:00\n",
        "KES",
    )
    report = await settlement.reconcile("mpesa", "KES", MONDAY, "Africa/Nairobi", statement)
    assert not report.clean
    assert [(line.status, line.external_ref) for line in report.lines] == [
        (Match.MATCHED, "QKA1"),
        (Match.AMOUNT_MISMATCH, "QKA2"),
        (Match.MISSING_OURS, "QKZ9"),
    ]
    assert report.to_csv().splitlines()[2] == "amount_mismatch,QKA2,1200.50,1200.00,KES"
    statement_without_a1 = [row for row in statement if row.external_ref != "QKA1"]
    report = await settlement.reconcile(
        "mpesa", "KES", MONDAY, "Africa/Nairobi", statement_without_a1
    )
    assert report.of(Match.MISSING_THEIRS)[0].external_ref == "QKA1"


def test_a_statement_row_that_is_not_an_amount_names_its_line() -> None:
    with pytest.raises(StatementFormatError, match="line 3"):
        parse_statement("reference,amount\nA,1.00\nB,one\n", "KES")
    with pytest.raises(StatementFormatError, match="header"):
        parse_statement("ref,total\nA,1.00\n", "KES")


# The M-Pesa organisation portal's statement as downloaded: its lines above the table, then
# the table; money out is shown negative; a row not Completed moved no money.
PORTAL_STATEMENT = (
    "Organization Name:,OmniRoute Nairobi Central\n"
    "Organization Short Code:,600984\n"
    "Time Period:,From 05-01-2026 00:00:00 To 05-01-2026 23:59:59\n"
    "\n"
    "Receipt No.,Completion Time,Initiation Time,Details,Transaction Status,Paid In,Withdrawn,"
    "Balance,Balance Confirmed,Reason Type,Other Party Info,Linked Transaction ID,A/C No.\n"
    "QKA1,2026-01-05 12:00:01,2026-01-05 12:00:01,Pay Bill from 254711000001 - JUMA,"
    'Completed,"2,500.00",,"2,500.00",true,Pay Bill,254711000001 - JUMA,,OR-1\n'
    "QKA2,2026-01-05 12:00:02,2026-01-05 12:00:02,Pay Bill from 254711000002 - WANJIKU,"
    'Completed,"1,200.50",,"3,700.50",true,Pay Bill,254711000002 - WANJIKU,,OR-2\n'
    "QKA3,2026-01-05 12:05:00,2026-01-05 12:05:00,Pay Bill from 254711000002 - WANJIKU,"
    'Failed,"1,200.50",,"3,700.50",true,Pay Bill,254711000002 - WANJIKU,,OR-2\n'
    "QKA4,2026-01-05 15:00:00,2026-01-05 15:00:00,Business Payment to 254711000001 - JUMA,"
    'Completed,,-50.00,"3,650.50",true,Business Payment,254711000001 - JUMA,,\n'
)


def test_the_mpesa_portals_statement_is_read_as_downloaded() -> None:
    """Reconciled from here as any statement (test_reconciliation_names_every_difference)."""
    assert parse_statement(PORTAL_STATEMENT, "KES") == [
        StatementRow("QKA1", kes("2500.00")),
        StatementRow("QKA2", kes("1200.50")),
        StatementRow("QKA4", kes("-50.00")),
    ]


def test_a_statement_amount_or_currency_it_cannot_hold_is_refused_with_its_line() -> None:
    with pytest.raises(StatementFormatError, match=r"^line 3: 1000.005 has more decimals"):
        parse_statement("reference,amount\nA,1.00\nB,1000.005\n", "KES")
    with pytest.raises(StatementFormatError, match=r"^line 2: in NGN, not KES$"):
        parse_statement("reference,amount,currency\nA,1.00,NGN\n", "KES")
    assert parse_statement("reference,amount,currency\nA,1.000,kes\n", "KES")[0].amount == kes(1)


async def test_a_driver_is_paid_out_no_more_than_earned_and_only_once(
    books: Books, ledger: LedgerService
) -> None:
    payouts = PayoutService(books)
    driver = Phone("+254711000009")
    await payouts.earn("driver", driver, kes(700), "delivery:W62ACJ")
    await payouts.earn("driver", driver, kes(700), "delivery:W62ACJ")  # event redelivered
    with pytest.raises(TransferRefusedError) as too_much:
        await payouts.request("driver", driver, kes(701), "mpesa", "B2C-1")
    assert too_much.value.result is TransferResult.EXCEEDS_CREDITS
    await payouts.request("driver", driver, kes(500), "mpesa", "B2C-2")
    with pytest.raises(TransferRefusedError):  # the held 500 counts
        await payouts.request("driver", driver, kes(300), "mpesa", "B2C-3")
    await payouts.failed("B2C-2")  # M-Pesa said no: the money is back
    await payouts.request("driver", driver, kes(700), "mpesa", "B2C-4")
    await payouts.confirmed("B2C-4")
    await payouts.confirmed("B2C-4")
    wallet = await payouts.wallet("driver", driver, "KES")
    assert wallet.balance == kes(0)
    assert (await ledger.check()).balanced
    with pytest.raises(ValueError, match="driver, agent"):
        await payouts.earn("retailer", driver, kes(1), "x")


async def test_a_refund_given_back_the_same_day_is_netted_out_of_that_days_batch(
    books: Books, clock: SteppedClock, settlement: SettlementService, ledger: LedgerService
) -> None:
    await books.post_payment_received(JUMA, kes("2500"), "mpesa", "QKA1")
    await books.post_payment_received(WANJIKU, kes("1200.50"), "mpesa", "QKA2")
    await books.post_rail_fee("mpesa", kes("37.50"), "QKA1")
    clock.advance(HOUR)
    for _ in range(2):  # the rail's confirmation delivered twice
        await books.post_refund(JUMA, kes("2500"), "mpesa", "rf-1", payment_ref="QKA1")
    await books.post_refund(WANJIKU, kes("200.50"), "mpesa", "rf-2", payment_ref="QKA2")
    clock.advance(12 * HOUR)  # 01:00 on Tuesday in Nairobi: the night's run

    batch = await settlement.settle_day(NAIROBI, MONDAY)

    assert batch.net == kes("932.50")  # the 1,000.00 kept, less 37.50 fees and 30.00
    assert (batch.payments, batch.gross) == (2, kes("3700.50"))
    assert batch.refunds == kes("2700.50")
    assert batch.commission == kes("30.00")  # 3 % of what was kept, not of the gross
    assert await settlement.settle_day(NAIROBI, MONDAY) == batch
    assert (await ledger.account("distributor:nairobi-central:KES")).balance == kes("932.50")
    assert (await ledger.check()).balanced

    statement = parse_statement(
        "reference,amount\nQKA1,2500.00\nQKA1,-2500.00\nQKA2,1200.50\nQKZ9,-10.00\n", "KES"
    )
    report = await settlement.reconcile("mpesa", "KES", MONDAY, "Africa/Nairobi", statement)
    assert [(line.status, line.external_ref, line.ours, line.theirs) for line in report.lines] == [
        (Match.MATCHED, "QKA1", kes("2500"), kes("2500")),
        (Match.MATCHED, "QKA1", kes("-2500"), kes("-2500")),
        (Match.MATCHED, "QKA2", kes("1200.50"), kes("1200.50")),
        (Match.MISSING_THEIRS, "QKA2", kes("-200.50"), None),  # the provider shows no refund
        (Match.MISSING_OURS, "QKZ9", None, kes("-10.00")),  # a refund we never recorded
    ]


async def test_a_refund_of_a_day_already_paid_out_comes_out_of_the_next_days(
    books: Books, clock: SteppedClock, settlement: SettlementService, ledger: LedgerService
) -> None:
    """Monday is paid out; on Tuesday Monday's 2,500 is given back and only 999 comes in:
    Tuesday owes the difference and pays nothing; Wednesday's batch nets it out."""
    await _monday_payments(books, clock)  # ends 00:01 on Tuesday, 999 received
    monday = await settlement.settle_day(NAIROBI, MONDAY)
    await settlement.payout_confirmed("nairobi-central", MONDAY)
    await books.post_refund(JUMA, kes("2500"), "mpesa", "rf-1", payment_ref="QKA1")
    clock.advance(24 * HOUR)  # 00:01 on Wednesday

    tuesday = await settlement.settle_day(NAIROBI, date(2026, 1, 6))
    assert (tuesday.gross, tuesday.refunds) == (kes("999"), kes("2500"))
    assert tuesday.commission == kes("-45.03")  # 3 % of -1,501: Monday's share given back
    assert tuesday.net == kes("-1455.97")
    owed = await ledger.account("distributor:nairobi-central:KES")
    assert owed.balance == kes(0)  # nothing accrued for Tuesday, nothing held for payout

    await books.post_payment_received(WANJIKU, kes("3000"), "mpesa", "QKC1")
    clock.advance(24 * HOUR)
    wednesday = await settlement.settle_day(NAIROBI, date(2026, 1, 7))
    assert wednesday.carried == kes("-1455.97")
    assert wednesday.net == kes("1454.03")  # 3,000 - 90 commission - 1,455.97
    owed = await ledger.account("distributor:nairobi-central:KES")
    assert owed.balance == kes("1454.03")
    paid_in_all = monday.net + wednesday.net
    assert paid_in_all == kes("4000.50") + kes("999") + kes("3000") - kes("2500") - kes("37.50") - (
        monday.commission + tuesday.commission + wednesday.commission
    )
    assert (await ledger.check()).balanced


async def test_a_day_not_over_yet_is_not_settled(
    books: Books, clock: SteppedClock, settlement: SettlementService, ledger: LedgerService
) -> None:
    """Settled at noon, Monday's batch would be recorded with the morning's payments only and
    the afternoon's never paid to the distributor: it waits for Nairobi's midnight."""
    await books.post_payment_received(JUMA, kes("2500"), "mpesa", "QKA1")
    with pytest.raises(DayNotOverError, match="Africa/Nairobi"):
        await settlement.settle_day(NAIROBI, MONDAY)
    clock.advance(4 * HOUR)
    await books.post_payment_received(WANJIKU, kes("1200.50"), "mpesa", "QKA2")
    clock.advance(8 * HOUR)  # 00:00 on Tuesday in Nairobi

    batch = await settlement.settle_day(NAIROBI, MONDAY)

    assert (batch.payments, batch.gross) == (2, kes("3700.50"))
    owed = await ledger.account("distributor:nairobi-central:KES")
    assert owed.balance == batch.net


async def test_a_day_settled_before_an_unsettled_one_settles_it_first_and_carries_its_shortfall(
    books: Books, clock: SteppedClock, settlement: SettlementService, ledger: LedgerService
) -> None:
    """Two nights missed: Tuesday gave back more than came in, and Wednesday is settled before
    it. Tuesday is settled first, and its shortfall comes out of Wednesday's payout."""
    await _monday_payments(books, clock)  # ends 00:01 on Tuesday, 999 received
    await settlement.settle_day(NAIROBI, MONDAY)
    await books.post_refund(JUMA, kes("2500"), "mpesa", "rf-1", payment_ref="QKA1")
    clock.advance(24 * HOUR)  # Wednesday
    await books.post_payment_received(WANJIKU, kes("3000"), "mpesa", "QKC1")
    clock.advance(24 * HOUR)  # Thursday: nobody settled Tuesday

    tuesday, wednesday = await settlement.settle_through(NAIROBI, date(2026, 1, 7))

    assert (tuesday.day, tuesday.net) == (date(2026, 1, 6), kes("-1455.97"))
    assert (wednesday.carried, wednesday.net) == (kes("-1455.97"), kes("1454.03"))
    assert await settlement.settle_day(NAIROBI, date(2026, 1, 6)) == tuesday  # posts nothing
    owed = await ledger.account("distributor:nairobi-central:KES")
    assert owed.balance == (await settlement.settle_day(NAIROBI, MONDAY)).net + wednesday.net
    assert (await ledger.check()).balanced


async def test_more_unsettled_days_than_a_run_catches_up_names_the_day_to_settle_first(
    books: Books, clock: SteppedClock, settlement: SettlementService
) -> None:
    await books.post_payment_received(JUMA, kes("2500"), "mpesa", "QKA1")
    clock.advance(15 * HOUR)
    await settlement.settle_day(NAIROBI, MONDAY)
    clock.advance(40 * 24 * HOUR)
    late = date(2026, 2, 8)  # 33 unsettled days before it, since Tuesday

    with pytest.raises(CatchUpTooLongError, match="settle --day 2026-02-05 first") as refused:
        await settlement.settle_day(NAIROBI, late)

    assert refused.value.settle_first == date(2026, 2, 5)
    batches = await settlement.settle_through(NAIROBI, refused.value.settle_first)
    assert [b.day for b in batches][:2] == [date(2026, 1, 6), date(2026, 1, 7)]
    assert len(batches) == 31
    assert (await settlement.settle_day(NAIROBI, late)).day == late


async def test_two_days_of_one_distributor_settled_at_once_carry_a_shortfall_once(
    books: Books, clock: SteppedClock, services: Services, ledger: LedgerService
) -> None:
    """Tuesday gave back more than came in and was settled; Monday and Wednesday were not.
    The command line settles Monday at the instant the nightly job settles Wednesday (two
    services, as two processes): one of them carries Tuesday's shortfall, not both."""
    await books.post_payment_received(JUMA, kes("2500"), "mpesa", "QKA1")  # Monday
    clock.advance(24 * HOUR)
    await books.post_refund(JUMA, kes("2500"), "mpesa", "rf-1", payment_ref="QKA1")  # Tuesday
    clock.advance(24 * HOUR)
    await books.post_payment_received(WANJIKU, kes("3000"), "mpesa", "QKC1")  # Wednesday
    clock.advance(24 * HOUR)
    await books.post_payment_received(WANJIKU, kes("1000"), "mpesa", "QKD1")  # Thursday
    clock.advance(15 * HOUR)  # 03:00 on Friday in Nairobi
    cli, nightly = (SettlementService(services.db, books, clock, RandomIds()) for _ in "ab")
    await nightly.settle_day(NAIROBI, date(2026, 1, 8))  # Thursday: 970
    tuesday = await nightly.settle_day(NAIROBI, date(2026, 1, 6))
    assert tuesday.net == kes("-2425")  # 2,500 given back, less its 75 commission

    monday, wednesday = await asyncio.gather(
        cli.settle_day(NAIROBI, MONDAY), nightly.settle_day(NAIROBI, date(2026, 1, 7))
    )

    assert monday.carried + wednesday.carried == kes("-2425")  # taken once
    owed = await ledger.account("distributor:nairobi-central:KES")
    assert owed.balance == kes("2425") + kes("-2425") + kes("2910") + kes("970")
    assert (await ledger.check()).balanced


async def test_an_order_paid_from_her_account_credit_is_not_settled_again(
    books: Books, clock: SteppedClock, settlement: SettlementService
) -> None:
    """The credit on her account came in on a rail (an overpaid transfer) and was settled to
    the distributor the day it arrived; the order it pays the next day brings no money in, so
    that day's batch owes nothing for it: counted once, never twice, never short."""
    await books.post_payment_received(JUMA, kes("5000"), "mpesa", "QKC1")  # paid no order
    clock.advance(24 * HOUR)  # Tuesday
    await books.order_paid_from_credit("R1", JUMA, kes("2521.26"))
    await books.order_delivered("R1", kes("347.76"))
    clock.advance(24 * HOUR)

    monday = await settlement.settle_day(NAIROBI, MONDAY)
    tuesday = await settlement.settle_day(NAIROBI, date(2026, 1, 6))

    assert (monday.payments, monday.gross) == (1, kes("5000"))
    assert (tuesday.payments, tuesday.gross, tuesday.net) == (0, kes(0), kes(0))
    assert await books.account_credit(JUMA, "KES") == kes("2478.74")
