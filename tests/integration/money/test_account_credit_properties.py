"""Hypothesis: whatever orders a retailer pays from the credit kept on her account, each
confirmed once or several times at once, and several orders confirmed at the same moment: her
credit never goes below zero, no order is paid twice, an order is refused only when what is left
cannot pay it, and the books balance. On SQLite and on the real PostgreSQL.

One database per test; each example is a new retailer on it.
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import SteppedClock
from core.db import Database
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.ledger import Books, LedgerService, TransferRefusedError, TransferResult, chart

_retailers = itertools.count(1)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000.00"), places=2)
# each order: its total and how many confirms arrive for it at once (a retried confirm)
orders_st = st.lists(st.tuples(amounts, st.integers(1, 3)), min_size=1, max_size=6)


def kes(amount: Decimal) -> Money:
    return Money(amount, "KES")


async def confirm(books: Books, reference: str, her: Phone, total: Money) -> TransferResult | None:
    """One confirm of an order paid from her credit: None paid, else why it was refused."""
    try:
        await books.order_paid_from_credit(reference, her, total)
    except TransferRefusedError as refused:
        return refused.result
    return None


async def _scenario(url: str, kept: Decimal, orders: list[tuple[Decimal, int]]) -> None:
    db = Database(url)
    ledger = LedgerService(db, SteppedClock(), RandomIds())
    books = Books(ledger)
    n = next(_retailers)
    her = Phone(f"+25471{n:07d}")
    try:
        await books.post_payment_received(her, kes(kept), "mpesa", f"KEPT-{n}")
        # every order and every retry of it at the same moment
        calls = [
            (f"R{n}-{i}", total) for i, (total, times) in enumerate(orders) for _ in range(times)
        ]
        answers = await asyncio.gather(
            *(confirm(books, ref, her, kes(total)) for ref, total in calls)
        )
        paid: dict[str, Decimal] = {}
        refused: set[str] = set()
        for (ref, total), refusal in zip(calls, answers, strict=True):
            if refusal is None:
                paid[ref] = total
            else:
                assert refusal is TransferResult.EXCEEDS_CREDITS
                refused.add(ref)
        # a retry answers as the first confirm did: never paid and refused both
        assert not (set(paid) & refused)
        left = await books.account_credit(her, "KES")
        assert left.amount >= 0
        assert left == kes(kept - sum(paid.values(), Decimal(0)))
        # one hold per order paid, none for one refused
        account = await books.account(chart.receivable(her, "KES"))
        holds = await ledger.transfers(account_ids=[account.id], codes=["order"])
        assert sorted(t.reference for t in holds) == sorted(paid)
        for ref in refused:
            assert orders[int(ref.split("-")[1])][0] > left.amount
        assert (await books.account(chart.receivable(her, "KES"))).available == kes(-left.amount)
        assert (await ledger.check()).balanced
    finally:
        await ledger.close()
        await db.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kept=amounts, orders=orders_st)
def test_credit_on_her_account_is_never_overspent_nor_spent_twice(
    any_database_url: str, kept: Decimal, orders: list[tuple[Decimal, int]]
) -> None:
    asyncio.run(_scenario(any_database_url, kept, orders))


async def test_two_orders_racing_for_the_part_her_credit_pays_take_it_once(
    any_database_url: str,
) -> None:
    """KES 200 of hers, two checkouts at once each counting on it for part of an order (one
    confirmed twice): one order's hold takes it, the other is refused, and a retry answers as
    the first confirm did."""
    db = Database(any_database_url)
    ledger = LedgerService(db, SteppedClock(), RandomIds())
    books = Books(ledger)
    her = Phone("+254719999001")
    kept = kes(Decimal(200))

    async def part(reference: str, total: Decimal) -> TransferResult | None:
        try:
            await books.order_part_paid_from_credit(reference, her, kes(total), kept)
        except TransferRefusedError as refused:
            return refused.result
        return None

    try:
        await books.post_payment_received(her, kept, "mpesa", "KEPT-PART")
        first, second, again = await asyncio.gather(
            part("PART1", Decimal("2521.26")),
            part("PART2", Decimal("1000.00")),
            part("PART1", Decimal("2521.26")),
        )
        assert first == again
        assert sorted([first, second], key=str) == sorted(
            [None, TransferResult.EXCEEDS_CREDITS], key=str
        )
        assert await books.account_credit(her, "KES") == kes(Decimal(0))
        assert (await ledger.check()).balanced
    finally:
        await ledger.close()
        await db.dispose()
