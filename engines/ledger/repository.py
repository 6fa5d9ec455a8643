"""SQL adapter of the ledger: explicit row <-> model mapping, row locks in id order."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import Money
from engines.ledger.model import (
    Account,
    AccountFlags,
    AccountType,
    Balances,
    Transfer,
    TransferKind,
    TransferStatus,
)
from engines.ledger.tables import ledger_accounts, ledger_transfers


def account_of(r: Any) -> Account:
    return Account(
        id=r.id,
        code=r.code,
        type=AccountType(r.type),
        currency=r.currency,
        flags=AccountFlags(r.flags),
        balance_limit=Decimal(r.balance_limit),
        balances=Balances(
            Decimal(r.debits_pending),
            Decimal(r.debits_posted),
            Decimal(r.credits_pending),
            Decimal(r.credits_posted),
        ),
    )


def transfer_of(r: Any) -> Transfer:
    return Transfer(
        id=r.id,
        kind=TransferKind(r.kind),
        debit_account_id=r.debit_account_id,
        credit_account_id=r.credit_account_id,
        amount=Money(Decimal(r.amount), r.currency),
        pending_id=r.pending_id,
        status=TransferStatus(r.status),
        code=r.code,
        reference=r.reference,
        created_at=r.created_at,
    )


class SqlLedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_account(self, account: Account, now: datetime) -> None:
        b = account.balances
        await self._s.execute(
            ledger_accounts.insert().values(
                id=account.id,
                code=account.code,
                type=account.type.value,
                currency=account.currency,
                flags=int(account.flags),
                balance_limit=account.balance_limit,
                debits_pending=b.debits_pending,
                debits_posted=b.debits_posted,
                credits_pending=b.credits_pending,
                credits_posted=b.credits_posted,
                created_at=now,
            )
        )

    async def account_by_code(self, code: str) -> Account | None:
        row = (
            await self._s.execute(select(ledger_accounts).where(ledger_accounts.c.code == code))
        ).first()
        return None if row is None else account_of(row)

    async def accounts_by_id(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Account]:
        rows = await self._s.execute(
            select(ledger_accounts).where(ledger_accounts.c.id.in_(list(ids)))
        )
        return {r.id: account_of(r) for r in rows}

    async def accounts(self, *, prefix: str | None = None) -> list[Account]:
        query = select(ledger_accounts).order_by(ledger_accounts.c.id)
        if prefix is not None:
            query = query.where(ledger_accounts.c.code.startswith(prefix, autoescape=True))
        return [account_of(r) for r in await self._s.execute(query)]

    async def lock_accounts(self, ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, Account]:
        """Lock the accounts for this transaction, always in id order (no lock cycles).

        PostgreSQL: SELECT … FOR UPDATE. SQLite has no row locks: a no-op UPDATE takes the
        database's write lock at once, so two writers queue instead of failing on upgrade.
        """
        wanted = sorted({i for i in ids if i is not None})
        if self._s.get_bind().dialect.name == "sqlite":
            await self._s.execute(
                update(ledger_accounts)
                .where(ledger_accounts.c.id.in_(wanted))
                .values(flags=ledger_accounts.c.flags)
            )
        rows = await self._s.execute(
            select(ledger_accounts)
            .where(ledger_accounts.c.id.in_(wanted))
            .order_by(ledger_accounts.c.id)
            .with_for_update()
        )
        return {r.id: account_of(r) for r in rows}

    async def lock_all_accounts(self) -> list[Account]:
        if self._s.get_bind().dialect.name == "sqlite":
            await self._s.execute(update(ledger_accounts).values(flags=ledger_accounts.c.flags))
        rows = await self._s.execute(
            select(ledger_accounts).order_by(ledger_accounts.c.id).with_for_update()
        )
        return [account_of(r) for r in rows]

    async def save_balances(self, account: Account) -> None:
        b = account.balances
        await self._s.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.id == account.id)
            .values(
                debits_pending=b.debits_pending,
                debits_posted=b.debits_posted,
                credits_pending=b.credits_pending,
                credits_posted=b.credits_posted,
            )
        )

    async def set_limit(self, account_id: uuid.UUID, limit: Decimal) -> None:
        await self._s.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.id == account_id)
            .values(balance_limit=limit)
        )

    async def transfer(self, transfer_id: uuid.UUID, *, lock: bool = False) -> Transfer | None:
        query = select(ledger_transfers).where(ledger_transfers.c.id == transfer_id)
        if lock:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return None if row is None else transfer_of(row)

    async def add_transfer(self, t: Transfer) -> None:
        await self._s.execute(
            ledger_transfers.insert().values(
                id=t.id,
                kind=t.kind.value,
                debit_account_id=t.debit_account_id,
                credit_account_id=t.credit_account_id,
                amount=t.amount.amount,
                currency=t.amount.currency,
                pending_id=t.pending_id,
                status=t.status.value,
                code=t.code,
                reference=t.reference,
                created_at=t.created_at,
            )
        )

    async def set_status(self, transfer_id: uuid.UUID, status: TransferStatus) -> None:
        await self._s.execute(
            update(ledger_transfers)
            .where(ledger_transfers.c.id == transfer_id)
            .values(status=status.value)
        )

    async def transfers(
        self,
        *,
        account_ids: Sequence[uuid.UUID] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        codes: Sequence[str] | None = None,
        reference: str | None = None,
    ) -> list[Transfer]:
        """Transfers in creation order, filtered; with no filter, the whole journal."""
        t = ledger_transfers.c
        query = select(ledger_transfers).order_by(t.created_at, t.id)
        if account_ids is not None:
            ids = list(account_ids)
            query = query.where(t.debit_account_id.in_(ids) | t.credit_account_id.in_(ids))
        if since is not None:
            query = query.where(t.created_at >= since)
        if until is not None:
            query = query.where(t.created_at < until)
        if codes is not None:
            query = query.where(t.code.in_(list(codes)))
        if reference is not None:
            query = query.where(t.reference == reference)
        return [transfer_of(r) for r in await self._s.execute(query)]
