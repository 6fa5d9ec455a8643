"""Hypothesis: any sequence of transfers, retries and clashes keeps the books sound.

An independent oracle (a few dicts, written from the rules in the README, not from the
engine) predicts each answer; the database must agree with it, debits must equal credits,
the running sums must equal a replay, and no limit may be broken. SQLite on every run;
a smaller run against the PostgreSQL function proves the two implementations agree.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

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
)

_examples = itertools.count(1)

FLAGS = [
    AccountFlags.NONE,
    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
]

accounts_st = st.lists(
    st.tuples(st.sampled_from(FLAGS), st.integers(0, 80), st.sampled_from(["NGN"] * 4 + ["KES"])),
    min_size=3,
    max_size=4,
)
_amounts = st.integers(-1, 60)
_earlier = st.integers(0, 4)  # how many ops back (none there: a transfer that never was)
_new = st.tuples(
    st.sampled_from(["posted", "posted", "pending"]),
    st.integers(0, 3),
    st.sampled_from([1, 2, 3, 1, 2, 3, 0]),  # the credit account, as an offset from the debit
    _amounts,
    st.sampled_from(["NGN"] * 6 + ["KES"]),
)
op_st = st.one_of(
    _new,
    _new,
    _new,
    st.tuples(st.just("post"), _earlier, st.sampled_from([None, None, 5, 20, 60])),
    st.tuples(st.just("void"), _earlier),
    st.tuples(st.just("retry"), _earlier),
    st.tuples(st.just("clash"), _earlier),
)


@dataclass
class Oracle:
    flags: list[AccountFlags]
    limits: list[int]
    currencies: list[str]
    sums: list[list[int]] = field(default_factory=list)  # dp, dpo, cp, cpo
    done: dict[int, tuple[object, ...]] = field(default_factory=dict)  # op index -> request
    pendings: dict[int, list[object]] = field(default_factory=dict)  # op index -> [d, c, amt, st]

    def __post_init__(self) -> None:
        self.sums = [[0, 0, 0, 0] for _ in self.flags]

    def within(self, i: int, s: list[int]) -> str:
        dp, dpo, cp, cpo = s
        if (
            self.flags[i] & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
            and dp + dpo > cpo + (self.limits[i])
        ):
            return "exceeds_credits"
        if (
            self.flags[i] & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
            and cp + cpo > dpo + (self.limits[i])
        ):
            return "exceeds_debits"
        return "ok"

    def apply(self, n: int, key: tuple[object, ...]) -> str:
        kind = key[0]
        if kind in ("posted", "pending"):
            _, d, c, amount, currency = key
            assert isinstance(d, int)
            assert isinstance(c, int)
            assert isinstance(amount, int)
            if amount <= 0:
                return "amount_must_be_positive"
            if d == c:
                return "accounts_must_be_different"
            if not self.currencies[d] == self.currencies[c] == currency:
                return "currency_mismatch"
            nd, nc = list(self.sums[d]), list(self.sums[c])
            if kind == "posted":
                nd[1] += amount
                nc[3] += amount
            else:
                nd[0] += amount
                nc[2] += amount
            for i, s in ((d, nd), (c, nc)):
                verdict = self.within(i, s)
                if verdict != "ok":
                    return verdict
            self.sums[d], self.sums[c] = nd, nc
            if kind == "pending":
                self.pendings[n] = [d, c, amount, "pending", currency]
            return "ok"
        target = key[1]
        assert isinstance(target, int)
        pending = self.pendings.get(target)
        if pending is None:
            return "pending_transfer_not_found"
        d, c, held, status, currency = pending
        assert isinstance(d, int)
        assert isinstance(c, int)
        assert isinstance(held, int)
        if status != "pending":
            return f"pending_transfer_already_{status}"
        if kind == "post" and key[2] is not None and currency != "NGN":
            return "currency_mismatch"  # the test posts explicit amounts in NGN
        amount = held if kind == "void" or key[2] is None else key[2]
        assert isinstance(amount, int)
        if amount > held:
            return "exceeds_pending_transfer_amount"
        self.sums[d][0] -= held
        self.sums[c][2] -= held
        if kind == "post":
            self.sums[d][1] += amount
            self.sums[c][3] += amount
        pending[3] = "posted" if kind == "post" else "voided"
        return "ok"


def _request(
    key: tuple[object, ...],
    transfer_id: uuid.UUID,
    ids: list[uuid.UUID],
    transfer_ids: list[uuid.UUID],
    never: uuid.UUID,
) -> TransferRequest:
    kind = key[0]
    if kind in ("posted", "pending"):
        _, d, c, amount, currency = key
        assert isinstance(d, int)
        assert isinstance(c, int)
        assert isinstance(amount, int)
        assert isinstance(currency, str)
        money = Money(Decimal(amount), currency)
        make = TransferRequest.posted if kind == "posted" else TransferRequest.pending
        return make(transfer_id, ids[d % len(ids)], ids[c % len(ids)], money, code="test")
    target = key[1]
    assert isinstance(target, int)
    pending_id = transfer_ids[target] if target >= 0 else never
    if kind == "void":
        return TransferRequest.void(transfer_id, pending_id, code="test")
    amount = key[2]
    money = None if amount is None else Money(Decimal(str(amount)), "NGN")
    return TransferRequest.post(transfer_id, pending_id, money, code="test")


async def _scenario(
    url: str, specs: list[tuple[AccountFlags, int, str]], ops: list[tuple[object, ...]]
) -> None:
    db = Database(url)
    ledger = LedgerService(db, SteppedClock(), RandomIds())
    example = next(_examples)
    try:
        ids = []
        for i, (flags, limit, currency) in enumerate(specs):
            account = await ledger.open_account(
                f"p{example}:{i}", AccountType.ASSET, currency, flags=flags, limit=Decimal(limit)
            )
            ids.append(account.id)
        n_accounts = len(specs)
        oracle = Oracle([s[0] for s in specs], [s[1] for s in specs], [s[2] for s in specs])
        transfer_ids = [uuid.uuid4() for _ in ops]
        never = uuid.uuid4()
        keys: dict[int, tuple[object, ...]] = {}  # op index -> the request it sent
        for n, op in enumerate(ops):
            kind, index = op[0], n
            if kind in ("posted", "pending"):
                _, d, c, amount, currency = op
                assert isinstance(d, int)
                assert isinstance(c, int)
                d %= n_accounts
                key: tuple[object, ...] = (kind, d, (d + c) % n_accounts, amount, currency)
            elif kind in ("post", "void"):
                back = op[1]
                assert isinstance(back, int)
                key = (kind, n - 1 - back, op[2] if kind == "post" else None)
            else:  # retry / clash: re-send an earlier posted/pending request, or change it
                back = op[1]
                assert isinstance(back, int)
                target = n - 1 - back
                earlier = keys.get(target)
                if earlier is None or earlier[0] not in ("posted", "pending"):
                    continue
                index, key = target, earlier
                if kind == "clash":
                    amount = key[3]
                    assert isinstance(amount, int)
                    key = (*key[:3], amount + 1, key[4])
            keys.setdefault(index, key)
            tid = transfer_ids[index]
            recorded = oracle.done.get(index)
            if recorded is not None:
                expected = "exists" if recorded == key else "exists_with_different_fields"
            else:
                expected = oracle.apply(index, key)
                if expected == "ok":
                    oracle.done[index] = key
                    keys[index] = key
            try:
                await ledger.transfer(_request(key, tid, ids, transfer_ids, never))
                got = "exists" if expected == "exists" else "ok"
            except TransferRefusedError as refused:
                got = refused.result.value
            assert got == expected, (n, key)
            event(got)
        for i, account_id in enumerate(ids):
            account = next(a for a in await ledger.accounts(f"p{example}:") if a.id == account_id)
            b = account.balances
            stored = [b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted]
            assert stored == [Decimal(x) for x in oracle.sums[i]]
            assert oracle.within(i, oracle.sums[i]) == "ok"
        report = await ledger.check()
        assert report.mismatches == []
        assert report.over_limit == []  # every limit held
        assert report.balanced  # debits equal credits, per currency
    finally:
        await ledger.close()
        await db.dispose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=accounts_st, ops=st.lists(op_st, min_size=8, max_size=30))
def test_any_sequence_keeps_the_books_balanced_on_sqlite(
    database_url: str, specs: list[tuple[AccountFlags, int, str]], ops: list[tuple[object, ...]]
) -> None:
    asyncio.run(_scenario(database_url, specs, ops))


@pytest.mark.real
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=accounts_st, ops=st.lists(op_st, min_size=8, max_size=30))
def test_the_postgresql_function_agrees_with_the_rules(
    pg_database_url: str, specs: list[tuple[AccountFlags, int, str]], ops: list[tuple[object, ...]]
) -> None:
    asyncio.run(_scenario(pg_database_url, specs, ops))
