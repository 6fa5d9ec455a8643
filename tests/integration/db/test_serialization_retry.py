"""YugabyteDB and PostgreSQL ask clients to retry serialisation failures (SQLSTATE 40001)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database

pytestmark = pytest.mark.real


async def test_a_serialisation_conflict_is_retried_and_succeeds(pg_database_url: str) -> None:
    db = Database(pg_database_url)
    try:
        async with db.transaction() as s:
            await s.execute(text("CREATE TABLE tally (who text PRIMARY KEY, n int NOT NULL)"))
        both_read = asyncio.Barrier(2)
        attempts = {"a": 0, "b": 0}

        def writer(who: str):  # type: ignore[no-untyped-def]
            async def work(s: AsyncSession) -> int:
                attempts[who] += 1
                await s.execute(text("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"))
                total = await s.scalar(text("SELECT coalesce(sum(n), 0) FROM tally"))
                if attempts[who] == 1:
                    await both_read.wait()  # both read the same snapshot: a write skew
                await s.execute(
                    text("INSERT INTO tally VALUES (:who, :n)"), {"who": who, "n": int(total) + 1}
                )
                return int(total)

            return work

        results = await asyncio.gather(db.retrying(writer("a")), db.retrying(writer("b")))
        async with db.transaction() as s:
            rows = dict((await s.execute(text("SELECT who, n FROM tally"))).all())
    finally:
        await db.dispose()
    assert sorted(results) == [0, 1]  # the retried one saw the other's row
    assert sorted(rows.values()) == [1, 2]
    assert attempts["a"] + attempts["b"] == 3  # exactly one conflict, retried once
