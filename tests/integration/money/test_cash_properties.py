"""Hypothesis: whatever pay-on-delivery orders are delivered (in full or short, by one driver or
another, or with no driver's route: taken at the depot) and whatever cash the drivers hand in at
the depot (some of it more than they hold, which is refused and moves nothing), each event
handled once or twice: each door takes what arrived rounded to whole naira (cash rounding),
what the drivers hold plus what the depot took is what was collected, and that plus the
platform's cash rounding is what arrived; each driver holds what he took less what he handed
in, every retailer owes nothing for what arrived, and the books balance.

A fresh SQLite database per example (a copy of the migrated template).
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import SteppedClock
from core.db import Database
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.ledger import Books, LedgerService, TransferRefusedError, TransferResult, chart
from tests.support.databases import migrated_sqlite

DRIVERS = (Phone("+2348031000001"), Phone("+2348031000002"))
RETAILERS = (Phone("+2348030000001"), Phone("+2348030000002"), Phone("+2348030000003"))
DEPOT = "lagos"
_examples = itertools.count(1)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("90000.00"), places=2)
# a delivery: the driver (None: no driver's route, the depot took it), the retailer, what was
# ordered, the share of it that arrived (1: in full), and its event handled twice
delivery = st.tuples(
    st.just("deliver"),
    st.sampled_from([0, 1, None]),
    st.integers(0, len(RETAILERS) - 1),
    amounts,
    st.sampled_from([Decimal(1), Decimal(1), Decimal("0.5"), Decimal("0.25")]),
    st.booleans(),
)
# a hand-over: the driver, the amount, and the command run twice with its key
hand_over = st.tuples(st.just("hand"), st.sampled_from([0, 1]), amounts, st.booleans())
steps_st = st.lists(st.one_of(delivery, hand_over), max_size=12)


def ngn(amount: Decimal) -> Money:
    return Money(amount, "NGN")


async def balance(books: Books, spec: chart.AccountSpec) -> Money:
    return (await books.account(spec)).balance


async def _scenario(url: str, steps: list[tuple[object, ...]]) -> None:
    db = Database(url)
    ledger = LedgerService(db, SteppedClock(), RandomIds())
    books = Books(ledger)
    held = [Decimal(0), Decimal(0)]
    depot = collected = owed = Decimal(0)
    try:
        for n, step in enumerate(steps):
            if step[0] == "deliver":
                _, who, retailer_at, ordered, share, twice = step
                assert isinstance(ordered, Decimal)
                assert isinstance(share, Decimal)
                customer = RETAILERS[int(str(retailer_at))]
                arrived = max((ordered * share).quantize(Decimal("0.01")), Decimal("0.01"))
                reference = f"C{n}"
                await books.order_placed(reference, customer, ngn(ordered))
                await books.order_delivered(
                    reference, Money.zero("NGN"), ngn(arrived) if arrived < ordered else None
                )
                holder = (
                    chart.depot_cash(DEPOT, "NGN")
                    if who is None
                    else chart.driver_cash(DRIVERS[int(str(who))], "NGN")
                )
                for _ in range(2 if twice else 1):
                    await books.cash_collected(reference, customer, ngn(arrived), holder)
                took = ngn(arrived).in_cash().amount  # whole naira change hands
                assert took == took.to_integral_value()
                assert abs(took - arrived) <= Decimal("0.50")
                owed += arrived
                collected += took
                if who is None:
                    depot += took
                else:
                    held[int(str(who))] += took
            else:
                _, who, amount, twice = step
                assert isinstance(amount, Decimal)
                at = int(str(who))
                hand = books.cash_handed_in
                for _ in range(2 if twice else 1):
                    if amount > held[at]:  # more than he holds: refused, nothing moves
                        with pytest.raises(TransferRefusedError) as refused:
                            await hand(DRIVERS[at], DEPOT, ngn(amount), f"H{n}")
                        assert refused.value.result is TransferResult.EXCEEDS_DEBITS
                    else:
                        await hand(DRIVERS[at], DEPOT, ngn(amount), f"H{n}")
                if amount <= held[at]:
                    held[at] -= amount
                    depot += amount
            drivers = [await balance(books, chart.driver_cash(d, "NGN")) for d in DRIVERS]
            assert drivers == [ngn(h) for h in held]
            at_depot = await balance(books, chart.depot_cash(DEPOT, "NGN"))
            assert at_depot == ngn(depot)
            assert sum(drivers, at_depot) == ngn(collected)
            rounding = await balance(books, chart.cash_rounding("NGN"))
            assert ngn(collected) + rounding == ngn(owed)
        for retailer in RETAILERS:
            assert await balance(books, chart.receivable(retailer, "NGN")) == Money.zero("NGN")
        assert (await ledger.check()).balanced
    finally:
        await ledger.close()
        await db.dispose()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps_st)
def test_what_drivers_hold_and_the_depot_took_is_what_was_collected(
    sqlite_template: Path, tmp_path: Path, steps: list[tuple[object, ...]]
) -> None:
    url = migrated_sqlite(sqlite_template, tmp_path / f"example-{next(_examples)}.db")
    asyncio.run(_scenario(url, steps))
