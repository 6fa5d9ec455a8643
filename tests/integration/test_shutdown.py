"""Stopping the gateway closes everything it opened, even with a subscriber mid-pass.

The outbox relay lets a pass in flight finish when the gateway stops, and the subscribers it
runs (billing, payment posting, payouts) move money on the ledger's own autocommit connections.
Those must still be there until the relay has stopped: closing the ledger first left the late
transfer a fresh connection that nothing closed (PostgreSQL kept it, Python warned of it later).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core.app.bootstrap import build_services
from core.bus import EventEnvelope
from core.bus.events import DomainEvent
from core.bus.outbox import record
from core.config import Settings
from core.money import Money
from core.phone import Phone


class CountedAtClose(DomainEvent):
    topic: ClassVar[str] = "omniroute.tests.counted_at_close.v1"


async def connections_to(url: str) -> int:
    """Sessions other than this probe's on the test database."""
    probe = create_async_engine(url)
    try:
        async with probe.connect() as conn:
            found = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await probe.dispose()
    return int(found or 0)


async def test_a_gateway_stopped_while_a_subscriber_moves_money_leaves_no_connection_open(
    pg_database_url: str,
) -> None:
    settings = Settings(
        env="test",
        database_url=pg_database_url,
        session_url="memory://",
        events_url="memory://",
        temporal="off",
        _env_file=None,
    )
    services = build_services(settings)
    entered, go_on, posted = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def post_late(_envelope: EventEnvelope) -> None:
        entered.set()
        await go_on.wait()
        total = Money(Decimal("1500.00"), "NGN")
        await services.money.books.order_placed("CLOSE1", Phone("+2348030000001"), total)
        posted.set()

    services.bus.subscribe(CountedAtClose.topic, "tests-post-late", post_late)
    await services.start()
    async with services.db.transaction() as s:
        await record(
            s,
            CountedAtClose(event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), aggregate_id="x"),
        )
    services.relay.wake()
    await asyncio.wait_for(entered.wait(), 10)

    closing = asyncio.create_task(services.close())
    await asyncio.sleep(0.3)  # the gateway is stopping; the relay's pass is still in flight
    go_on.set()
    await asyncio.wait_for(closing, 30)

    assert posted.is_set()  # the pass in flight finished its work
    assert await connections_to(pg_database_url) == 0
