"""A customer's order history, newest first, a page at a time (keyset, not offset)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from core.db import Database
from core.phone import Phone
from engines.orders.model import Order
from engines.orders.repository import SqlOrderRepository
from engines.orders.tables import orders


@dataclass(frozen=True, slots=True)
class HistoryCursor:
    """Where a page ended: the last order's creation time and id (ids break ties)."""

    created_at: datetime
    id: uuid.UUID


class OrderHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def page(
        self, customer: Phone, first: int, after: HistoryCursor | None = None
    ) -> tuple[list[Order], bool]:
        """Up to `first` orders after the cursor, and whether more follow.

        Two queries whatever the page size: the orders, then all their lines.
        """
        query = select(orders).where(orders.c.customer == customer.e164)
        if after is not None:
            query = query.where(
                or_(
                    orders.c.created_at < after.created_at,
                    and_(orders.c.created_at == after.created_at, orders.c.id < after.id),
                )
            )
        query = query.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(first + 1)
        async with self._db.transaction() as s:
            rows = (await s.execute(query)).all()
            found = await SqlOrderRepository(s)._hydrate(rows[:first])
        return found, len(rows) > first
