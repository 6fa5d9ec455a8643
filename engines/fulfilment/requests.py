"""Dispatch requests: what an order's workflow asked the warehouse, the router and the drivers for.

A row per order and step, written once (in the transaction that records the activity's effect,
so a retried activity neither repeats nor loses it). The day planner reads them: it routes and
waves only orders their workflow released, so an order still waiting for its money or refused
credit never reaches a picker or a driver.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from engines.fulfilment.tables import dispatch_requests


class DispatchStep(StrEnum):
    WAVE = "wave"  # released to the warehouse: the next wave plan may pick it
    ROUTE = "route"  # registered for the region's next route plan
    DRIVER = "driver"  # its route should be offered to a driver now


class SqlDispatchRequests:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def add_in(
        s: AsyncSession, reference: str, region: str, step: DispatchStep, at: datetime
    ) -> bool:
        """Record the request in the caller's transaction; False when it was there already."""
        found = await s.scalar(
            select(dispatch_requests.c.order_reference).where(
                dispatch_requests.c.order_reference == reference.upper(),
                dispatch_requests.c.step == step.value,
            )
        )
        if found is not None:
            return False
        await s.execute(
            dispatch_requests.insert().values(
                order_reference=reference.upper(), step=step.value, region=region, requested_at=at
            )
        )
        return True

    async def add(self, reference: str, region: str, step: DispatchStep, at: datetime) -> bool:
        async with self._db.transaction() as s:
            return await self.add_in(s, reference, region, step, at)

    async def released(self, references: Iterable[str]) -> set[str]:
        """Which of these orders their workflow released to the warehouse or to routing."""
        wanted = [r.upper() for r in references]
        if not wanted:
            return set()
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(dispatch_requests.c.order_reference)
                .where(dispatch_requests.c.order_reference.in_(wanted))
                .where(
                    dispatch_requests.c.step.in_(
                        [DispatchStep.WAVE.value, DispatchStep.ROUTE.value]
                    )
                )
            )
            return {r.order_reference for r in rows}

    async def steps(self, reference: str) -> list[DispatchStep]:
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(dispatch_requests.c.step)
                .where(dispatch_requests.c.order_reference == reference.upper())
                .order_by(dispatch_requests.c.requested_at, dispatch_requests.c.step)
            )
            return [DispatchStep(r.step) for r in rows]
