"""Many clients hammering the same few accounts on PostgreSQL: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from decimal import Decimal

import pytest

from core.clock import SteppedClock
from core.db import Database
from core.ids import RandomIds
from core.money import Money
from engines.ledger import (
    AccountFlags,
    AccountType,
    LedgerService,
    TransferRefusedError,
    TransferRequest,
    TransferResult,
)

pytestmark = [pytest.mark.real, pytest.mark.slow]

CLIENTS = 12
TRANSFERS_PER_CLIENT = 60


async def test_concurrent_transfers_on_hot_accounts_match_a_replay(pg_database_url: str) -> None:
    # several engines: separate pools, so these really are many connections at once
    dbs = [Database(pg_database_url) for _ in range(3)]
    ledgers = [LedgerService(db, SteppedClock(), RandomIds()) for db in dbs]
    try:
        ledger = ledgers[0]
        capped = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
        wallets = [
            await ledger.open_account(f"w{i}", AccountType.LIABILITY, "NGN", flags=capped)
            for i in range(3)
        ]
        line = await ledger.open_account(
            "credit-line", AccountType.ASSET, "NGN", flags=capped, limit=Decimal(500)
        )
        source = await ledger.open_account("source", AccountType.EQUITY, "NGN")
        hot = [w.id for w in wallets] + [line.id]
        for w in wallets:
            await ledger.transfer(
                TransferRequest.posted(uuid.uuid4(), source.id, w.id, Money(300, "NGN"))
            )

        # every fifth request is sent twice at once by two clients: it must count once
        shared = [uuid.uuid4() for _ in range(TRANSFERS_PER_CLIENT)]
        outcomes: Counter[str] = Counter()
        accepted: set[uuid.UUID] = set()

        async def client(n: int) -> None:
            mine = ledgers[n % len(ledgers)]
            local = random.Random(n)
            for k in range(TRANSFERS_PER_CLIENT):
                debit, credit = local.sample(hot, 2)
                amount = Money(local.randint(1, 90), "NGN")
                if k % 5 == 0:
                    # clients n and n^1 send the identical request
                    pair = n // 2
                    tid = uuid.uuid5(shared[k], str(pair))
                    r2 = random.Random(pair * 1000 + k)
                    debit, credit = r2.sample(hot, 2)
                    amount = Money(r2.randint(1, 90), "NGN")
                else:
                    tid = uuid.uuid4()
                try:
                    await mine.transfer(TransferRequest.posted(tid, debit, credit, amount))
                    outcomes["ok"] += 1
                    accepted.add(tid)
                except TransferRefusedError as refused:
                    outcomes[refused.result.value] += 1

        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
        # the only refusals are the limits (no deadlock or serialisation error escaped)
        assert set(outcomes) <= {"ok", TransferResult.EXCEEDS_CREDITS.value}
        report = await ledger.check()
        assert report.mismatches == []  # running sums == replay
        assert report.over_limit == []  # and every limit held
        assert report.balanced
        journal = await ledger.transfers(codes=[""])
        # exactly the accepted transfers are recorded, each once (twins answered twice)
        assert len(journal) == 3 + len(accepted)
        assert {t.id for t in journal} >= accepted
        assert outcomes["ok"] > len(accepted) > CLIENTS * TRANSFERS_PER_CLIENT // 4
        for account in await ledger.accounts():
            b = account.balances
            if account.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS:
                assert b.debits_posted <= b.credits_posted + account.balance_limit
    finally:
        for each in ledgers:
            await each.close()
        for db in dbs:
            await db.dispose()


async def test_racing_post_and_void_of_one_hold_resolve_it_once(pg_database_url: str) -> None:
    dbs = [Database(pg_database_url) for _ in range(2)]
    ledgers = [LedgerService(db, SteppedClock(), RandomIds()) for db in dbs]
    try:
        wallet = await ledgers[0].open_account("wallet", AccountType.LIABILITY, "NGN")
        cash = await ledgers[0].open_account("cash", AccountType.ASSET, "NGN")
        for _ in range(20):
            hold = uuid.uuid4()
            await ledgers[0].transfer(
                TransferRequest.pending(hold, wallet.id, cash.id, Money(10, "NGN"))
            )
            results = await asyncio.gather(
                ledgers[0].transfer(TransferRequest.post(uuid.uuid4(), hold)),
                ledgers[1].transfer(TransferRequest.void(uuid.uuid4(), hold)),
                return_exceptions=True,
            )
            assert sum(not isinstance(r, BaseException) for r in results) == 1
        report = await ledgers[0].check()
        assert report.balanced
        assert (await ledgers[0].account("wallet")).balances.debits_pending == 0
    finally:
        for each in ledgers:
            await each.close()
        for db in dbs:
            await db.dispose()


async def test_one_id_sent_at_once_with_two_bodies_records_one(pg_database_url: str) -> None:
    dbs = [Database(pg_database_url) for _ in range(2)]
    ledgers = [LedgerService(db, SteppedClock(), RandomIds()) for db in dbs]
    try:
        names = ("a", "b", "c", "d")
        accounts = [await ledgers[0].open_account(n, AccountType.ASSET, "NGN") for n in names]
        a, b, c, d = (x.id for x in accounts)
        for _ in range(20):
            tid = uuid.uuid4()
            results = await asyncio.gather(
                ledgers[0].transfer(TransferRequest.posted(tid, a, b, Money(5, "NGN"))),
                ledgers[1].transfer(TransferRequest.posted(tid, c, d, Money(5, "NGN"))),
                return_exceptions=True,
            )
            refused = [r for r in results if isinstance(r, TransferRefusedError)]
            assert len(refused) == 1
            assert refused[0].result is TransferResult.EXISTS_WITH_DIFFERENT_FIELDS
        report = await ledgers[0].check()
        assert report.balanced
        assert report.transfers == 20
    finally:
        for each in ledgers:
            await each.close()
        for db in dbs:
            await db.dispose()
