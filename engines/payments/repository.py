"""SQLAlchemy adapter for payment intents, applied callbacks and virtual accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import Money
from core.phone import Phone
from engines.payments.model import (
    OPEN_STATUSES,
    Direction,
    IntentStatus,
    Method,
    PaymentIntent,
    VirtualAccount,
)
from engines.payments.tables import payment_callbacks, payment_intents, virtual_accounts


class SqlPaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, intent: PaymentIntent) -> None:
        await self._s.execute(insert(payment_intents).values(**_row(intent)))

    async def save(self, intent: PaymentIntent, expected: IntentStatus) -> bool:
        """Write the intent only if nobody moved it meanwhile (compare-and-set on status)."""
        values = _row(intent)
        del values["id"]
        result = await self._s.execute(
            update(payment_intents)
            .where(payment_intents.c.id == intent.id, payment_intents.c.status == expected.value)
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(self, intent_id: uuid.UUID, status: IntentStatus, now: datetime) -> None:
        """Mark the intent checked (its status unchanged) so the requery moves on to others."""
        await self._s.execute(
            update(payment_intents)
            .where(payment_intents.c.id == intent_id, payment_intents.c.status == status.value)
            .values(updated_at=now)
        )

    async def hold(self, intent_id: uuid.UUID) -> None:
        """Write the intent's row without changing it: the transaction holds it (PostgreSQL's
        row lock; on SQLite the database's write lock) until it ends."""
        await self._s.execute(
            update(payment_intents)
            .where(payment_intents.c.id == intent_id)
            .values(updated_at=payment_intents.c.updated_at)
        )

    async def get(self, intent_id: uuid.UUID, *, lock: bool = False) -> PaymentIntent | None:
        query = select(payment_intents).where(payment_intents.c.id == intent_id)
        if lock and self._s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _intent(row) if row is not None else None

    async def receipts(self, provider: str, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The receipts the provider gave these intents (those it gave one)."""
        rows = await self._s.execute(
            select(payment_intents.c.id, payment_intents.c.receipt).where(
                payment_intents.c.provider == provider,
                payment_intents.c.id.in_(ids),
                payment_intents.c.receipt.is_not(None),
            )
        )
        return {r.id: r.receipt for r in rows if r.receipt}

    async def by_key(self, key: str) -> PaymentIntent | None:
        row = (
            await self._s.execute(
                select(payment_intents).where(payment_intents.c.idempotency_key == key)
            )
        ).first()
        return _intent(row) if row is not None else None

    async def by_provider_reference(self, provider: str, reference: str) -> PaymentIntent | None:
        row = (
            await self._s.execute(
                select(payment_intents).where(
                    payment_intents.c.provider == provider,
                    payment_intents.c.provider_reference == reference,
                )
            )
        ).first()
        return _intent(row) if row is not None else None

    async def for_order(self, order_reference: str) -> list[PaymentIntent]:
        rows = (
            await self._s.execute(
                select(payment_intents)
                .where(payment_intents.c.order_reference == order_reference)
                .order_by(payment_intents.c.created_at, payment_intents.c.id)
            )
        ).all()
        return [_intent(r) for r in rows]

    async def refunds_of(self, original: PaymentIntent) -> list[PaymentIntent]:
        """The refunds asked for against a collected intent (any status)."""
        rows = (
            await self._s.execute(
                select(payment_intents).where(
                    payment_intents.c.direction == "refund",
                    payment_intents.c.customer == original.customer.e164,
                )
            )
        ).all()
        return [i for i in map(_intent, rows) if i.refund_of == original.id]

    async def for_orders(self, order_references: Sequence[str]) -> list[PaymentIntent]:
        """Every intent of these orders in one query (a page of orders in GraphQL)."""
        if not order_references:
            return []
        rows = (
            await self._s.execute(
                select(payment_intents)
                .where(payment_intents.c.order_reference.in_(list(order_references)))
                .order_by(payment_intents.c.created_at, payment_intents.c.id)
            )
        ).all()
        return [_intent(r) for r in rows]

    async def open_for_customer(
        self, customer: Phone, method: Method, provider: str
    ) -> list[PaymentIntent]:
        rows = (
            await self._s.execute(
                select(payment_intents)
                .where(
                    payment_intents.c.customer == customer.e164,
                    payment_intents.c.method == method.value,
                    payment_intents.c.provider == provider,
                    payment_intents.c.status.in_([s.value for s in OPEN_STATUSES]),
                )
                .order_by(payment_intents.c.created_at, payment_intents.c.id)
            )
        ).all()
        return [_intent(r) for r in rows]

    async def unsettled(self, updated_before: datetime, limit: int) -> list[PaymentIntent]:
        """Open intents nobody has heard about since `updated_before`: the requery's work."""
        rows = (
            await self._s.execute(
                select(payment_intents)
                .where(
                    payment_intents.c.status.in_([s.value for s in OPEN_STATUSES]),
                    payment_intents.c.updated_at <= updated_before,
                )
                .order_by(payment_intents.c.updated_at, payment_intents.c.id)
                .limit(limit)
            )
        ).all()
        return [_intent(r) for r in rows]

    async def open_refunds(self) -> list[PaymentIntent]:
        """Refunds asked for and not settled yet, oldest first."""
        rows = (
            await self._s.execute(
                select(payment_intents)
                .where(
                    payment_intents.c.direction == Direction.REFUND.value,
                    payment_intents.c.status.in_([s.value for s in OPEN_STATUSES]),
                )
                .order_by(payment_intents.c.created_at, payment_intents.c.id)
            )
        ).all()
        return [_intent(r) for r in rows]

    async def claim_callback(
        self, provider: str, event_id: str, intent_id: uuid.UUID | None, now: datetime
    ) -> bool:
        """Record a callback as applied; False when it already was (a redelivery)."""
        seen = await self._s.scalar(
            select(payment_callbacks.c.event_id).where(
                payment_callbacks.c.provider == provider,
                payment_callbacks.c.event_id == event_id,
            )
        )
        if seen is not None:
            return False
        # The primary key makes a concurrent duplicate fail at insert, rolling back its effect.
        await self._s.execute(
            insert(payment_callbacks).values(
                provider=provider, event_id=event_id, intent_id=intent_id, received_at=now
            )
        )
        return True

    async def virtual_account(self, customer: Phone, provider: str) -> VirtualAccount | None:
        row = (
            await self._s.execute(
                select(virtual_accounts).where(
                    virtual_accounts.c.customer == customer.e164,
                    virtual_accounts.c.provider == provider,
                )
            )
        ).first()
        return _account(row) if row is not None else None

    async def virtual_account_by_number(
        self, provider: str, account_number: str
    ) -> VirtualAccount | None:
        row = (
            await self._s.execute(
                select(virtual_accounts).where(
                    virtual_accounts.c.provider == provider,
                    virtual_accounts.c.account_number == account_number,
                )
            )
        ).first()
        return _account(row) if row is not None else None

    async def add_virtual_account(self, account: VirtualAccount, now: datetime) -> None:
        await self._s.execute(
            insert(virtual_accounts).values(
                customer=account.customer.e164,
                provider=account.provider,
                account_number=account.account_number,
                account_name=account.account_name,
                bank_name=account.bank_name,
                provider_customer=account.provider_customer,
                created_at=now,
            )
        )


def _row(intent: PaymentIntent) -> dict[str, Any]:
    return {
        "id": intent.id,
        "idempotency_key": intent.idempotency_key,
        "fingerprint": intent.fingerprint,
        "direction": intent.direction.value,
        "method": intent.method.value,
        "provider": intent.provider,
        "customer": intent.customer.e164,
        "order_reference": intent.order_reference,
        "currency": intent.amount.currency,
        "amount": intent.amount.amount,
        "description": intent.description,
        "status": intent.status.value,
        "provider_reference": intent.provider_reference,
        "receipt": intent.receipt,
        "failure_reason": intent.failure_reason,
        "details": dict(intent.details),
        "bank_account": intent.bank_account,
        "bank_code": intent.bank_code,
        "created_at": intent.created_at,
        "updated_at": intent.updated_at,
    }


def _intent(r: Any) -> PaymentIntent:
    return PaymentIntent(
        id=r.id,
        idempotency_key=r.idempotency_key,
        fingerprint=r.fingerprint,
        direction=Direction(r.direction),
        method=Method(r.method),
        provider=r.provider,
        customer=Phone(r.customer),
        amount=Money(r.amount, r.currency),
        status=IntentStatus(r.status),
        created_at=r.created_at,
        updated_at=r.updated_at,
        order_reference=r.order_reference,
        description=r.description,
        provider_reference=r.provider_reference,
        receipt=r.receipt,
        failure_reason=r.failure_reason,
        details={str(k): str(v) for k, v in (r.details or {}).items()},
        bank_account=r.bank_account,
        bank_code=r.bank_code,
    )


def _account(r: Any) -> VirtualAccount:
    return VirtualAccount(
        customer=Phone(r.customer),
        provider=r.provider,
        account_number=r.account_number,
        account_name=r.account_name,
        bank_name=r.bank_name,
        provider_customer=r.provider_customer,
    )


def intents_of(rows: Sequence[Any]) -> list[PaymentIntent]:
    return [_intent(r) for r in rows]
