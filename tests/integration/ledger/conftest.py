"""A ledger service over each database (the parametrised `any_database_url`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.clock import SteppedClock
from core.db import Database
from core.ids import RandomIds
from engines.ledger import LedgerService


@pytest.fixture
async def db(any_database_url: str) -> AsyncIterator[Database]:
    database = Database(any_database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def ledger(db: Database) -> AsyncIterator[LedgerService]:
    service = LedgerService(db, SteppedClock(), RandomIds())
    yield service
    await service.close()
