"""The gateway's connections to PostgreSQL: a burst of statements queues for the pool the
settings give it, and never opens more than the pool and its overflow."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from core.app.bootstrap import build_services
from core.config import Settings
from tests.support.servers import PostgresServer

pytestmark = pytest.mark.real

BURST = 24  # statements at once, well over the pool below


async def connections_to(server: PostgresServer, database: str) -> int:
    probe = await asyncpg.connect(server.dsn)
    try:
        count = await probe.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database
        )
        return int(count)
    finally:
        await probe.close()


@pytest.mark.parametrize(("pool_size", "max_overflow"), [(3, 0), (2, 2)])
async def test_a_burst_queues_for_the_pool_and_opens_no_more_than_it_allows(
    postgres_server: PostgresServer, tmp_path: Path, pool_size: int, max_overflow: int
) -> None:
    name = f"pool{pool_size}x{max_overflow}{abs(hash(tmp_path)) % 10**6}"
    url = postgres_server.create_database(name)
    settings = Settings(
        database_url=url,
        database_pool_size=pool_size,
        database_max_overflow=max_overflow,
        temporal="off",
        _env_file=None,
    )
    services = build_services(settings)
    seen: list[int] = []

    async def statement() -> int:
        async with services.db.engine.connect() as conn:
            return int((await conn.execute(text("SELECT 1 FROM pg_sleep(0.05)"))).scalar_one())

    burst_over = asyncio.Event()

    async def watch() -> None:
        # Stops between probes rather than being cancelled in one: each probe's connection is
        # closed by the probe itself.
        while not burst_over.is_set():
            seen.append(await connections_to(postgres_server, name))
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    try:
        answers = await asyncio.gather(*(statement() for _ in range(BURST)))
    finally:
        burst_over.set()
        await asyncio.gather(watcher, return_exceptions=True)
        await services.close()
    assert answers == [1] * BURST  # every statement ran: the rest waited their turn
    assert seen, "the watcher never looked"
    assert max(seen) <= pool_size + max_overflow
    assert max(seen) >= pool_size  # the burst did use the whole pool
