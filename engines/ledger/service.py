"""Ledger use cases: open accounts, move money once, and prove the books still balance.

On PostgreSQL a transfer is one call of the `ledger_transfer` function (migration 0006): one
round trip, the account rows locked in id order inside it. On SQLite the same rules run here
in Python (`model.decide`) under the database's write lock. Either way a transfer and its two
balance updates commit together or not at all.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from core.clock import Clock
from core.db import Database
from core.db.database import (
    DEADLOCK_DETECTED,
    MAX_ATTEMPTS,
    SERIALIZATION_FAILURE,
    is_retryable,
)
from core.ids import IdGenerator
from core.money import Money
from engines.ledger.model import (
    Account,
    AccountFlags,
    AccountType,
    Balances,
    LedgerError,
    Mismatch,
    Transfer,
    TransferKind,
    TransferRefusedError,
    TransferRequest,
    TransferResult,
    TransferStatus,
    UnknownAccountError,
    check,
    decide,
    over_limit,
    replay,
    totals,
    validate_shape,
)
from engines.ledger.repository import SqlLedgerRepository

_PG_TRANSFER = text(
    "SELECT * FROM ledger_transfer(:id, :kind, :debit, :credit, :amount, :currency,"
    " :pending, :code, :reference, :now)"
)

_PG_TRANSFER_RAW = "SELECT * FROM ledger_transfer($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
UNIQUE_VIOLATION = "23505"
RETRYABLE_STATES = {SERIALIZATION_FAILURE, DEADLOCK_DETECTED}


class AccountConflictError(LedgerError):
    """An account code already exists with another type, currency or flags."""


@dataclass(frozen=True, slots=True)
class LedgerReport:
    """What the rebuild check found: mismatched accounts and debit/credit totals per currency."""

    accounts: int
    transfers: int
    mismatches: list[Mismatch] = field(default_factory=list)
    totals: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    over_limit: list[str] = field(default_factory=list)  # codes; see model.over_limit

    @property
    def balanced(self) -> bool:
        return not self.mismatches and all(d == c for d, c in self.totals.values())


class LedgerService:
    def __init__(
        self, db: Database, clock: Clock, ids: IdGenerator, *, autocommit_pool_size: int = 10
    ) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        self._pg = db.dialect == "postgresql"
        self._codes: dict[str, uuid.UUID] = {}
        # Stand-alone transfers on PostgreSQL: connections that are in autocommit from birth,
        # so a transfer is exactly one round trip (no BEGIN/COMMIT, no reset on return).
        self._auto: AsyncEngine | None = None
        if self._pg:
            self._auto = create_async_engine(
                db.url,
                isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,
                pool_size=autocommit_pool_size,
                max_overflow=0,
            )

    async def close(self) -> None:
        if self._auto is not None:
            await self._auto.dispose()

    # ---------------------------------------------------------------- accounts

    async def open_account(
        self,
        code: str,
        type_: AccountType,
        currency: str,
        *,
        flags: AccountFlags = AccountFlags.NONE,
        limit: Decimal = Decimal(0),
    ) -> Account:
        """The account named `code`, created on first use (idempotent; a clash is an error)."""
        Money.zero(currency)  # validates the currency
        async with self._db.transaction() as s:
            existing = await SqlLedgerRepository(s).account_by_code(code)
        if existing is None:
            account = Account(self._ids.uuid(), code, type_, currency, flags, limit)
            try:
                async with self._db.transaction() as s:
                    await SqlLedgerRepository(s).add_account(account, self._clock.now())
                existing = account
            except IntegrityError:
                async with self._db.transaction() as s:
                    existing = await SqlLedgerRepository(s).account_by_code(code)
                if existing is None:
                    raise
        if (existing.type, existing.currency, existing.flags) != (type_, currency, flags):
            raise AccountConflictError(code)
        self._codes[code] = existing.id
        return existing

    async def account_id(self, code: str) -> uuid.UUID:
        found = self._codes.get(code)
        if found is None:
            account = await self.account(code)
            found = account.id
        return found

    async def account(self, code: str) -> Account:
        async with self._db.transaction() as s:
            account = await SqlLedgerRepository(s).account_by_code(code)
        if account is None:
            raise UnknownAccountError(code)
        self._codes[code] = account.id
        return account

    async def find_account(self, code: str) -> Account | None:
        async with self._db.transaction() as s:
            return await SqlLedgerRepository(s).account_by_code(code)

    async def accounts(self, prefix: str | None = None) -> list[Account]:
        async with self._db.transaction() as s:
            return await SqlLedgerRepository(s).accounts(prefix=prefix)

    async def set_limit(self, code: str, limit: Decimal) -> Account:
        """Change an account's limit; the account row is locked so no transfer races it."""
        async with self._db.transaction() as s:
            repo = SqlLedgerRepository(s)
            account = await repo.account_by_code(code)
            if account is None:
                raise UnknownAccountError(code)
            await repo.lock_accounts([account.id])
            await repo.set_limit(account.id, limit)
            found = await repo.account_by_code(code)
        assert found is not None
        return found

    # ---------------------------------------------------------------- transfers

    async def transfer(self, request: TransferRequest) -> Transfer:
        """Record one transfer in its own transaction; a retried id returns the first result.

        Raises TransferRefusedError (nothing moved) when a rule forbids it.
        """
        if self._pg:
            return await self._transfer_autocommit(request)
        try:
            return await self._db.retrying(lambda s: self.transfer_in(s, request))
        except IntegrityError:
            return await self._answer_twin(request)

    async def transfer_once(self, request: TransferRequest) -> tuple[Transfer, bool]:
        """As `transfer`, and whether this call recorded it: False when the id was recorded
        before, by a retry or by a twin racing it (its accounts are locked first, so of two at
        once the second finds the first's), and the first is answered."""

        async def work(s: AsyncSession) -> tuple[Transfer, bool]:
            repo = SqlLedgerRepository(s)
            await repo.lock_accounts([request.debit_account_id, request.credit_account_id])
            existing = await repo.transfer(request.id)
            if existing is not None:
                return _existing_answer(existing, request), False
            return await self.transfer_in(s, request), True

        try:
            return await self._db.retrying(work)
        except IntegrityError:
            return await self._answer_twin(request), False

    async def transfer_all(self, requests: Sequence[TransferRequest]) -> list[Transfer]:
        """Linked transfers: all of them commit, or none does (the first refusal is raised)."""

        async def work(s: AsyncSession) -> list[Transfer]:
            return [await self.transfer_in(s, request) for request in requests]

        try:
            return await self._db.retrying(work)
        except IntegrityError:
            return await self._db.retrying(work)  # a concurrent twin won: answer as retries

    async def transfer_covered(
        self,
        request: TransferRequest,
        *,
        covering: Money | None = None,
        keeping: Money | None = None,
    ) -> Transfer:
        """Record `request` only where its debit account's credits cover it (or `covering`,
        the part of it they must cover), what pending debits already hold and `keeping` (credit
        that must stay, such as a refund still on its way out) included: the rule
        of an account that must stay in credit, for one transfer on an account that may
        otherwise go into debt (a retailer spending the credit kept on her receivable). The
        account is locked first, so two such transfers racing for the same credit cannot both
        pass. A retried id answers as its first attempt did.

        Raises TransferRefusedError (EXCEEDS_CREDITS, nothing moved) when they do not cover it.
        """
        assert request.amount is not None
        assert request.debit_account_id is not None
        debtor = request.debit_account_id
        amount = (request.amount if covering is None else covering).amount
        if keeping is not None:
            amount += keeping.amount

        async def work(s: AsyncSession) -> Transfer:
            repo = SqlLedgerRepository(s)
            account = (await repo.lock_accounts([debtor]))[debtor]
            if await repo.transfer(request.id) is None:
                b = account.balances
                if b.debits_posted + b.debits_pending + amount > b.credits_posted:
                    raise TransferRefusedError(request.id, TransferResult.EXCEEDS_CREDITS)
            return await self.transfer_in(s, request)

        try:
            return await self._db.retrying(work)
        except IntegrityError:
            return await self._answer_twin(request)

    async def locked_in(self, s: AsyncSession, account_id: uuid.UUID) -> Account:
        """The account as it stands, locked for the caller's unit of work: what it reads of the
        balances holds until it commits (a decision on them, then its transfer, as one)."""
        return (await SqlLedgerRepository(s).lock_accounts([account_id]))[account_id]

    async def transfer_in(self, s: AsyncSession, request: TransferRequest) -> Transfer:
        """Record a transfer inside the caller's unit of work (several transfers commit as one)."""
        if self._pg:
            row = (await s.execute(_PG_TRANSFER, self._params(request))).one()
            return self._pg_answer(request, row)
        return await self._transfer_python(s, request)

    async def _transfer_autocommit(self, request: TransferRequest) -> Transfer:
        params = self._params(request)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                assert self._auto is not None
                async with self._auto.connect() as conn:
                    # asyncpg directly: SQLAlchemy's statement and result layers cost more
                    # interpreter time than the database spends on the transfer.
                    raw: Any = (await conn.get_raw_connection()).driver_connection
                    row = await raw.fetchrow(_PG_TRANSFER_RAW, *params.values())
                return self._pg_answer(request, row)
            except IntegrityError:
                return await self._answer_twin(request)
            except DBAPIError as exc:
                if not is_retryable(exc) or attempt == MAX_ATTEMPTS:
                    raise
            except Exception as exc:
                state = getattr(exc, "sqlstate", None)
                if state == UNIQUE_VIOLATION:
                    return await self._answer_twin(request)
                if state not in RETRYABLE_STATES or attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
        raise AssertionError("unreachable")

    async def _answer_twin(self, request: TransferRequest) -> Transfer:
        """A concurrent request with the same id won the insert: answer as a retry would."""
        async with self._db.transaction() as s:
            existing = await SqlLedgerRepository(s).transfer(request.id)
        if existing is None:
            raise LedgerError(f"transfer {request.id} clashed but is not recorded")
        return _existing_answer(existing, request)

    def _params(self, r: TransferRequest) -> dict[str, Any]:
        return {
            "id": r.id,
            "kind": r.kind.value,
            "debit": r.debit_account_id,
            "credit": r.credit_account_id,
            "amount": None if r.amount is None else r.amount.amount,
            "currency": None if r.amount is None else r.amount.currency,
            "pending": r.pending_id,
            "code": r.code,
            "reference": r.reference,
            "now": self._clock.now(),
        }

    def _pg_answer(self, request: TransferRequest, row: Any) -> Transfer:
        if not hasattr(row, "o_result"):  # an asyncpg Record: by key
            row = _Row(row)
        result = TransferResult(row.o_result)
        if result not in (TransferResult.OK, TransferResult.EXISTS):
            raise TransferRefusedError(request.id, result)
        return Transfer(
            id=request.id,
            kind=request.kind,
            debit_account_id=row.o_debit,
            credit_account_id=row.o_credit,
            amount=Money(Decimal(row.o_amount), row.o_currency),
            pending_id=request.pending_id,
            status=TransferStatus(row.o_status),
            code=request.code,
            reference=request.reference,
            created_at=row.o_created_at,
        )

    async def _transfer_python(self, s: AsyncSession, request: TransferRequest) -> Transfer:
        repo = SqlLedgerRepository(s)
        shape = validate_shape(request)
        pending: Transfer | None = None
        ids = [request.debit_account_id, request.credit_account_id]
        if shape is TransferResult.OK and request.pending_id is not None:
            pending = await repo.transfer(request.pending_id)
            if pending is not None:
                ids = [pending.debit_account_id, pending.credit_account_id]
        locked = await repo.lock_accounts(ids)
        existing = await repo.transfer(request.id)
        if existing is not None:
            return _existing_answer(existing, request)
        if shape is not TransferResult.OK:
            raise TransferRefusedError(request.id, shape)
        if pending is not None:
            pending = await repo.transfer(pending.id, lock=True)
        debit = locked.get(ids[0]) if ids[0] is not None else None
        credit = locked.get(ids[1]) if ids[1] is not None else None
        decision = decide(request, debit, credit, pending)
        if decision.result is not TransferResult.OK:
            raise TransferRefusedError(request.id, decision.result)
        assert decision.debit is not None
        assert decision.credit is not None
        assert decision.amount is not None
        status = {
            TransferKind.PENDING: TransferStatus.PENDING,
            TransferKind.VOID_PENDING: TransferStatus.VOIDED,
        }.get(request.kind, TransferStatus.POSTED)
        transfer = Transfer(
            id=request.id,
            kind=request.kind,
            debit_account_id=decision.debit.id,
            credit_account_id=decision.credit.id,
            amount=decision.amount,
            pending_id=request.pending_id,
            status=status,
            code=request.code,
            reference=request.reference,
            created_at=self._clock.now(),
        )
        await repo.add_transfer(transfer)
        await repo.save_balances(decision.debit)
        await repo.save_balances(decision.credit)
        if pending is not None:
            await repo.set_status(pending.id, status)
        return transfer

    async def get_transfer(self, transfer_id: uuid.UUID) -> Transfer | None:
        async with self._db.transaction() as s:
            return await SqlLedgerRepository(s).transfer(transfer_id)

    async def transfers(self, **filters: Any) -> list[Transfer]:
        """The journal, filtered as `SqlLedgerRepository.transfers` allows."""
        async with self._db.transaction() as s:
            return await SqlLedgerRepository(s).transfers(**filters)

    # ---------------------------------------------------------------- the books

    async def check(self) -> LedgerReport:
        """Recompute every balance from the transfers and compare with the running sums.

        Read in one transaction with the accounts locked, so no transfer lands in between.
        """
        async with self._db.transaction() as s:
            repo = SqlLedgerRepository(s)
            accounts = await repo.lock_all_accounts()
            journal = await repo.transfers()
        return LedgerReport(len(accounts), len(journal), check(accounts, journal), totals(accounts))

    async def rebuild(self) -> LedgerReport:
        """Overwrite the running sums with the replay of the transfers (after a repair)."""
        async with self._db.transaction() as s:
            repo = SqlLedgerRepository(s)
            accounts = await repo.lock_all_accounts()
            journal = await repo.transfers()
            replayed = replay(journal)
            found = check(accounts, journal)
            fixed = [a.with_balances(replayed.get(a.id, Balances())) for a in accounts]
            for mismatch in found:
                if mismatch.problem == "sums":
                    await repo.save_balances(next(a for a in fixed if a.id == mismatch.account_id))
        return LedgerReport(
            len(accounts), len(journal), found, totals(fixed), [a.code for a in over_limit(fixed)]
        )


class _Row:
    def __init__(self, record: Any) -> None:
        self._r = record

    def __getattr__(self, name: str) -> Any:
        return self._r[name]


def _existing_answer(existing: Transfer, request: TransferRequest) -> Transfer:
    if not existing.same_request(request):
        raise TransferRefusedError(request.id, TransferResult.EXISTS_WITH_DIFFERENT_FIELDS)
    return existing
