"""The async database: one engine per process, short transactions, retried on conflicts."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.db.prepared import Prepared

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
# Connections kept open: with SQLAlchemy's default of 5, a burst of concurrent USSD turns
# opened and closed an overflow connection per statement (a TCP connect and a PostgreSQL
# backend each time). Twenty idle connections cost the server little.
POOL_SIZE = 20
# Connections opened beyond the pool for a burst; each is closed again when it is given back,
# so a gateway that often needs them pays a connect (and a server backend) per statement:
# size the pool to the concurrency instead (OMNIROUTE_DATABASE_POOL_SIZE).
MAX_OVERFLOW = 10

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


# The server could not be reached or went away: SQLSTATE class 08 (connection exception), and
# the server shutting down (57P01, 57P02) or not up yet (57P03), as in a restart or failover.
UNAVAILABLE_CLASS = "08"
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached (down, restarting, failing over): the statement was
    not at fault, and the same one succeeds once the server is back."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        code = _sqlstate(exc)
        return code is not None and (
            code.startswith(UNAVAILABLE_CLASS) or code in UNAVAILABLE_SQLSTATES
        )
    return False


class Database:
    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = POOL_SIZE,
        max_overflow: int = MAX_OVERFLOW,
    ) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # An in-memory database lives in one connection: the statements below go through it.
        self._sqlite_memory = self.dialect == "sqlite" and parsed.database in (None, "", ":memory:")
        connect_args = {"timeout": 30} if self.dialect == "sqlite" else {}
        pool = (
            {}
            if self.dialect == "sqlite"
            else {"pool_size": pool_size, "max_overflow": max_overflow}
        )
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, connect_args=connect_args, **pool
        )
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._hot: aiosqlite.Connection | None = None
        self._inline_connection: sqlite3.Connection | None = None
        self._hot_opening = asyncio.Lock()

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

    async def fetch(self, prepared: Prepared, **values: Any) -> list[tuple[Any, ...]]:
        """The rows of one read-only statement, outside any unit of work (hot reads)."""
        if self._sqlite_memory:
            async with self.engine.begin() as conn:
                return [tuple(r) for r in await conn.execute(prepared.statement("sqlite"), values)]
        if self.dialect == "sqlite":
            compiled = prepared.compiled(self.engine.dialect)
            parameters = compiled.parameters(values)
            try:
                rows = self._inline().execute(compiled.sql, parameters).fetchall()
                return [compiled.row(row) for row in rows]
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
            hot = await self._hot_connection()
            fetched = await hot.execute_fetchall(compiled.sql, parameters)
            return [compiled.row(row) for row in fetched]

        # Through SQLAlchemy for its result types (numeric, JSON), but in autocommit: one round
        # trip, no BEGIN and no ROLLBACK on check-in.
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self._autocommit.connect() as conn:
                    result = await conn.execute(prepared.statement(self.dialect), values)
                    return [tuple(row) for row in result]
            except DBAPIError as exc:
                if not is_retryable(exc) or attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
        raise AssertionError("unreachable")

    async def execute(self, prepared: Prepared, **values: Any) -> int:
        """Run one write statement as its own transaction; the number of rows it touched."""
        if self._sqlite_memory:
            async with self.engine.begin() as conn:
                result = await conn.execute(prepared.statement("sqlite"), values)
                return int(result.rowcount)
        compiled = prepared.compiled(self.engine.dialect)
        if self.dialect == "sqlite":
            # Autocommit: the statement is its own transaction, in one call to the driver.
            parameters = compiled.parameters(values)
            try:
                return self._inline().execute(compiled.sql, parameters).rowcount
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
            hot = await self._hot_connection()
            async with hot.execute(compiled.sql, parameters) as cursor:
                return cursor.rowcount

        async def work(driver: Any) -> int:
            status = await driver.execute(compiled.sql, *compiled.parameters(values))
            # asyncpg answers with the command tag: "INSERT 0 1", "DELETE 1", "UPDATE 0".
            return int(str(status).rsplit(" ", 1)[-1])

        return await self._driver(work)

    async def _driver(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run `work` on a pooled connection's driver (asyncpg), in autocommit: one statement,
        one round trip, no BEGIN/COMMIT. Retried on serialisation failures like `retrying`."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.engine.connect() as conn:
                    driver = (await conn.get_raw_connection()).driver_connection
                    return await work(driver)
            except Exception as exc:
                code = getattr(exc, "sqlstate", None)
                if code not in {SERIALIZATION_FAILURE, DEADLOCK_DETECTED}:
                    raise
                if attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
        raise AssertionError("unreachable")

    def _inline(self) -> sqlite3.Connection:
        """SQLite: a connection used on the event loop's own thread, that never waits for a lock.

        Under load, a call through aiosqlite's thread waited for the interpreter lock twice (to
        start, and to hand the answer back), milliseconds each with the loop busy: far more than
        the statement (a point read is some 20 µs, a WAL write without fsync some 100 µs). So
        `fetch` and `execute` run here first, with a zero busy timeout: when another writer holds
        the lock SQLite answers "database is locked" at once, and the statement goes through the
        aiosqlite connection instead, which waits its turn off the loop.
        """
        if self._inline_connection is None:
            path = make_url(self.url).database or ":memory:"
            conn = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
            # synchronous is per connection: without NORMAL every write here fsyncs the WAL
            # (some 0.4 ms a cart save); the pool's connections already run with it.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._inline_connection = conn
        return self._inline_connection

    async def _hot_connection(self) -> aiosqlite.Connection:
        """SQLite: one autocommit connection beside the pool for `fetch` and `execute`."""
        if self._hot is None:
            async with self._hot_opening:
                if self._hot is None:
                    path = make_url(self.url).database or ":memory:"
                    hot = await aiosqlite.connect(path, isolation_level=None, timeout=30)
                    await hot.execute("PRAGMA synchronous=NORMAL")
                    await hot.execute("PRAGMA foreign_keys=ON")
                    await hot.execute("PRAGMA busy_timeout=30000")
                    self._hot = hot
        return self._hot

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        if self._inline_connection is not None:
            inline, self._inline_connection = self._inline_connection, None
            inline.close()
        if self._hot is not None:
            hot, self._hot = self._hot, None
            await hot.close()
        await self.engine.dispose()


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
