"""Hypothesis: over days of pay-on-delivery doors (by one driver or another, or taken at the
depot), hand-overs at the depot (some more than the driver holds: refused) and payments on a
rail, each day's settlement counts the cash that reached the depot that day (handed in, or taken
there), once however often it is settled, never the cash still on the road: what the days
settled plus what the drivers still hold is what was collected. The depot keeps that cash: the
bank payouts send the rail money less the commission on it and on the cash, never a negative
amount (a day owing more carries it), so what the distributor received (bank and depot cash),
less what it still owes, is what came in less the commission, nothing twice. Each day's takings
are split as handing the oldest cash in first leaves them: what the drivers still hold of them
plus what was handed in is what was collected that day, and what they hold of all the days is
what they hold.

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

from core.app.money import DISTRIBUTORS
from core.clock import SteppedClock
from core.db import Database
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.ledger import Books, LedgerService, TransferRefusedError, chart
from engines.settlement import SettlementService
from tests.support.databases import migrated_sqlite

DRIVERS = (Phone("+2348031000001"), Phone("+2348031000002"))
NGOZI = Phone("+2348030000001")
LAGOS = next(d for d in DISTRIBUTORS if d.name == "lagos")
MONDAY = date(2026, 1, 5)  # the stepped clock starts at 10:00 in Lagos
_examples = itertools.count(1)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("90000.00"), places=2)
door = st.tuples(st.just("door"), st.sampled_from([0, 1, None]), amounts)
hand_over = st.tuples(st.just("hand"), st.sampled_from([0, 1]), amounts)
on_a_rail = st.tuples(st.just("rail"), amounts)
next_day = st.tuples(st.just("night"))
steps_st = st.lists(st.one_of(door, hand_over, on_a_rail, next_day), max_size=14)


def ngn(amount: Decimal) -> Money:
    return Money(amount, "NGN")


async def _scenario(url: str, steps: list[tuple[object, ...]]) -> None:
    db = Database(url)
    clock = SteppedClock()
    ledger = LedgerService(db, clock, RandomIds())
    books = Books(ledger)
    settlement = SettlementService(db, books, clock, RandomIds())
    day = MONDAY
    # the oracle: each driver's takings still held, oldest first, as (day, amount)
    queues: list[list[tuple[date, Decimal]]] = [[], []]
    collected: dict[date, Decimal] = {}
    doors: dict[date, int] = {}
    at_the_depot: dict[date, list[Decimal]] = {}  # what reached the depot, by day
    on_rails: dict[date, Decimal] = {}  # what came in on a rail, by day
    try:
        for n, step in enumerate(steps):
            if step[0] == "night":
                clock.advance(24 * 3600)
                day += timedelta(days=1)
            elif step[0] == "rail":
                _, amount = step
                assert isinstance(amount, Decimal)
                await books.post_payment_received(NGOZI, ngn(amount), "paystack", f"P{n}")
                on_rails[day] = on_rails.get(day, Decimal(0)) + amount
            elif step[0] == "door":
                _, who, amount = step
                assert isinstance(amount, Decimal)
                reference = f"C{n}"
                await books.order_placed(reference, NGOZI, ngn(amount))
                await books.order_delivered(reference, Money.zero("NGN"), None)
                holder = (
                    chart.depot_cash(LAGOS.name, "NGN")
                    if who is None
                    else chart.driver_cash(DRIVERS[int(str(who))], "NGN")
                )
                await books.cash_collected(reference, NGOZI, ngn(amount), holder)
                took = ngn(amount).in_cash().amount  # whole naira change hands
                if took == 0:  # under half a naira: nothing changed hands
                    continue
                collected[day] = collected.get(day, Decimal(0)) + took
                doors[day] = doors.get(day, 0) + 1
                if who is not None:
                    queues[int(str(who))].append((day, took))
                else:
                    at_the_depot.setdefault(day, []).append(took)
            else:
                _, who, amount = step
                assert isinstance(amount, Decimal)
                at = int(str(who))
                try:
                    await books.cash_handed_in(DRIVERS[at], LAGOS.name, ngn(amount), f"H{n}")
                except TransferRefusedError:
                    assert amount > sum(q[1] for q in queues[at])
                    continue
                at_the_depot.setdefault(day, []).append(amount)
                left = amount
                while left > 0:  # his oldest takings first
                    taken_on, oldest = queues[at].pop(0)
                    paid = min(left, oldest)
                    left -= paid
                    if paid < oldest:
                        queues[at].insert(0, (taken_on, oldest - paid))

        clock.advance(24 * 3600)  # the last day is over
        on_the_road = Money.zero("NGN")
        settled_cash = sent_by_bank = commission = Money.zero("NGN")
        last = None
        for n in range((day - MONDAY).days + 1):
            settled = MONDAY + timedelta(days=n)
            cash = await settlement.cash_day(LAGOS, settled)
            held = sum((a for queue in queues for d, a in queue if d == settled), Decimal(0))
            assert cash.collected == ngn(collected.get(settled, Decimal(0)))
            assert cash.orders == doors.get(settled, 0)
            assert cash.held_by_drivers == ngn(held)
            assert cash.held_by_drivers + cash.handed_in == cash.collected
            assert cash.handed_in >= Money.zero("NGN")
            on_the_road += cash.held_by_drivers
            arrived = at_the_depot.get(settled, [])
            batches = [await settlement.settle_day(LAGOS, settled) for _ in range(2)]
            for batch in batches:  # settled twice: once
                assert batch.cash == ngn(sum(arrived, Decimal(0)))  # held by us, not on the road
                assert batch.hand_ins == len(arrived)
                assert batch.gross == ngn(on_rails.get(settled, Decimal(0)))
            payout = await settlement.payout_held(LAGOS.name, settled)
            assert payout is None or payout.amount > 0  # never a negative bank transfer
            sent_by_bank += payout or Money.zero("NGN")
            settled_cash += batches[0].cash
            commission += batches[0].commission
            last = batches[0]
        drivers = [(await books.account(chart.driver_cash(d, "NGN"))).balance for d in DRIVERS]
        assert sum(drivers, Money.zero("NGN")) == on_the_road
        assert settled_cash + on_the_road == ngn(sum(collected.values(), Decimal(0)))
        assert last is not None
        still_owes = Money.zero("NGN") - min(last.net, Money.zero("NGN"))  # carried onwards
        came_in = settled_cash + ngn(sum(on_rails.values(), Decimal(0)))
        assert sent_by_bank + settled_cash - still_owes == came_in - commission
        owed = await books.account(chart.distributor(LAGOS.name, "NGN"))
        assert owed.balance == sent_by_bank  # each day's share accrued once, its payout held
        depot = await books.account(chart.depot_cash(LAGOS.name, "NGN"))
        assert depot.balance == Money.zero("NGN")  # the distributor keeps the notes, once
        assert (await ledger.check()).balanced
    finally:
        await ledger.close()
        await db.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps_st)
def test_the_distributor_receives_what_came_in_less_commission_once_cash_kept_at_its_depot(
    sqlite_template: Path, tmp_path: Path, steps: list[tuple[object, ...]]
) -> None:
    url = migrated_sqlite(sqlite_template, tmp_path / f"example-{next(_examples)}.db")
    asyncio.run(_scenario(url, steps))
