"""Consumer de-duplication: a redelivered event has no second effect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus.events import EventEnvelope
from core.bus.tables import processed_events
from core.clock import Clock
from core.db import Database


async def handle_once(
    db: Database,
    clock: Clock,
    consumer: str,
    envelope: EventEnvelope,
    work: Callable[[AsyncSession, EventEnvelope], Awaitable[None]],
) -> bool:
    """Run `work` and record the event in one transaction; False if it was already handled."""

    async def attempt(s: AsyncSession) -> bool:
        seen = await s.scalar(
            select(processed_events.c.event_id).where(
                processed_events.c.consumer == consumer,
                processed_events.c.event_id == envelope.event_id,
            )
        )
        if seen is not None:
            return False
        # The primary key makes a concurrent duplicate fail at insert, rolling back its work.
        await s.execute(
            processed_events.insert().values(
                consumer=consumer, event_id=envelope.event_id, processed_at=clock.now()
            )
        )
        await work(s, envelope)
        return True

    return await db.retrying(attempt)
