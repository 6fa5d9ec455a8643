"""The async database: one engine per process, short transactions, retried on conflicts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
MAX_ATTEMPTS = 5

T = TypeVar("T")


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    for attr in ("sqlstate", "pgcode"):
        code = getattr(orig, attr, None) or getattr(getattr(orig, "__cause__", None), attr, None)
        if isinstance(code, str):
            return code
    return None


def is_retryable(exc: BaseException) -> bool:
    """Serialisation failures and deadlocks: YugabyteDB and PostgreSQL ask the client to retry."""
    if isinstance(exc, DBAPIError):
        if _sqlstate(exc) in {SERIALIZATION_FAILURE, DEADLOCK_DETECTED}:
            return True
        return "database is locked" in str(exc.orig)
    return False


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": 30} if self.dialect == "sqlite" else {}
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, connect_args=connect_args)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = asyncio.Lock()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that writes at once; on SQLite the process's writers take turns.

        SQLite lets one writer at a time; others sleep in its busy handler (1 ms growing to
        100 ms a nap) however soon the lock frees, and under load that made some USSD turns wait
        most of a second. Queued on an asyncio lock instead, each writer starts the moment the
        previous one commits. Other databases lock rows, not the file: no queue there.
        """
        if self.dialect != "sqlite":
            async with self.transaction() as session:
                yield session
            return
        async with self._writer, self.transaction() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work; commits on success, rolls back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def retrying(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a transaction, retrying on serialisation failure with jittered back-off."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.transaction() as session:
                    return await work(session)
            except DBAPIError as exc:
                if not is_retryable(exc) or attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
        raise AssertionError("unreachable")

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
