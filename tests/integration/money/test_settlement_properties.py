"""Hypothesis: whatever is paid and given back over a few days — each refund confirmed once or
twice, on the payment's day or later, each day settled once or twice — every refund is netted
out of the distributor's settlement exactly once: what the batches accrued plus what the last
day still owes back is what was kept (payments less refunds) less commission, the distributor's
account holds what the batches accrued, and the books balance.

A fresh SQLite database per example (a copy of the migrated template).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import SteppedClock
from core.db import Database
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.ledger import Books, LedgerService, chart
from engines.settlement import Distributor, SettlementService
from tests.support.databases import migrated_sqlite

NAIROBI = Distributor("nairobi-central", "KES", Decimal("0.03"), "nibss", "Africa/Nairobi")
MONDAY = date(2026, 1, 5)  # the stepped clock starts at 12:00 in Nairobi
DAYS = 4
_examples = itertools.count(1)

# a payment: its day, its amount, and its refunds: (days after the payment, share of what is
# left, the confirmation delivered twice)
_refund = st.tuples(st.integers(0, 2), st.sampled_from([1, 2, 3, 4]), st.booleans())
payments_st = st.lists(
    st.tuples(
        st.integers(0, DAYS - 1),
        st.decimals(min_value=Decimal("1.00"), max_value=Decimal("5000.00"), places=2),
        st.lists(_refund, max_size=2),
    ),
    max_size=6,
)
reruns_st = st.lists(st.booleans(), min_size=DAYS, max_size=DAYS)


def kes(amount: Decimal) -> Money:
    return Money(amount, "KES")


async def _scenario(
    url: str, payments: list[tuple[int, Decimal, list[tuple[int, int, bool]]]], reruns: list[bool]
) -> None:
    db = Database(url)
    clock = SteppedClock()
    ledger = LedgerService(db, clock, RandomIds())
    books = Books(ledger)
    settlement = SettlementService(db, books, clock, RandomIds())
    juma = Phone("+254711000001")
    # what happens on each day: (receipt, refund id or "" for the payment, amount, twice)
    days: list[list[tuple[str, str, Decimal, bool]]] = [[] for _ in range(DAYS)]
    paid_in = refunded = Decimal(0)
    for n, (first, amount, refunds) in enumerate(payments):
        receipt = f"QK{n}"
        days[first].append((receipt, "", amount, False))
        paid_in += amount
        left = amount
        for r, (later, share, twice) in enumerate(refunds):
            back = (left / share).quantize(Decimal("0.01"))
            if first + later < DAYS and back > 0:
                days[first + later].append((receipt, f"rf-{n}-{r}", back, twice))
                refunded += back
                left -= back
    try:
        batches = []
        for d, events in enumerate(days):
            for receipt, refund, amount, again in events:
                if not refund:
                    await books.post_payment_received(juma, kes(amount), "mpesa", receipt)
                    continue
                for _ in range(2 if again else 1):
                    await books.post_refund(juma, kes(amount), "mpesa", refund, payment_ref=receipt)
            clock.advance(24 * 3600)  # the next day, at noon: the night's run is over
            day = MONDAY + timedelta(days=d)
            batch = await settlement.settle_day(NAIROBI, day)
            if reruns[d]:
                assert await settlement.settle_day(NAIROBI, day) == batch
            batches.append(batch)

        zero = Money.zero("KES")
        assert sum((b.gross for b in batches), zero) == kes(paid_in)
        assert sum((b.refunds for b in batches), zero) == kes(refunded)  # each one once
        commission = sum((b.commission for b in batches), zero)
        accrued = sum((b.net for b in batches if b.net.amount > 0), zero)
        still_owed_back = min(batches[-1].net, zero, key=lambda m: m.amount)
        assert accrued + still_owed_back == kes(paid_in - refunded) - commission
        for before, after in itertools.pairwise(batches):
            assert after.carried == min(before.net, zero, key=lambda m: m.amount)
        assert abs(commission.amount - (paid_in - refunded) * NAIROBI.commission_rate) <= (
            Decimal("0.005") * DAYS
        )
        owed = await books.account(chart.distributor(NAIROBI.name, "KES"))
        assert owed.balance == accrued
        assert (await ledger.check()).balanced
    finally:
        await ledger.close()
        await db.dispose()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payments=payments_st, reruns=reruns_st)
def test_every_refund_is_netted_out_of_the_distributors_settlement_once(
    sqlite_template: Path,
    tmp_path: Path,
    payments: list[tuple[int, Decimal, list[tuple[int, int, bool]]]],
    reruns: list[bool],
) -> None:
    url = migrated_sqlite(sqlite_template, tmp_path / f"example-{next(_examples)}.db")
    asyncio.run(_scenario(url, payments, reruns))


async def _payout_scenario(url: str, amounts: list[Decimal], refused: list[bool]) -> None:
    """A payment a day, each day settled and its payout answered by the bank (refused or paid;
    the last one paid): every refused payout is carried by a later one, once."""
    db = Database(url)
    clock = SteppedClock()
    ledger = LedgerService(db, clock, RandomIds())
    books = Books(ledger)
    settlement = SettlementService(db, books, clock, RandomIds())
    zero = Money.zero("KES")
    try:
        accrued = sent = zero
        for d, amount in enumerate(amounts):
            await books.post_payment_received(Phone("+254711000001"), kes(amount), "mpesa", f"Q{d}")
            clock.advance(24 * 3600)
            day = MONDAY + timedelta(days=d)
            batch = await settlement.settle_day(NAIROBI, day)
            accrued += batch.net
            held = await settlement.payout_held(NAIROBI.name, day)
            assert held is not None
            if refused[d] and d < len(amounts) - 1:
                await settlement.payout_failed(NAIROBI.name, day)
            else:
                await settlement.payout_confirmed(NAIROBI.name, day)
                sent += held
        assert sent == accrued  # every refused payout paid by a later one, none twice
        owed = await books.account(chart.distributor(NAIROBI.name, "KES"))
        assert (owed.balance, owed.balances.debits_pending) == (zero, Decimal(0))
        assert (await ledger.check()).balanced
    finally:
        await ledger.close()
        await db.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amounts=st.lists(
        st.decimals(min_value=Decimal("1.00"), max_value=Decimal("5000.00"), places=2),
        min_size=1,
        max_size=DAYS,
    ),
    refused=st.lists(st.booleans(), min_size=DAYS, max_size=DAYS),
)
def test_every_refused_payout_is_paid_by_a_later_settlement_once(
    sqlite_template: Path, tmp_path: Path, amounts: list[Decimal], refused: list[bool]
) -> None:
    url = migrated_sqlite(sqlite_template, tmp_path / f"example-{next(_examples)}.db")
    asyncio.run(_payout_scenario(url, amounts, refused))


async def _any_order_scenario(
    url: str, flows: list[tuple[Decimal, Decimal]], order: list[int]
) -> None:
    """A payment and a refund (of an earlier payment) a day; the days are settled in any order
    once all are over: each day is settled after the days before it, what the batches accrued
    plus what the last day still owes back is what was kept less fees and commission, and a
    day that owed back paid nothing."""
    db = Database(url)
    clock = SteppedClock()
    ledger = LedgerService(db, clock, RandomIds())
    books = Books(ledger)
    settlement = SettlementService(db, books, clock, RandomIds())
    juma = Phone("+254711000001")
    zero = Money.zero("KES")
    try:
        await books.post_payment_received(juma, kes(Decimal(100_000)), "mpesa", "QK-OPEN")
        clock.advance(24 * 3600)
        await settlement.settle_day(NAIROBI, MONDAY - timedelta(days=1))  # the first batch
        for d, (paid, back) in enumerate(flows):
            if paid:
                await books.post_payment_received(juma, kes(paid), "mpesa", f"QK{d}")
                await books.post_rail_fee("mpesa", kes(Decimal(1)), f"QK{d}")
            if back:
                await books.post_refund(juma, kes(back), "mpesa", f"rf-{d}", payment_ref="QK-OPEN")
            clock.advance(24 * 3600)
        for d in order:
            await settlement.settle_day(NAIROBI, MONDAY + timedelta(days=d))
        batches = [
            await settlement.settle_day(NAIROBI, MONDAY + timedelta(days=d))
            for d in range(len(flows))
        ]
        kept = sum((b.gross - b.refunds - b.fees - b.commission for b in batches), zero)
        accrued = sum((b.net for b in batches if b.net.amount > 0), zero)
        assert accrued + min(batches[-1].net, zero, key=lambda m: m.amount) == kept
        for before, after in itertools.pairwise(batches):
            assert after.carried == min(before.net, zero, key=lambda m: m.amount)
        for b in batches:
            accrual = await ledger.get_transfer(
                chart.transfer_id("settlement", NAIROBI.name, b.day.isoformat())
            )
            assert (accrual is not None) == (b.net.amount > 0)
        opening = (await settlement.settle_day(NAIROBI, MONDAY - timedelta(days=1))).net
        owed = await books.account(chart.distributor(NAIROBI.name, "KES"))
        assert owed.balance == opening + accrued
        assert (await ledger.check()).balanced
    finally:
        await ledger.close()
        await db.dispose()


_amount = st.one_of(
    st.just(Decimal(0)),
    st.decimals(min_value=Decimal("1.00"), max_value=Decimal("5000.00"), places=2),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    flows=st.lists(st.tuples(_amount, _amount), min_size=1, max_size=DAYS),
    data=st.data(),
)
def test_days_settled_in_any_order_pay_out_what_was_kept_and_never_a_shortfall_day(
    sqlite_template: Path,
    tmp_path: Path,
    flows: list[tuple[Decimal, Decimal]],
    data: st.DataObject,
) -> None:
    days = list(range(len(flows)))
    order = data.draw(st.lists(st.sampled_from(days), min_size=1, max_size=2 * len(days)))
    url = migrated_sqlite(sqlite_template, tmp_path / f"example-{next(_examples)}.db")
    asyncio.run(_any_order_scenario(url, flows, order))
