"""The nightly settlement workflow's activity settles every distributor's day on the ledger."""

from __future__ import annotations

from datetime import date
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
