"""Payout orders: one payout to a driver or an agent, followed across attempts and rails.

A payout is `queued` until it is sent; `held` when a person must act first (no bank account,
or the bank's account name is not the payee's); `sending` while one attempt's payment intent is
with the rail (the ledger holds the amount); `retrying` after the rail refused an attempt,
until `next_attempt_at`; then `paid`, or `failed` when the attempts are spent or the rail never
answered. Every change is a compare-and-set on (status, attempts), so two runners (two gateway
replicas, a CLI beside the periodic loop) never send the same attempt twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.settlement.tables import payout_orders


class PayoutOrderStatus(StrEnum):
    QUEUED = "queued"
    HELD = "held"
    SENDING = "sending"
    RETRYING = "retrying"
    PAID = "paid"
    FAILED = "failed"


SENDABLE = frozenset({PayoutOrderStatus.QUEUED, PayoutOrderStatus.HELD})


@dataclass(frozen=True, slots=True)
class PayoutOrder:
    id: uuid.UUID
    source: str  # what is being paid: "gig:<payout id>", "atc:<agent>:<day>"
    role: str
    person: Phone
    region: RegionCode
    amount: Money
    status: PayoutOrderStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    intent_id: uuid.UUID | None = None
    reason: str | None = None
    next_attempt_at: datetime | None = None

    def hold_reference(self, attempt: int | None = None) -> str:
        """The ledger reference of an attempt's hold (the first keeps the bare source)."""
        n = self.attempts if attempt is None else attempt
        return self.source if n <= 1 else f"{self.source}#{n}"

    def intent_key(self, attempt: int) -> str:
        return f"payout:{self.id}:{attempt}"


def backoff(base: timedelta, attempts: int) -> timedelta:
    """Wait base, 2 x base, 4 x base … after the 1st, 2nd, 3rd failed attempt."""
    return base * int(2 ** max(0, attempts - 1))


class PayoutOrders:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, order: PayoutOrder) -> PayoutOrder:
        """Record the payout once per source; a repeat answers the first record."""
        found = await self.by_source(order.source)
        if found is not None:
            return found
        try:
            async with self._db.transaction() as s:
                await s.execute(payout_orders.insert().values(**_row(order)))
        except IntegrityError:
            pass  # recorded concurrently
        found = await self.by_source(order.source)
        assert found is not None
        return found

    async def by_source(self, source: str) -> PayoutOrder | None:
        return await self._one(payout_orders.c.source == source)

    async def get(self, order_id: uuid.UUID) -> PayoutOrder | None:
        return await self._one(payout_orders.c.id == order_id)

    async def by_intent(self, intent_id: uuid.UUID) -> PayoutOrder | None:
        return await self._one(payout_orders.c.intent_id == intent_id)

    async def of_person(self, person: Phone) -> list[PayoutOrder]:
        return await self._many(payout_orders.c.person == person.e164)

    async def due(self, now: datetime) -> list[PayoutOrder]:
        """Payouts whose next attempt is due."""
        return await self._many(
            payout_orders.c.status == PayoutOrderStatus.RETRYING.value,
            payout_orders.c.next_attempt_at <= now,
        )

    async def sending_since(self, cutoff: datetime) -> list[PayoutOrder]:
        """Attempts with the rail since before `cutoff`: the rail has not answered."""
        return await self._many(
            payout_orders.c.status == PayoutOrderStatus.SENDING.value,
            payout_orders.c.updated_at <= cutoff,
        )

    async def move(self, before: PayoutOrder, after: PayoutOrder) -> bool:
        """Compare-and-set: False when someone else moved the payout first."""
        async with self._db.transaction() as s:
            done = await s.execute(
                update(payout_orders)
                .where(
                    payout_orders.c.id == before.id,
                    payout_orders.c.status == before.status.value,
                    payout_orders.c.attempts == before.attempts,
                )
                .values(
                    status=after.status.value,
                    attempts=after.attempts,
                    intent_id=after.intent_id,
                    reason=after.reason,
                    next_attempt_at=after.next_attempt_at,
                    amount=after.amount.amount,
                    updated_at=after.updated_at,
                )
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    async def _one(self, *where: Any) -> PayoutOrder | None:
        async with self._db.transaction() as s:
            row = (await s.execute(select(payout_orders).where(*where))).first()
        return None if row is None else _order(row)

    async def _many(self, *where: Any) -> list[PayoutOrder]:
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(payout_orders)
                .where(*where)
                .order_by(payout_orders.c.created_at, payout_orders.c.id)
            )
            return [_order(r) for r in rows]


def moved(order: PayoutOrder, now: datetime, **changes: Any) -> PayoutOrder:
    return replace(order, updated_at=now, **changes)


def _row(o: PayoutOrder) -> dict[str, Any]:
    return {
        "id": o.id,
        "source": o.source,
        "role": o.role,
        "person": o.person.e164,
        "region": o.region.value,
        "currency": o.amount.currency,
        "amount": o.amount.amount,
        "status": o.status.value,
        "attempts": o.attempts,
        "intent_id": o.intent_id,
        "reason": o.reason,
        "next_attempt_at": o.next_attempt_at,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    }


def _order(r: Any) -> PayoutOrder:
    return PayoutOrder(
        id=r.id,
        source=r.source,
        role=r.role,
        person=Phone(r.person),
        region=RegionCode(r.region),
        amount=Money(r.amount, r.currency),
        status=PayoutOrderStatus(r.status),
        attempts=r.attempts,
        created_at=r.created_at,
        updated_at=r.updated_at,
        intent_id=r.intent_id,
        reason=r.reason,
        next_attempt_at=r.next_attempt_at,
    )
