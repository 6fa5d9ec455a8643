"""Hypothesis: whatever a retailer owes on credit when money of hers is kept on her account, and
whatever she draws on credit at the same moment as that money's arrival is told (several times,
as redelivered events are): her credit repays exactly what it can of her debt, once — what she
owes and what is left of her credit add up, each repayment is texted once, and the books
balance. On SQLite and on the real PostgreSQL.

One database per test; each example is a new retailer on it.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.clock import SteppedClock
from core.db import Database
from core.i18n import Translator
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.credit import CreditService, CreditStatus
from engines.credit.tables import credit_repayments
from engines.ledger import Books, LedgerService, chart
from engines.notifications import NotificationService
from engines.orders.tables import orders

_retailers = itertools.count(1)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000.00"), places=2)
# each debt: its amount and whether she owed it before her credit arrived (else drawn at once)
debts_st = st.lists(st.tuples(amounts, st.booleans()), min_size=1, max_size=5)


def kes(amount: Decimal) -> Money:
    return Money(amount, "KES")


async def _history(db: Database, her: Phone, clock: SteppedClock, n: int) -> None:
    """Three delivered orders over sixty days: enough of a limit for every debt drawn."""
    async with db.transaction() as s:
        for i in range(3):
            at = clock.now() - timedelta(days=20 * i + 1)
            await s.execute(
                orders.insert().values(
                    id=uuid.uuid4(),
                    reference=f"H{n:04d}{i}"[:12],
                    customer=her.e164,
                    region="nairobi",
                    currency="KES",
                    subtotal=Decimal(100_000),
                    discount=Decimal(0),
                    tax=Decimal(0),
                    total=Decimal(100_000),
                    payment_method="on_delivery",
                    status="delivered",
                    idempotency_key=f"history-{her.e164}-{i}",
                    created_at=at,
                    updated_at=at,
                )
            )


async def _scenario(url: str, kept: Decimal, debts: list[tuple[Decimal, bool]], told: int) -> None:
    db = Database(url)
    clock = SteppedClock()
    ids = RandomIds()
    ledger = LedgerService(db, clock, ids)
    books = Books(ledger)
    notifications = NotificationService(db, clock, ids)
    credit = CreditService(db, books, notifications, Translator.load(), clock)
    n = next(_retailers)
    her = Phone(f"+25472{n:07d}")
    try:
        await _history(db, her, clock, n)
        assert (await credit.decide(her)).limit >= kes(Decimal(25_000))
        refs = [f"D{n:04d}{i}" for i in range(len(debts))]
        for ref, (amount, before) in zip(refs, debts, strict=True):
            if before:
                await credit.authorise(ref, her, kes(amount))
        await books.post_payment_received(her, kes(kept), "mpesa", f"KEPT-{n}")
        # its arrival told `told` times at once, while she draws the rest on credit
        await asyncio.gather(
            *(credit.spend_account_credit(her, "KES") for _ in range(told)),
            *(
                credit.authorise(ref, her, kes(amount))
                for ref, (amount, before) in zip(refs, debts, strict=True)
                if not before
            ),
        )

        total = sum((amount for amount, _ in debts), Decimal(0))
        spent = min(kept, total)
        credits = await credit.credits(her)
        assert sorted(c.order_reference for c in credits) == sorted(refs)
        owed = sum((c.outstanding.amount for c in credits), Decimal(0))
        assert owed == total - spent
        assert all(
            (c.status is CreditStatus.REPAID) == (c.outstanding.amount == 0) for c in credits
        )
        assert await books.account_credit(her, "KES") == kes(kept - spent)
        line = await books.account(chart.credit_line(her, "KES"))
        assert line.available == kes(total - spent)
        async with db.transaction() as s:
            repaid = [
                r.amount
                for r in await s.execute(
                    select(credit_repayments.c.amount).where(
                        credit_repayments.c.customer == her.e164
                    )
                )
            ]
        assert sum(repaid, Decimal(0)) == spent
        assert all(amount > 0 for amount in repaid)
        texts = [
            d
            for d in await notifications.for_recipient(her)
            if d.dedupe_key.startswith("credit-account_credit:")
        ]
        assert len(texts) == len(repaid)  # each repayment told once
        assert (await ledger.check()).balanced
    finally:
        await ledger.close()
        await db.dispose()


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kept=amounts, debts=debts_st, told=st.integers(1, 3))
def test_credit_on_her_account_repays_her_credit_debt_once_whatever_arrives_at_once(
    any_database_url: str, kept: Decimal, debts: list[tuple[Decimal, bool]], told: int
) -> None:
    asyncio.run(_scenario(any_database_url, kept, debts, told))
