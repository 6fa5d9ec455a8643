"""The nightly settlement workflow's activity settles every distributor's day on the ledger."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from core.app.bootstrap import Services
from core.app.money import DISTRIBUTORS
from core.app.workflow_settlement import LedgerSettlement
from core.clock import SteppedClock
from core.money import Money
from core.phone import Phone
from engines.fulfilment.adapters import PendingEngines
from engines.fulfilment.effects import SqlEffectLog

JUMA = Phone("+254711000001")
NGOZI = Phone("+2348030000001")
MONDAY = date(2026, 1, 5)  # the stepped clock starts on Monday 09:00 UTC


def kes(amount: int) -> Money:
    return Money(Decimal(amount), "KES")


async def test_the_nightly_activity_settles_each_distributor_once(
    services: Services, clock: SteppedClock
) -> None:
    assert services.money is not None
    books = services.money.books
    await books.post_payment_received(JUMA, Money(Decimal(2500), "KES"), "mpesa", "QKA1")
    await books.post_payment_received(NGOZI, Money(Decimal(10_000), "NGN"), "paystack", "T-1")
    port = LedgerSettlement(
        services.money.settlement,
        DISTRIBUTORS,
        PendingEngines(SqlEffectLog(services.db, clock), clock),
    )
    clock.advance(16 * 3600)  # 01:00 UTC on Tuesday: the schedule's hour

    report = await port.settle_day(MONDAY, key="settlement:2026-01-05")
    again = await port.settle_day(MONDAY, key="settlement:2026-01-05")  # a retried activity

    assert report == again
    assert report.orders == 2  # payments collected that day, across the distributors
    # 3 % commission kept, the rest owed to each distributor
    assert set(report.totals) == {Money(Decimal(2425), "KES"), Money(Decimal(9700), "NGN")}
    batches = {d.name: await services.money.settlement.settle_day(d, MONDAY) for d in DISTRIBUTORS}
    assert batches["nairobi"].net == Money(Decimal(2425), "KES")
    assert batches["cape_town"].payments == 0


async def test_a_night_missed_is_settled_by_the_next_nights_run(
    services: Services, clock: SteppedClock
) -> None:
    """The schedule catches up one missed night only: Monday is settled, the cluster is down on
    Wednesday and Thursday night, and Friday night's run settles Tuesday and Wednesday too,
    in order, with Tuesday's refund carried."""
    assert services.money is not None
    books, settlement = services.money.books, services.money.settlement
    nairobi = next(d for d in DISTRIBUTORS if d.name == "nairobi")
    port = LedgerSettlement(
        settlement, DISTRIBUTORS, PendingEngines(SqlEffectLog(services.db, clock), clock)
    )
    await books.post_payment_received(JUMA, kes(2500), "mpesa", "QKA1")
    clock.advance(16 * 3600)  # 01:00 UTC on Tuesday
    await port.settle_day(MONDAY, key="settlement:2026-01-05")
    await books.post_refund(JUMA, kes(1000), "mpesa", "rf-1", payment_ref="QKA1")  # Tuesday
    clock.advance(24 * 3600)  # Wednesday
    await books.post_payment_received(JUMA, kes(3000), "mpesa", "QKC1")
    clock.advance(48 * 3600)  # 01:00 UTC on Friday

    report = await port.settle_day(date(2026, 1, 8), key="settlement:2026-01-08")

    tuesday, wednesday, thursday = [
        await settlement.settle_through(nairobi, MONDAY + timedelta(days=n)) for n in (1, 2, 3)
    ]  # recorded: each one alone
    assert [b.day for b in [*tuesday, *wednesday, *thursday]] == [
        date(2026, 1, 6),
        date(2026, 1, 7),
        date(2026, 1, 8),
    ]
    assert tuesday[0].net == kes(-970)  # 1,000 back less its 30 commission
    assert wednesday[0].carried == kes(-970)
    assert wednesday[0].net == kes(3000 - 90 - 970)
    assert report.day == date(2026, 1, 8)


async def test_the_nightly_report_lists_the_missed_days_it_settled_and_counts_them(
    services: Services, clock: SteppedClock
) -> None:
    """Friday night's run settles Tuesday and Wednesday (missed) with Thursday: the report
    names the three days and counts Wednesday's payment, Tuesday's refund netted once."""
    assert services.money is not None
    books = services.money.books
    port = LedgerSettlement(
        services.money.settlement,
        DISTRIBUTORS,
        PendingEngines(SqlEffectLog(services.db, clock), clock),
    )
    await books.post_payment_received(JUMA, kes(2500), "mpesa", "QKA1")
    clock.advance(16 * 3600)  # 01:00 UTC on Tuesday
    await port.settle_day(MONDAY, key="settlement:2026-01-05")
    await books.post_refund(JUMA, kes(1000), "mpesa", "rf-1", payment_ref="QKA1")  # Tuesday
    clock.advance(24 * 3600)  # Wednesday
    await books.post_payment_received(JUMA, kes(3000), "mpesa", "QKC1")
    clock.advance(48 * 3600)  # 01:00 UTC on Friday

    report = await port.settle_day(date(2026, 1, 8), key="settlement:2026-01-08")

    assert report.day == date(2026, 1, 8)
    assert report.days == (date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 8))
    assert report.orders == 1  # Wednesday's payment
    # Tuesday gave back 970 (1,000 less its commission), Wednesday kept 2,910: 1,940 in all
    assert report.totals == (kes(1940),)
