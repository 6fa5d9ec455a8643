"""Each activity's effect at most once: the effect and its key commit in one transaction.

A retried activity (a worker killed after the effect but before Temporal heard of it) finds its
key and gets the first answer back instead of doing the work again. Effects outside the
database (a payment rail) cannot share the transaction; their adapters pass the same key to the
provider as its idempotency key and record the provider's answer here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Database
from engines.fulfilment.tables import workflow_effects

Result = dict[str, Any]


class SqlEffectLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    @property
    def db(self) -> Database:
        return self._db

    async def once(
        self, key: str, work: Callable[[AsyncSession], Awaitable[Result]]
    ) -> tuple[Result, bool]:
        """Run `work` unless `key` was done; (its result, whether it ran now)."""

        async def attempt(s: AsyncSession) -> tuple[Result, bool]:
            found = await self.recorded_in(s, key)
            if found is not None:
                return found, False
            result = await work(s)
            await s.execute(
                workflow_effects.insert().values(
                    key=key, result=result, recorded_at=self._clock.now()
                )
            )
            return result, True

        try:
            return await self._db.retrying(attempt)
        except IntegrityError:
            # A concurrent duplicate (two attempts racing) committed first: its answer stands.
            found = await self.recorded(key)
            if found is None:
                raise
            return found, False

    async def recorded(self, key: str) -> Result | None:
        async with self._db.transaction() as s:
            return await self.recorded_in(s, key)

    @staticmethod
    async def recorded_in(s: AsyncSession, key: str) -> Result | None:
        found = await s.scalar(
            select(workflow_effects.c.result).where(workflow_effects.c.key == key)
        )
        return None if found is None else dict(found)

    async def matching(
        self, pattern: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[str, Result]]:
        """Effects whose key is LIKE `pattern`, recorded in [since, until), oldest first."""
        query = select(workflow_effects.c.key, workflow_effects.c.result).where(
            workflow_effects.c.key.like(pattern)
        )
        if since is not None:
            query = query.where(workflow_effects.c.recorded_at >= since)
        if until is not None:
            query = query.where(workflow_effects.c.recorded_at < until)
        async with self._db.transaction() as s:
            rows = await s.execute(
                query.order_by(workflow_effects.c.recorded_at, workflow_effects.c.key)
            )
            return [(r.key, dict(r.result)) for r in rows]
